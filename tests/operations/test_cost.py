"""`lambda-patterns cost`: monthly estimates read from a synthesized cloud assembly, checked against figures
computed by hand from the published prices."""

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from lambda_patterns.operations import cost
from lambda_patterns.operations.cli import main
from lambda_patterns.steps.function import ServerlessFunction
from synth_helpers import CDK_CONTEXT, FIXTURES, NO_BUNDLING

# Hand-computed, us-east-1 prices (docs/operations.md):
# Api: arm64, 512 MB, 1,000,000 invocations of 120 ms (the command-line defaults).
#   requests 1,000,000 x $0.20/M = $0.20
#   duration 1,000,000 x 0.120 s x 0.5 GB = 60,000 GB-s x $0.0000133334 = $0.800004
API_TOTAL = 0.20 + 0.800004
# Orders: x86_64, 1024 MB, 2 provisioned, 2,000,000 invocations of 250.4 ms, billed as 251 ms.
#   requests 2,000,000 x $0.20/M = $0.40
#   duration 2,000,000 x 0.251 s x 1 GB = 502,000 GB-s x $0.0000097222 (price under PC) = $4.8805444
#   provisioned 2 x 1 GB x 730 h x 3600 s = 5,256,000 GB-s x $0.0000041667 = $21.9001752
ORDERS_DURATION = 4.8805444
ORDERS_PROVISIONED = 21.9001752
ORDERS_TOTAL = 0.40 + ORDERS_DURATION + ORDERS_PROVISIONED


@pytest.fixture(scope="module")
def cdk_out(tmp_path_factory):
    """A cloud assembly with one arm64 function and one x86_64 function with provisioned concurrency."""
    out = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(outdir=str(out), context={**CDK_CONTEXT, **NO_BUNDLING})
    stack = cdk.Stack(app, "Shop")
    code = lambda_.Code.from_asset(str(FIXTURES / "echo"))
    ServerlessFunction(stack, "Api", code=code, memory_size=512)
    ServerlessFunction(
        stack,
        "Orders",
        code=code,
        memory_size=1024,
        architecture=lambda_.Architecture.X86_64,
        provisioned_concurrency=2,
    )
    app.synth()
    return out


def _rows(capsys, *argv):
    assert main(["cost", *argv, "--json"]) == 0
    return {row["path"].split("/")[1]: row for row in json.loads(capsys.readouterr().out)}


def test_cost_reads_memory_architecture_and_provisioned_concurrency_from_the_templates(cdk_out):
    specs = {s.path.split("/")[1]: s for s in cost.read_assembly(cdk_out)}

    assert (specs["Api"].architecture, specs["Api"].memory_mb, specs["Api"].provisioned) == ("arm64", 512, 0)
    assert (specs["Orders"].architecture, specs["Orders"].memory_mb, specs["Orders"].provisioned) == (
        "x86_64",
        1024,
        2,
    )


def test_cost_of_each_function_matches_the_hand_computed_figures(cdk_out, tmp_path, capsys):
    usage = tmp_path / "usage.json"
    usage.write_text(json.dumps({"Shop/Orders/Function": {"invocations": 2_000_000, "duration_ms": 250.4}}))

    rows = _rows(capsys, "--cdk-out", str(cdk_out), "--usage", str(usage))

    api, orders = rows["Api"], rows["Orders"]
    assert api["requests"] == pytest.approx(0.20)
    assert api["duration"] == pytest.approx(0.800004)
    assert api["provisioned"] == 0
    assert api["total"] == pytest.approx(API_TOTAL)
    assert orders["billed_duration_ms"] == 251
    assert orders["requests"] == pytest.approx(0.40)
    assert orders["duration"] == pytest.approx(ORDERS_DURATION)
    assert orders["provisioned"] == pytest.approx(ORDERS_PROVISIONED)
    assert orders["total"] == pytest.approx(ORDERS_TOTAL)


