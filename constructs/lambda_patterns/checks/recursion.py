"""A trigger must not fire on what its own function writes: that is an endless, billed loop.

Lambda's recursive loop detection stops such a loop only after about 16 invocations, and only for some
services; this check stops it at synth time.
"""

from __future__ import annotations

from collections.abc import Iterable

from lambda_patterns.checks.prefixes import prefixes_overlap
from lambda_patterns.errors import ConfigurationError
from lambda_patterns.permissions import Access, Permission


def check_no_self_trigger(
    where: str,
    permissions: Iterable[Permission],
    source_id: str,
    source_prefix: str | None = None,
    source_suffix: str | None = None,
) -> None:
    """Raise if any write permission of the function reaches the resource that triggers it.

    ``source_id`` is the trigger resource's node path; for S3 the prefix filters decide whether the
    written keys can match the trigger (a suffix filter alone proves nothing: the function may write any
    suffix).
    """
    for permission in permissions:
        if permission.access is not Access.WRITE or permission.resource_id != source_id:
            continue
        if permission.prefix is None and source_prefix is None:
            overlap = True
        else:
            overlap = prefixes_overlap(permission.prefix, source_prefix)
        if overlap:
            written = f" under prefix {permission.prefix!r}" if permission.prefix else ""
            watched = f" with prefix {source_prefix!r}" if source_prefix else ""
            raise ConfigurationError(
                f"{where}: the function writes to {source_id}{written}, which triggers it{watched}: "
                "every write would invoke it again. Use another bucket/table/queue for the output, or "
                "disjoint key prefixes for input and output."
            )
