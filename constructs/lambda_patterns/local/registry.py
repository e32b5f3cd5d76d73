"""The runner's registry of resource families: which CloudFormation types each one handles, and in what
order ``LocalApp`` runs them for every stack.

A family is a module ``lambda_patterns.local.wire_<family>.py`` holding one or more functions
``wire(app, stack, scope)`` decorated with ``@register(<types>, order=N)``, or, where each resource of
the type is wired on its own, ``add(app, resource, scope)`` decorated with ``@register_each(<type>,
order=N)``. ``load_families()`` imports every such module (the runner calls it when it is imported), and
the decorators fill the registry; so a new trigger type is one new module and its test, nothing else to
edit. A type may be registered by one
family only: it is that family's to handle, even where another family reads it too (the S3 family reads
the notifications of buckets the resources family creates).

``handled_types()`` (``runner.HANDLED_TYPES``) are the registry's keys: a template resource of any other
type, unless it is not enforced locally (``provision.NOT_ENFORCED_PREFIXES``) or a custom resource, is
reported in ``LocalApp.skipped``.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, KeysView
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from lambda_patterns.local.assembly import Resource, Stack
    from lambda_patterns.local.intrinsics import Scope
    from lambda_patterns.local.runner import LocalApp

#: What a family registers: called once per stack with the app, the stack and its resolved scope.
Wire = Callable[["LocalApp", "Stack", "Scope"], None]
W = TypeVar("W", bound=Wire)
#: What ``register_each`` registers: called for one resource with the app, the resource and the scope.
Add = Callable[["LocalApp", "Resource", "Scope"], None]
A = TypeVar("A", bound=Add)

#: Prefix of the modules ``load_families`` imports.
FAMILY_PREFIX = "wire_"


@dataclass(frozen=True)
class Wiring:
    """One registered wiring: the CloudFormation types it handles, when it runs (lower ``order`` first;
    equal orders by name) and the function that does it."""

    types: tuple[str, ...]
    order: int
    wire: Wire

    @property
    def name(self) -> str:
        """``module.function`` of the wiring, for messages and ordering."""
        return f"{self.wire.__module__}.{self.wire.__qualname__}"

    @property
    def family(self) -> str:
        """The module that registered it (``wire_sns``...)."""
        return self.wire.__module__.rsplit(".", 1)[-1]


_BY_TYPE: dict[str, Wiring] = {}


def register(*types: str, order: int) -> Callable[[W], W]:
    """Decorator: registers ``wire(app, stack, scope)`` as the handler of ``types``, run at ``order``.
    Raises ``ValueError`` for a type another wiring already handles. Returns the function unchanged."""

    def decorator(wire: W) -> W:
        wiring = Wiring(tuple(types), order, wire)
        if not types:
            raise ValueError(f"{wiring.name}: registered for no CloudFormation type")
        # The same wiring registered again (its module reloaded) replaces itself.
        claimed = {
            kind: _BY_TYPE[kind].name
            for kind in types
            if kind in _BY_TYPE and _BY_TYPE[kind].name != wiring.name
        }
        if claimed:
            taken = ", ".join(f"{kind} (by {name})" for kind, name in sorted(claimed.items()))
            raise ValueError(f"{wiring.name}: types already registered: {taken}")
        _remove(lambda registered: registered.name == wiring.name)
        for kind in types:
            _BY_TYPE[kind] = wiring
        return wire

    return decorator


def register_each(resource_type: str, *, order: int) -> Callable[[A], A]:
    """Decorator: registers, at ``order``, a wiring of ``resource_type`` that calls ``add(app, resource,
    scope)`` for each resource of that type in the stack, in template order; the wiring is named after
    ``add``. Raises as ``register`` does. Returns the function unchanged."""

    def decorator(add: A) -> A:
        @functools.wraps(add)
        def wire(app: LocalApp, stack: Stack, scope: Scope) -> None:
            for resource in stack.resources(resource_type):
                add(app, resource, scope)

        register(resource_type, order=order)(wire)
        return add

    return decorator


def unregister(wire: Wire | Add) -> None:
    """Removes every type ``wire`` (or the ``add`` of ``register_each``) was registered for (tests register
    families of their own)."""
    _remove(
        lambda registered: registered.wire is wire or getattr(registered.wire, "__wrapped__", None) is wire
    )


def _remove(which: Callable[[Wiring], bool]) -> None:
    for kind in [kind for kind, wiring in _BY_TYPE.items() if which(wiring)]:
        del _BY_TYPE[kind]


def handled_types() -> KeysView[str]:
    """The registered CloudFormation types: a live view of the registry's keys."""
    return _BY_TYPE.keys()


def wirings() -> list[Wiring]:
    """Every registered wiring once, in the order the runner runs them."""
    return sorted(set(_BY_TYPE.values()), key=lambda wiring: (wiring.order, wiring.name))


def load_families() -> None:
    """Imports every ``wire_*`` module of this package, in name order; importing registers its wirings
    (an already imported module is not imported again)."""
    folder = str(Path(__file__).parent)
    for module in sorted(pkgutil.iter_modules([folder]), key=lambda found: found.name):
        if module.name.startswith(FAMILY_PREFIX):
            importlib.import_module(f"{__package__}.{module.name}")


def is_custom_resource(resource_type: str) -> bool:
    """A CloudFormation custom resource: deploy-time work, never reported as skipped."""
    return resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource"
