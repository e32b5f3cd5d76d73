"""API Gateway mapping templates as the local runner renders them (``local/vtl.py`` on airspeed-ext): the
AWS documentation's template examples, given their request, render what the documentation shows; what
cannot be rendered as API Gateway does is refused when the template is compiled; and a service integration
with a template using ``#foreach``, ``$input.params`` and ``$stageVariables`` puts its records on moto's
Kinesis through the runner.

Sources: "Example data models and mapping templates for API Gateway" (the photo album),
https://docs.aws.amazon.com/apigateway/latest/developerguide/example-photos.html; "Examples using variables
for mapping template transformations", .../api-gateway-mapping-variable-examples.html; "Variables for data
transformations", .../api-gateway-mapping-template-reference.html; "Tutorial: Create a REST API as an
Amazon SQS proxy", .../integrating-api-with-aws-services-sqs.html.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest

from lambda_patterns.local.api import Request, proxy_event
from lambda_patterns.local.api_spec import RestApiSpec, Route
from lambda_patterns.local.vtl import RenderContext, TemplateError, UnsupportedTemplate, compile_template


def _request_context(
    body: str,
    *,
    method: str = "POST",
    route: str = "/photos/{album}",
    path: str = "/photos/a-1",
    parameters: dict[str, str] | None = None,
    query: str = "",
    headers: list[tuple[str, str]] | None = None,
    stage_variables: dict[str, str] | None = None,
) -> RenderContext:
    """The context a method's template sees for this request, built as the API server builds it."""
    api = RestApiSpec(stack="S", logical_id="Api", api_id="abcd1234", name="Api", stage="prod", routes=[])
    request = Request(method, path, query, headers or [], body.encode(), "192.0.2.1")
    event = proxy_event(api, Route(route, resource_id="efg567"), parameters or {"album": "a-1"}, request)
    return RenderContext.from_event(event, body, "efg567", stage_variables)


# The photo album -------------------------------------------------------------------------------------

PHOTOS_BODY = {
    "photos": {
        "page": 1,
        "pages": "1234",
        "perpage": 100,
        "total": "123398",
        "photo": [
            {
                "id": "12345678901",
                "owner": "23456789@A12",
                "photographer_first_name": "Saanvi",
                "photographer_last_name": "Sarkar",
                "secret": "abc123d456",
                "server": "1234",
                "farm": 1,
                "title": "Sample photo 1",
                "ispublic": True,
                "isfriend": False,
                "isfamily": False,
            },
            {
                "id": "23456789012",
                "owner": "34567890@B23",
                "photographer_first_name": "Richard",
                "photographer_last_name": "Roe",
                "secret": "bcd234e567",
                "server": "2345",
                "farm": 2,
                "title": "Sample photo 2",
                "ispublic": True,
                "isfriend": False,
                "isfamily": False,
            },
        ],
    }
}
PHOTOS_TEMPLATE = """#set($inputRoot = $input.path('$'))
{
  "photos": [
#foreach($elem in $inputRoot.photos.photo)
    {
      "id": "$elem.id",
      "photographedBy": "$elem.photographer_first_name $elem.photographer_last_name",
      "title": "$elem.title",
      "ispublic": $elem.ispublic,
      "isfriend": $elem.isfriend,
      "isfamily": $elem.isfamily
    }#if($foreach.hasNext),#end

#end
  ]
}"""


def test_the_photo_album_template_renders_the_documented_output():
    rendered = compile_template(PHOTOS_TEMPLATE).render(RenderContext(json.dumps(PHOTOS_BODY)))

    assert json.loads(rendered) == {
        "photos": [
            {
                "id": "12345678901",
                "photographedBy": "Saanvi Sarkar",
                "title": "Sample photo 1",
                "ispublic": True,
                "isfriend": False,
                "isfamily": False,
            },
            {
                "id": "23456789012",
                "photographedBy": "Richard Roe",
                "title": "Sample photo 2",
                "ispublic": True,
                "isfriend": False,
                "isfamily": False,
            },
        ]
    }
    # Whitespace is compared parsed: the documentation shows the output reformatted, and the blank lines a
    # directive's line leaves are airspeed's, not known to be byte for byte API Gateway's.


