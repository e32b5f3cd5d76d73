"""``LambdaService``: policy, role, package, function and triggers from one set of props."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.checks.exactly_one import check_exactly_one
from lambda_patterns.checks.exclusive import check_exclusive
from lambda_patterns.jsii_reads import path_of
from lambda_patterns.permissions import Permission
from lambda_patterns.profiles import pin_profile
from lambda_patterns.props import as_mapping
from lambda_patterns.steps.deployment import Deployment
from lambda_patterns.steps.function import ServerlessFunction
from lambda_patterns.steps.package import FunctionPackage
from lambda_patterns.steps.policy import FunctionPolicy
from lambda_patterns.steps.role import FunctionRole

T = TypeVar("T", bound=Construct)


class LambdaService(Construct):
    """A working, secure Lambda service in a few lines: the five steps with their defaults, each
    replaceable.

    Example::

        service = LambdaService(self, "Resize",
            entry="lambda_src/resize",
            permissions=[read_objects(uploads, "in/"), put_objects(uploads, "out/")],
            environment={"OUTPUT_PREFIX": "out/"},
        )
        service.add_trigger(S3Trigger, "OnUpload", bucket=uploads, prefix="in/")

    :param entry: the handler's folder (``handler.py`` and an optional ``requirements.txt``). Required
        unless ``existing_code`` is given.
    :param handler: Default: ``handler.handler``.
    :param shared: folders copied once into the package root, e.g. shared helper packages. Default: none.
    :param permissions: step 1, least-privilege intents. Default: none beyond the function's own logs.
    :param existing_role: step 2, a ``FunctionRole`` to use; it receives ``permissions``. Default: a new one.
    :param permissions_boundary: for the new role. Default: none.
    :param package_props: step 3 overrides for ``FunctionPackage`` (``use_docker``, ``requirements``,
        ``wheelhouse``, ``exclude``). Default: none.
    :param existing_code: step 3 replaced: any ``lambda_.Code``. Cannot be given with ``package_props``.
    :param runtime: Default: ``defaults.RUNTIME``.
    :param architecture: Default: ``ARM_64``.
    :param memory_size: Default: 512 MB.
    :param timeout: Default: 30 seconds.
    :param environment: Default: none.
    :param deployment: how new versions reach the ``live`` alias (``Deployment``). Default: none.
    :param function_props: step 4 overrides: any other ``ServerlessFunction`` prop. Default: none.
    :param profile: ``"standard"`` or ``"hardened"`` (see README, "Rule packs"): pinned on this construct's
        subtree, so its resources and function follow it. Default: the context ``lambda-patterns:profile``,
        else ``"standard"``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        entry: str | os.PathLike | None = None,
        handler: str = "handler.handler",
        shared: Sequence[str | os.PathLike] = (),
        permissions: Iterable[Permission | Sequence[Permission]] = (),
        existing_role: FunctionRole | None = None,
        permissions_boundary: Any = None,
        package_props: Mapping[str, Any] | None = None,
        existing_code: lambda_.Code | None = None,
        runtime: lambda_.Runtime = defaults.RUNTIME,
        architecture: lambda_.Architecture = defaults.ARCHITECTURE,
        memory_size: int = defaults.MEMORY_MB,
        timeout: Duration = defaults.TIMEOUT,
        environment: Mapping[str, str] | None = None,
        deployment: Deployment | None = None,
        function_props: Mapping[str, Any] | None = None,
        profile: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        pin_profile(self, profile)
        where = f"LambdaService {path_of(self)}"
        check_exclusive(where, "existing_code", existing_code, "package_props", package_props)
        check_exclusive(where, "existing_role", existing_role, "permissions_boundary", permissions_boundary)
        check_exactly_one(where, "entry", entry, "existing_code", existing_code)

        self._policy = existing_role.policy if existing_role else FunctionPolicy(self, "Policy")
        self._role = existing_role or FunctionRole(
            self, "Role", policy=self._policy, permissions_boundary=permissions_boundary
        )
        self._package: FunctionPackage | None = None
        if existing_code is None:
            self._package = FunctionPackage(
                self,
                "Package",
                entry=Path(entry),
                runtime=runtime,
                architecture=architecture,
                shared=shared,
                **as_mapping(package_props, "package_props"),
            )
        self._function = ServerlessFunction(
            self,
            "Function",
            code=self._package or existing_code,
            handler=handler,
            runtime=runtime,
            architecture=architecture,
            memory_size=memory_size,
            timeout=timeout,
            environment={"SERVICE_NAME": id, **dict(environment or {})},
            permissions=permissions,
            role=self._role,
            deployment=deployment,
            **as_mapping(function_props, "function_props"),
        )
        self._triggers: list[Construct] = []

    def add_trigger(self, trigger_class: type[T], id: str, **props: Any) -> T:
        """Step 5: wire a trigger from ``lambda_patterns.triggers`` to this service's function.

        ``service.add_trigger(SqsTrigger, "Orders", batch_size=10)`` is
        ``SqsTrigger(service, "Orders", function=service.function, batch_size=10)``.
        """
        trigger = trigger_class(self, id, function=self._function, **props)
        self._triggers.append(trigger)
        return trigger

    @property
    def policy(self) -> FunctionPolicy:
        """Step 1: the function's policy."""
        return self._policy

    @property
    def role(self) -> FunctionRole:
        """Step 2: the execution role."""
        return self._role

    @property
    def package(self) -> FunctionPackage | None:
        """Step 3: the package, unless ``existing_code`` replaced it."""
        return self._package

    @property
    def function(self) -> ServerlessFunction:
        """Step 4: the function."""
        return self._function

    @property
    def triggers(self) -> tuple[Construct, ...]:
        """Step 5: the triggers added so far."""
        return tuple(self._triggers)
