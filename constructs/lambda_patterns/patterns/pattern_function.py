"""The function of a use-case construct: one of this library's handlers, packaged and deployed the same way
by every pattern (as AWS Solutions Constructs' ``buildLambdaFunction`` does for theirs).

Props are merged in three layers, lowest first: what every pattern does (:data:`PATTERN_DEFAULTS`: alarms
on), what this pattern defaults (``default_props``, e.g. no async failure queue for a function only an event
source mapping invokes), then the user's ``function_props``. What the pattern sets itself (the code, its
description, permissions and environment, and ``fixed_props`` such as ``memory_size``) cannot come from
``function_props``: that is refused with a clear message rather than silently overridden.

Every pattern is a :class:`PatternConstruct`, which exposes the function and its package the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_patterns.checks import check_exclusive, check_function_props
from lambda_patterns.jsii_reads import node_of, path_of
from lambda_patterns.permissions import Permission
from lambda_patterns.profiles import pin_profile
from lambda_patterns.props import as_mapping
from lambda_patterns.steps.deployment import Deployment
from lambda_patterns.steps.function import ServerlessFunction
from lambda_patterns.steps.handlers import common_path, handler_path
from lambda_patterns.steps.package import FunctionPackage

#: What every pattern's function gets unless ``function_props`` says otherwise: CloudWatch alarms on
#: errors, throttles, duration near the timeout and events waiting in its failure queues.
PATTERN_DEFAULTS: Mapping[str, Any] = {"alarms": True}
#: The ``default_props`` of a function that only an event source mapping (stream, queue) invokes: it is
#: invoked synchronously, failures are handled by the mapping, so an async failure queue would stay empty.
MAPPING_INVOKED: Mapping[str, Any] = {"async_failure": "none"}
#: What a pattern always sets itself, whatever else it fixes.
PATTERN_OWNED = ("code", "description", "permissions", "environment", "deployment")


class PatternFunction(NamedTuple):
    """What :func:`build_pattern_function` creates."""

    function: ServerlessFunction
    package: FunctionPackage


def function_environment(service_name: str, environment: Mapping[str, str]) -> dict[str, str]:
    """The environment a pattern function gets: ``SERVICE_NAME`` (the ``service`` of its logs and metrics),
    then the pattern's own variables."""
    return {"SERVICE_NAME": service_name, **environment}


def build_pattern_function(
    scope: Construct,
    id: str = "Function",
    *,
    where: str,
    handler: str,
    description: str,
    permissions: Sequence[Permission | Sequence[Permission]],
    environment: Mapping[str, str],
    function_props: Mapping[str, Any] | None,
    alarm_topic: sns.ITopic | None = None,
    deployment: Deployment | None = None,
    fixed_props: Mapping[str, Any] | None = None,
    default_props: Mapping[str, Any] | None = None,
    package_id: str = "Package",
) -> PatternFunction:
    """Check ``function_props``, then package ``lambda_src/<handler>`` with the shared ``lambda_common`` (as
    ``package_id`` in ``scope``) and create the ``ServerlessFunction`` ``id`` in ``scope``.

    :param where: the pattern and its path, e.g. ``ThumbnailPipeline Stack/Thumbs``, for error messages.
    :param handler: the handler folder under ``lambda_src/``.
    :param environment: the pattern's variables; ``SERVICE_NAME`` is set to ``scope``'s id.
    :param function_props: the user's other ``ServerlessFunction`` props, merged over the defaults.
    :param alarm_topic: where the alarms notify. Default: none (alarms without actions).
    :param deployment: the pattern's ``deployment`` prop, for ``ServerlessFunction``. Default: none.
    :param fixed_props: other props this pattern sets itself (``memory_size``...): ``function_props`` may
        not set them. Default: none.
    :param default_props: this pattern's defaults that ``function_props`` may override. Default: none.
    """
    fixed = dict(fixed_props or {})
    function_props = as_mapping(function_props, "function_props")
    check_function_props(where, function_props, (*PATTERN_OWNED, *fixed))
    package = FunctionPackage(scope, package_id, entry=handler_path(handler), shared=[common_path()])
    function = ServerlessFunction(
        scope,
        id,
        code=package,
        description=description,
        permissions=permissions,
        environment=function_environment(node_of(scope).id, environment),
        deployment=deployment,
        **fixed,
        **{
            **PATTERN_DEFAULTS,
            "alarm_topic": alarm_topic,
            **dict(default_props or {}),
            **function_props,
        },
    )
    return PatternFunction(function, package)


def check_existing_or_props(where: str, **resources: tuple[Any, Any]) -> None:
    """Refuse, for each ``<name>=(existing_<name>_obj, <name>_props)`` of a pattern, a resource given both
    ways."""
    for name, (existing, props) in resources.items():
        check_exclusive(where, f"existing_{name}_obj", existing, f"{name}_props", props)


class PatternConstruct(Construct):
    """The base of the use-case constructs: the props every one of them takes and the attributes each of them
    has, whatever it builds around its function. A subclass passes the shared props to ``__init__``, then
    sets ``_pattern_function`` to what :func:`build_pattern_function` returns, given ``**self._function_options``.

    The props every pattern takes (keyword-only, after its own):

    :param alarm_topic: where the function's alarms notify: errors, throttles, duration near the timeout and
        what each pattern adds (its docstring says what). Default: none (alarms without actions).
    :param deployment: how new versions reach the function's ``live`` alias, which the pattern's trigger
        invokes (``Deployment.canary(...)`` ...). Default: none.
    :param function_props: other ``ServerlessFunction`` props. Default: none.
    :param profile: ``"standard"`` or ``"hardened"`` (see README, "Rule packs"): pinned on the pattern's
        subtree, so its resources and function follow it. Default: the context ``lambda-patterns:profile``,
        else ``"standard"``.
    """

    _pattern_function: PatternFunction

    def __init__(
        self,
        scope: Construct,
        id: str,
        alarm_topic: sns.ITopic | None,
        deployment: Deployment | None,
        function_props: Mapping[str, Any] | None,
        profile: str | None,
    ) -> None:
        super().__init__(scope, id)
        pin_profile(self, profile)
        #: The pattern and its path, e.g. ``ThumbnailPipeline Stack/Thumbs``, for error messages.
        self._where = f"{type(self).__name__} {path_of(self)}"
        #: What the shared props give :func:`build_pattern_function`.
        self._function_options: dict[str, Any] = {
            "where": self._where,
            "alarm_topic": alarm_topic,
            "deployment": deployment,
            "function_props": function_props,
        }

    def _check_existing_or_props(self, **resources: tuple[Any, Any]) -> None:
        """:func:`check_existing_or_props` for this pattern."""
        check_existing_or_props(self._where, **resources)

    @property
    def function(self) -> ServerlessFunction:
        """The pattern's function (its alias, alarms and permissions included); what it does is in the
        pattern's description."""
        return self._pattern_function.function

    @property
    def package(self) -> FunctionPackage:
        """The function's package: its handler, the shared ``lambda_common`` and its requirements."""
        return self._pattern_function.package
