"""Run a synthesized CDK app of lambda_patterns constructs on this machine, without Docker or an account.

``python -m lambda_patterns.local`` reads the cloud assembly (``cdk.out``), creates its buckets, tables,
topics, queues and streams on moto's server (127.0.0.1 only), runs each function's real handler code in its
own warm Python process and wires the triggers the templates declare. See ``docs/local.md``.
"""

from lambda_patterns.local.runner import LocalApp

__all__ = ["LocalApp"]