# Examples using variables ----------------------------------------------------------------------------

ALL_PARAMS_TEMPLATE = """#set($allParams = $input.params())
{
  "params" : {
    #foreach($type in $allParams.keySet())
    #set($params = $allParams.get($type))
    "$type" : {
      #foreach($paramName in $params.keySet())
      "$paramName" : "$util.escapeJavaScript($params.get($paramName))"
      #if($foreach.hasNext),#end
      #end
    }
    #if($foreach.hasNext),#end
    #end
  }
}"""


def test_the_all_parameters_template_passes_path_query_string_and_headers():
    context = _request_context(
        "{}",
        parameters={"path_name": "path_value"},
        query="querystring_name=querystring_value",
        headers=[("header_name", "header_value")],
    )

    rendered = compile_template(ALL_PARAMS_TEMPLATE).render(context)

    assert json.loads(rendered) == {
        "params": {
            "path": {"path_name": "path_value"},
            "querystring": {"querystring_name": "querystring_value"},
            "header": {"header_name": "header_value"},
        }
    }


CONTEXT_TEMPLATE = """{
    "stage" : "$context.stage",
    "request_id" : "$context.requestId",
    "api_id" : "$context.apiId",
    "resource_path" : "$context.resourcePath",
    "resource_id" : "$context.resourceId",
    "http_method" : "$context.httpMethod",
    "source_ip" : "$context.identity.sourceIp",
    "user-agent" : "$context.identity.userAgent",
    "account_id" : "$context.identity.accountId",
    "api_key" : "$context.identity.apiKey",
    "caller" : "$context.identity.caller",
    "user" : "$context.identity.user",
    "user_arn" : "$context.identity.userArn"
}"""


def test_the_context_variables_template_renders_the_request_and_no_caller_on_an_open_method():
    context = _request_context("", method="GET", route="/", path="/", headers=[("User-Agent", "curl/7.84.0")])

    rendered = json.loads(compile_template(CONTEXT_TEMPLATE).render(context))

    assert rendered == {
        "stage": "prod",
        "request_id": context.request_id,
        "api_id": "abcd1234",
        "resource_path": "/",
        "resource_id": "efg567",
        "http_method": "GET",
        "source_ip": "192.0.2.1",
        "user-agent": "curl/7.84.0",
        # An unauthenticated method without an API key: no caller, as in API Gateway.
        "account_id": "",
        "api_key": "",
        "caller": "",
        "user": "",
        "user_arn": "",
    }
    assert context.request_id


def test_the_caller_identity_of_an_authenticated_method_is_refused_not_rendered_empty():
    with pytest.raises(UnsupportedTemplate, match=r"\$context.identity.userArn is not known locally"):
        compile_template(CONTEXT_TEMPLATE, authorization="AWS_IAM")
    with pytest.raises(UnsupportedTemplate, match="authorizer"):
        compile_template('"$context.authorizer.claims.sub"', authorization="COGNITO_USER_POOLS")
    with pytest.raises(UnsupportedTemplate, match=r"\$context.identity.apiKey"):
        compile_template('"$context.identity.apiKey"', api_key_required=True)
    assert compile_template('"$context.authorizer.principalId"').render(_request_context("")) == '""'


