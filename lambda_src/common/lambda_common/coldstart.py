"""Keeping the garbage collector off the objects a cold start makes once and keeps for the sandbox's life.

``import boto3`` and creating a client allocate some 60,000 objects the collector tracks (botocore's modules,
loaded service models, endpoint rule sets). CPython's first full (generation 2) collection walks every one
of them, and it falls due within a few hundred allocations of that point: in a handler's own init, as soon
as its modules and clients add anything to boto3's, it costs 20-40 ms on a warm machine - more than the
handler's own code - and on a fraction of a vCPU (small memory settings) several times that. None of
those objects ever becomes garbage: modules, clients and models live until the sandbox is shut down.

``gc.freeze()`` moves everything tracked so far into the collector's permanent generation, which no
collection walks: that first full collection (and every later one) then covers only what was made after.
Reference cycles already garbage at that moment are kept (a few, from imports; a fixed amount, once).
See https://docs.python.org/3/library/gc.html#gc.freeze.
"""

from __future__ import annotations

import gc


def freeze_init_objects() -> None:
    """Exempt every object made so far from garbage collection.

    A handler calls it after its imports, so the full collection due during init (client creation usually
    tips it) does not walk boto3's modules or the runtime's, and again once its clients and configuration
    are made, so the next full one (early in the first invocations) does not walk those either.
    """
    gc.freeze()
