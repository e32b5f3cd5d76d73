"""``RecommendationsApi``: ``GET /products/{id}/recommendations`` over the co-purchase counts that a
``PurchaseEventProcessor`` keeps in its aggregates table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.checks.recommendation_limits import check_recommendation_limits
from lambda_patterns.patterns.pattern_function import PatternConstruct, build_pattern_function
from lambda_patterns.permissions import batch_get_items, query_items
from lambda_patterns.steps.deployment import Deployment
from lambda_patterns.triggers.api import ApiGatewayTrigger

ROUTE = "/products/{id}/recommendations"


class RecommendationsApi(PatternConstruct):
    """A REST API answering, for a product, the products most often bought by the same customers, with their
    scores (customers who bought both within the purchase processor's window), highest first:
    ``GET /products/{id}/recommendations?limit=N[&customer_id=C]``. With ``customer_id``, products that
    customer already bought are left out. IAM (SigV4) authorization, like the library's other APIs.

    Besides its own props below, it takes those of every pattern (``alarm_topic``, ``deployment``,
    ``function_props`` and ``profile``: see :class:`PatternConstruct`).

    :param aggregates_table: the ``PurchaseEventProcessor``'s ``aggregates_table``.
    :param default_limit: recommendations answered without ``limit``. Default: 10.
    :param max_limit: the largest ``limit`` accepted (a larger one answers 400). Default: 50.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        aggregates_table: dynamodb.ITable,
        default_limit: int = defaults.RECOMMENDATIONS_DEFAULT_LIMIT,
        max_limit: int = defaults.RECOMMENDATIONS_MAX_LIMIT,
        function_props: Mapping[str, Any] | None = None,
        deployment: Deployment | None = None,
        alarm_topic: sns.ITopic | None = None,
        profile: str | None = None,
    ) -> None:
        super().__init__(scope, id, alarm_topic, deployment, function_props, profile)
        check_recommendation_limits(self._where, default_limit, max_limit)
        self._pattern_function = build_pattern_function(
            self,
            handler="recommendations_api",
            description="Answers the products bought together with a product, from co-purchase counts",
            # Query: a product's pairs. BatchGetItem: whether the customer already bought the candidates.
            permissions=[query_items(aggregates_table), batch_get_items(aggregates_table)],
            environment={
                "AGGREGATES_TABLE": aggregates_table.table_name,
                "DEFAULT_LIMIT": str(default_limit),
                "MAX_LIMIT": str(max_limit),
            },
            **self._function_options,
            # API Gateway invokes synchronously: errors go back to the caller, a failure queue would stay empty.
            fixed_props={"async_failure": "none"},
        )
        self._trigger = ApiGatewayTrigger(self, "Api", function=self.function, routes={ROUTE: ("GET",)})

    @property
    def trigger(self) -> ApiGatewayTrigger:
        """The REST API trigger."""
        return self._trigger

    @property
    def url(self) -> str:
        """The stage's base URL; recommendations are under ``products/{id}/recommendations``."""
        return self._trigger.url
