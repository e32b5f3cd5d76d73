"""What never changes on a jsii object once it exists, read across the jsii bridge once per object.

Every property read of a CDK object from Python is a round trip to the jsii kernel (a request and its answer
through a pipe, ~0.4 ms). One synth reads the same facts many times: a construct's path names it in error
messages, acknowledgements and alarm descriptions; a runtime's name is compared for each package and
function; a duration is checked against several limits. These are fixed when the object is made (a
construct's node and path cannot change, nor a ``Runtime``'s name or a ``Duration``'s amount), so they are
kept here by the object's jsii reference: unique for the life of the process, and the same for every Python
proxy of one object (each lookup of a CDK singleton may make a new proxy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from aws_cdk import Duration
    from constructs import IConstruct, Node

_T = TypeVar("_T")
_READ: dict[tuple[str, str], Any] = {}


def _once(obj: Any, fact: str, read: Callable[[], _T]) -> _T:
    reference = getattr(obj, "__jsii_ref__", None)
    if reference is None:
        # A Python object the kernel has not seen yet (a user's own implementation of an interface) has no
        # reference to keep its facts by; reading it is all there is.
        return read()
    key = (reference.ref, fact)
    try:
        return _READ[key]
    except KeyError:
        # A read that raises (a fractional duration's to_seconds) raises again next time: nothing is kept.
        value = _READ[key] = read()
        return value


def node_of(construct: IConstruct) -> Node:
    """``construct.node``, fetched once per construct."""
    return _once(construct, "node", lambda: construct.node)


def path_of(construct: IConstruct) -> str:
    """``construct.node.path``, fetched once per construct."""
    return _once(construct, "path", lambda: node_of(construct).path)


def name_of(value: Any) -> str:
    """The ``name`` of a ``lambda_.Runtime`` or ``lambda_.Architecture``, fetched once per object."""
    return _once(value, "name", lambda: value.name)


def seconds_of(duration: Duration) -> float:
    """``duration.to_seconds()``, once per ``Duration`` (immutable); raises as it does for a duration that
    is not a whole number of seconds."""
    return _once(duration, "seconds", duration.to_seconds)


def milliseconds_of(duration: Duration) -> float:
    """``duration.to_milliseconds()``, once per ``Duration``."""
    return _once(duration, "milliseconds", duration.to_milliseconds)
