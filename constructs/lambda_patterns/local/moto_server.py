"""moto's HTTP server with every request applied one at a time, as DynamoDB applies a conditional write.

moto's ``ThreadedMotoServer`` serves each request on its own thread, and its DynamoDB backend evaluates a
``ConditionExpression`` and then applies the update as two steps with no lock between them: two concurrent
``UpdateItem`` calls guarded by the same condition can both pass it, and a ``TransactWriteItems`` can
interleave with another. Real DynamoDB never does either (one of them gets ``ConditionalCheckFailed`` or
``TransactionConflict``). Any concurrent test, benchmark or local run would then prove nothing about
exactly-once writes. ``SerializedMotoServer`` keeps moto's threaded server (clients still connect in
parallel, so connection pools and timeouts behave as against AWS) but runs the backend under one lock.
Serializing every service, not only DynamoDB, costs little here: moto answers in well under a millisecond
per request, and a global order also makes S3 read-after-write and SQS receives linearizable, as AWS is.

Lambda's own API for the runner's functions is answered in front of the lock (``lambda_api.LambdaApi``):
an invocation runs as long as its handler, which calls moto meanwhile.

Binds 127.0.0.1 only.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from lambda_patterns.local.lambda_api import LambdaApi


class _Serialized:
    """WSGI middleware: one request at a time inside the wrapped application, the response body included
    (moto may build it lazily)."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()
        #: Requests served; tests read it to check that traffic went through the lock.
        self.requests = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self._lock:
            self.requests += 1
            result = self._app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


class SerializedMotoServer(ThreadedMotoServer):
    """``ThreadedMotoServer`` on 127.0.0.1 whose requests are applied one at a time (see module docstring).

    ``lambda_api`` answers the Lambda API once a runner is attached to it (``lambda_api.attach(app)``).
    """

    def __init__(self, port: int = 0, verbose: bool = False) -> None:
        super().__init__(ip_address="127.0.0.1", port=port, verbose=verbose)
        self.app: _Serialized | None = None
        self.lambda_api: LambdaApi | None = None

    def _server_entry(self) -> None:
        self.app = _Serialized(DomainDispatcherApplication(create_backend_app))
        self.lambda_api = LambdaApi(self.app)
        self._server = make_server(
            self._ip_address, self._port, self.lambda_api, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def endpoint(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"
