"""Keeping the garbage collector off the objects a cold start makes once and keeps for the sandbox's life.

Lambda's runtime, ``import boto3`` and one client leave some 85,000 objects the collector tracks (botocore's
modules, loaded service models, endpoint rule sets). CPython's first full (generation 2) collection walks
every one of them, and it falls due early: after boto3 and a client, a few hundred more allocations tip it,
so a handler's own init pays it as soon as its modules and clients add anything - tens of milliseconds,
more than the handler's own code, and several times that on the fraction of a vCPU small memory settings
get. Almost none of those objects ever becomes garbage: modules, clients and models live until the sandbox
is shut down.

``gc.freeze()`` moves everything tracked so far into the collector's permanent generation, which no
collection walks: that first full collection (and every later one) then covers only what was made after.
Reference cycles already garbage at that moment are kept: about 600 objects after boto3 and a client, once.
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