def test_usage_may_name_a_function_by_stack_and_logical_id(cdk_out, tmp_path, capsys):
    (orders,) = [s for s in cost.read_assembly(cdk_out) if "/Orders/" in s.path]
    usage = tmp_path / "usage.json"
    usage.write_text(json.dumps({orders.key: {"invocations": 2_000_000, "duration_ms": 250.4}}))

    rows = _rows(capsys, "--cdk-out", str(cdk_out), "--usage", str(usage))

    assert rows["Orders"]["total"] == pytest.approx(ORDERS_TOTAL)


def test_cost_table_prints_each_function_and_the_total(cdk_out, tmp_path, capsys):
    usage = tmp_path / "usage.json"
    usage.write_text(json.dumps({"Shop/Orders/Function": {"invocations": 2_000_000, "duration_ms": 250.4}}))

    assert main(["cost", "--cdk-out", str(cdk_out), "--usage", str(usage)]) == 0
    lines = capsys.readouterr().out.splitlines()

    assert lines[2].split()[:2] == ["Shop/Api/Function", "arm64"]
    assert lines[2].split()[-1] == "1.00"
    assert lines[3].split()[:4] == ["Shop/Orders/Function", "x86_64", "1024", "2"]
    assert lines[3].split()[-4:] == ["0.40", "4.88", "21.90", "27.18"]
    assert lines[4].split() == ["total", f"{API_TOTAL + ORDERS_TOTAL:.2f}"]
    assert "free tier ignored" in lines[-1]


def test_usage_naming_an_unknown_function_is_an_error(cdk_out, tmp_path, capsys):
    usage = tmp_path / "usage.json"
    usage.write_text(json.dumps({"Shop/Nope": {"invocations": 1, "duration_ms": 1}}))

    assert main(["cost", "--cdk-out", str(cdk_out), "--usage", str(usage)]) == 2
    error = capsys.readouterr().err
    assert "--usage 'Shop/Nope' names no function of the assembly; valid names: " in error
    assert "Shop/Api" in error and "Shop/Orders" in error


def test_usage_may_name_the_construct_path_the_user_wrote(cdk_out, tmp_path, capsys):
    usage = tmp_path / "usage.json"
    usage.write_text(json.dumps({"Shop/Orders": {"invocations": 2_000_000, "duration_ms": 250.4}}))

    rows = _rows(capsys, "--cdk-out", str(cdk_out), "--usage", str(usage))

    assert rows["Orders"]["total"] == pytest.approx(ORDERS_TOTAL)


def test_the_documented_assembly_flag_is_accepted(cdk_out, capsys):
    assert main(["cost", "--assembly", str(cdk_out), "--json"]) == 0
    assert {row["path"].split("/")[1] for row in json.loads(capsys.readouterr().out)} >= {"Api", "Orders"}


def test_malformed_usage_entry_is_an_error(cdk_out, tmp_path, capsys):
    usage = tmp_path / "usage.json"
    usage.write_text(json.dumps({"Shop/Api/Function": {"invocations": 1}}))

    assert main(["cost", "--cdk-out", str(cdk_out), "--usage", str(usage)]) == 2
    assert 'must be {"invocations": N, "duration_ms": D}' in capsys.readouterr().err


def test_missing_cloud_assembly_is_an_error(tmp_path, capsys):
    assert main(["cost", "--cdk-out", str(tmp_path / "absent")]) == 2
    assert "run `make synth` first" in capsys.readouterr().err


@pytest.mark.parametrize("measured,billed", [(120, 120), (120.01, 121), (0.2, 1), (0, 0)])
def test_duration_is_billed_in_whole_milliseconds_rounded_up(measured, billed):
    assert cost.billed_duration_ms(measured) == billed


def test_cdk_deployment_helpers_default_to_no_invocations():
    template = {
        "Resources": {
            "BucketNotificationsHandler050a": {
                "Type": "AWS::Lambda::Function",
                "Properties": {},
                "Metadata": {"aws:cdk:path": "S/BucketNotificationsHandler050a/Resource"},
            }
        }
    }
    (spec,) = cost.functions_in_template("S", template)

    usage = cost.usage_for(spec, {}, cost.Usage(1_000_000, 120))

    assert (spec.cdk_helper, spec.architecture, spec.memory_mb) == (True, "x86_64", 128)
    assert usage.invocations == 0