def test_the_other_request_context_variables_render_from_the_request():
    context = _request_context("")

    rendered = compile_template(
        "$context.path|$context.protocol|$context.accountId|$context.domainName|"
        "$context.extendedRequestId.length()|$context.requestTimeEpoch|$context.requestTime"
    ).render(context)

    path, protocol, account, domain, extended, epoch, time = rendered.split("|")
    assert (path, protocol, account, domain) == ("/prod/photos/a-1", "HTTP/1.1", "123456789012", "127.0.0.1")
    assert int(extended) == 36 and int(epoch) == context.context["requestTimeEpoch"]
    assert re.fullmatch(r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", time)


def test_velocity_references_conditions_loops_and_comments_render_as_velocity():
    template = compile_template(
        "## a line comment\n"
        "#* a block\ncomment *#"
        "#set($n = $input.path('$.n'))"
        "#if($n > 2)big#elseif($n == 2)two#{else}small#end|"
        "${n}|$!missing|$missing|"
        "#foreach($x in $input.path('$.xs'))$foreach.index:$velocityCount:$x #end|"
        "$input.path('$.word').length() $input.path('$.word').substring(1, 3) "
        "$input.path('$').containsKey('xs') $input.path('$.xs').isEmpty()"
    )

    rendered = template.render(RenderContext('{"n": 2, "xs": ["a", "b"], "word": "hello"}'))

    assert rendered == "two|2|||0:1:a 1:2:b |5 el true false"


# $input and $util as the reference documents them -----------------------------------------------------

PETS = '{"pets": [{"id": 1, "type": "dog", "price": 249.99}, {"id": 2, "type": "cat", "price": 124.99}]}'


def test_input_json_is_the_json_text_and_input_path_the_value_to_call_methods_on():
    template = compile_template(
        "$input.json('$.pets') | $input.json('$.pets[0].type') | $input.path('$.pets').size() | "
        "$input.path('$.pets[1].price') | $input.path('$.pets[*].type') | $input.path('$.pets[0]')"
    )

    rendered = template.render(RenderContext(PETS))

    assert rendered == (
        '[{"id":1,"type":"dog","price":249.99},{"id":2,"type":"cat","price":124.99}] | "dog" | 2 | '
        '124.99 | ["dog","cat"] | {id=1, type=dog, price=249.99}'
    )


def test_input_params_looks_a_name_up_in_the_path_then_the_query_string_then_the_headers():
    context = _request_context(
        "",
        parameters={"album": "from-path"},
        query="album=from-query&size=large",
        headers=[("album", "from-header"), ("size", "small"), ("X-Trace", "t-1")],
    )

    rendered = compile_template(
        "$input.params('album') $input.params('size') $input.params('X-Trace') [$input.params('none')] "
        "$input.params().querystring.get('size') $input.params().header.keySet()"
    ).render(context)

    assert rendered == "from-path large t-1 [] large [album, size, X-Trace]"


def test_foreach_over_a_json_object_walks_its_values_as_velocity_does():
    template = compile_template(
        "#foreach($value in $input.path('$.sizes'))$value;#end "
        "#foreach($key in $input.path('$.sizes').keySet())$key=$input.path('$.sizes').get($key) #end"
    )

    assert template.render(RenderContext('{"sizes": {"s": 1, "m": 2}}')) == "1;2; s=1 m=2 "


def test_util_functions_render_as_the_reference_documents():
    template = compile_template(
        "$util.escapeJavaScript($input.path('$.quote'))|$util.urlEncode($input.path('$.text'))|"
        "$util.urlDecode('a+b%26c%7E')|$util.base64Encode('Hello')|$util.base64Decode('SGVsbG8=')|"
        "#set($parsed = $util.parseJson($input.path('$.nested')))$parsed.user.name"
    )
    body = json.dumps({"quote": 'it\'s "x"', "text": "a b&c~*é", "nested": '{"user": {"name": "Ana"}}'})

    rendered = template.render(RenderContext(body))

    # escapeJavaScript turns ' into \' (the reference's warning); urlEncode is Java's URLEncoder.
    assert rendered == 'it\\\'s \\"x\\"|a+b%26c%7E*%C3%A9|a b&c~|SGVsbG8=|Hello|Ana'


def test_util_parse_json_of_text_that_is_not_json_is_a_template_error():
    template = compile_template("$util.parseJson($input.body).a")

    with pytest.raises(TemplateError, match="parseJson"):
        template.render(RenderContext("not json"))


def test_a_property_that_would_print_a_python_method_is_a_template_error():
    # Velocity prints nothing for $text.title on a string; airspeed would find Python's str.title.
    template = compile_template("$input.path('$.name').title")

    with pytest.raises(TemplateError, match="Python method"):
        template.render(RenderContext('{"name": "Ana"}'))


def test_a_gateway_response_template_may_use_only_the_error_and_the_request_id():
    template = compile_template(
        '{"message": $context.error.messageString, "id": "$context.requestId"}', gateway=True
    )

    rendered = template.render(RenderContext("", "r-1", error_message="Invalid request body"))

    assert json.loads(rendered) == {"message": "Invalid request body", "id": "r-1"}
    with pytest.raises(UnsupportedTemplate, match=r"\$context.httpMethod"):
        compile_template('"$context.httpMethod"', gateway=True)


# Service integration templates --------------------------------------------------------------------------


def test_the_sqs_send_message_template_url_encodes_the_body():
    template = compile_template("Action=SendMessage&MessageBody=$util.urlEncode($input.body)")

    rendered = template.render(RenderContext('{"order": "o-1", "note": "rush & wrap"}'))

    assert rendered == (
        "Action=SendMessage&MessageBody=%7B%22order%22%3A+%22o-1%22%2C+%22note%22%3A+%22rush+%26+wrap%22%7D"
    )


DYNAMODB_PUT_ITEM = """{
    "TableName": "Comments",
    "Item": {
        "commentId": {"S": "$context.requestId"},
        "pageId": {"S": "$input.path('$.pageId')"},
        "userName": {"S": "$input.path('$.userName')"},
        "message": {"S": "$input.path('$.message')"}
    }
}"""
DYNAMODB_QUERY_RESPONSE = """#set($inputRoot = $input.path('$'))
{
    "comments": [
        #foreach($elem in $inputRoot.Items) {
            "commentId": "$elem.commentId.S",
            "userName": "$elem.userName.S",
            "message": "$elem.message.S"
        }#if($foreach.hasNext),#end
        #end
    ]
}"""


def test_the_dynamodb_put_item_and_query_templates_map_the_request_and_the_items():
    put = compile_template(DYNAMODB_PUT_ITEM).render(
        RenderContext('{"pageId": "p-1", "userName": "ana", "message": "hi"}', "req-1")
    )
    items = {
        "Count": 2,
        "Items": [
            {"commentId": {"S": "c-1"}, "userName": {"S": "ana"}, "message": {"S": "hi"}},
            {"commentId": {"S": "c-2"}, "userName": {"S": "bo"}, "message": {"S": "yo"}},
        ],
    }
    comments = compile_template(DYNAMODB_QUERY_RESPONSE).render(RenderContext(json.dumps(items)))

    assert json.loads(put) == {
        "TableName": "Comments",
        "Item": {
            "commentId": {"S": "req-1"},
            "pageId": {"S": "p-1"},
            "userName": {"S": "ana"},
            "message": {"S": "hi"},
        },
    }
    assert json.loads(comments) == {
        "comments": [
            {"commentId": "c-1", "userName": "ana", "message": "hi"},
            {"commentId": "c-2", "userName": "bo", "message": "yo"},
        ]
    }


# Through the runner: API Gateway -> Kinesis PutRecords with a template ---------------------------------

ORDER_TEMPLATE = """#set($order = $input.path('$'))
{
  "StreamName": "$stageVariables.stream",
  "Records": [
#foreach($item in $order.items)
    {
      "PartitionKey": "$input.params('id')",
      "Data": "$util.base64Encode("$item.sku x$item.qty from $input.params('source') via $context.httpMethod $context.resourcePath")"
    }#if($foreach.hasNext),#end
#end
  ]
}"""
ORDER_RESPONSE = (
    "{\"failed\": $input.path('$.FailedRecordCount'), \"records\": $input.path('$.Records').size()}"
)
KINESIS_URI = {
    "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":apigateway:us-east-1:kinesis:action/PutRecords"]]
}


def _method(resource: str, template: str, authorization: str = "NONE") -> dict:
    return {
        "Type": "AWS::ApiGateway::Method",
        "Properties": {
            "RestApiId": {"Ref": "Api"},
            "ResourceId": {"Ref": resource},
            "HttpMethod": "POST",
            "AuthorizationType": authorization,
            "Integration": {
                "Type": "AWS",
                "IntegrationHttpMethod": "POST",
                "Uri": KINESIS_URI,
                "PassthroughBehavior": "NEVER",
                "RequestTemplates": {"application/json": template},
                "IntegrationResponses": [
                    {"StatusCode": "200", "ResponseTemplates": {"application/json": ORDER_RESPONSE}}
                ],
            },
        },
    }


def _write_orders_assembly(folder: Path) -> None:
    template = {
        "Resources": {
            "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}},
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "Orders"}},
            "Orders": {
                "Type": "AWS::ApiGateway::Resource",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                    "PathPart": "orders",
                },
            },
            "Order": {
                "Type": "AWS::ApiGateway::Resource",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "ParentId": {"Ref": "Orders"},
                    "PathPart": "{id}",
                },
            },
            "Audit": {
                "Type": "AWS::ApiGateway::Resource",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "ParentId": {"Ref": "Orders"},
                    "PathPart": "audit",
                },
            },
            "PostOrder": _method("Order", ORDER_TEMPLATE),
            "PostAudit": _method(
                "Audit",
                '{"StreamName": "x", "Records": [{"PartitionKey": "$context.identity.userArn", "Data": ""}]}',
                authorization="AWS_IAM",
            ),
            "Stage": {
                "Type": "AWS::ApiGateway::Stage",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "StageName": "test",
                    "Variables": {"stream": {"Ref": "Stream"}},
                },
            },
        }
    }
    (folder / "S.template.json").write_text(json.dumps(template))
    manifest = {
        "artifacts": {
            "S": {
                "type": "aws:cloudformation:stack",
                "properties": {"templateFile": "S.template.json"},
                "displayName": "S",
            }
        }
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_an_api_template_with_foreach_params_and_stage_variables_puts_its_records_on_kinesis(tmp_path):
    from lambda_patterns.local import LocalApp

    _write_orders_assembly(tmp_path)
    with LocalApp(tmp_path, schedule_scale=0) as app:
        body = json.dumps({"items": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}]}).encode()
        request = urllib.request.Request(
            app.api_url("S", "/orders/{id}") + "orders/o-42?source=web",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            status, answer = response.status, json.loads(response.read())
        kinesis = app.client("kinesis")
        stream = app.find("Stream", "AWS::Kinesis::Stream")["Ref"]
        shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = kinesis.get_records(ShardIterator=iterator)["Records"]

    assert (status, answer) == (200, {"failed": 0, "records": 2})
    assert [(record["PartitionKey"], record["Data"].decode()) for record in records] == [
        ("o-42", "A-1 x2 from web via POST /orders/{id}"),
        ("o-42", "B-7 x1 from web via POST /orders/{id}"),
    ]
    # The method whose template needs the caller's identity is skipped at start-up, saying why.
    assert any(
        "PostAudit" in message and "$context.identity.userArn is not known locally" in message
        for message in app.skipped
    )


# Limits ------------------------------------------------------------------------------------------------


def test_a_foreach_over_a_huge_range_stops_after_api_gateways_1000_iterations_instead_of_hanging(caplog):
    # "Number of iterations in a #foreach ... #end loop in mapping templates: 1,000" (API Gateway's REST API
    # quotas): a loop an attacker's body (or a typo) makes endless must not hang the local API.
    template = compile_template("#foreach($i in [1..100000000])$i,#end")

    with caplog.at_level("WARNING", logger="lambda_patterns.local"):
        output = template.render(RenderContext(body="{}"))

    assert output.split(",")[:-1] == [str(number) for number in range(1, 1001)]
    assert "1000 iterations" in caplog.text


def test_a_foreach_over_an_attacker_sized_array_renders_only_its_first_1000_elements():
    template = compile_template(
        "#foreach($item in $input.path('$.items'))$item#if($foreach.hasNext),#end#end"
    )
    body = json.dumps({"items": list(range(5000))})

    output = template.render(RenderContext(body=body))

    assert output.split(",")[:3] == ["0", "1", "2"]
    assert len(output.split(",")) == 1000


def test_a_foreach_of_up_to_1000_elements_renders_all_of_them():
    template = compile_template(
        "#foreach($item in $input.path('$.items'))$item#if($foreach.hasNext),#end#end"
    )

    output = template.render(RenderContext(body=json.dumps({"items": list(range(1000))})))

    assert output == ",".join(str(number) for number in range(1000))
