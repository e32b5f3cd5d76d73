"""``python -m lambda_patterns.local``: run a synthesized app locally until interrupted."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from lambda_patterns.local.assembly import AssemblyError


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m lambda_patterns.local",
        description="Run a synthesized CDK app of lambda_patterns constructs locally: moto's server on "
        "127.0.0.1, each function's handler in its own warm Python process, triggers wired as declared.",
    )
    parser.add_argument("--assembly", default="cdk.out", help="cloud assembly folder (default: cdk.out)")
    parser.add_argument("--stacks", nargs="*", default=None, help="only these stacks (default: all)")
    parser.add_argument(
        "--port-base",
        type=int,
        default=4566,
        help="moto's server listens here, REST APIs on the next ports (default: 4566; 0: any free ports)",
    )
    parser.add_argument(
        "--schedule-scale",
        type=float,
        default=60.0,
        help="rate() schedules run this many times faster (default 60: a minute becomes a second; 0: never)",
    )
    parser.add_argument(
        "--no-iam",
        dest="iam",
        action="store_false",
        help="do not check the handlers' AWS calls against their roles (default: checked, AccessDenied "
        "for what the synthesized policies do not grant)",
    )
    parser.add_argument(
        "--iam-report",
        metavar="FILE",
        default=None,
        help="write the least-privilege report (per role: granted, used, never used) as JSON at stop",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=4,
        metavar="N",
        help="invocations of one function that run at the same time, each in its own worker process, for "
        "functions without reserved concurrency (default: 4; a function's reserved concurrency replaces it)",
    )
    parser.add_argument(
        "--watch",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="replace a function's workers when its source folder changes (hot reload; needs the asset "
        "metadata `cdk synth` writes). Default: off; `make local` turns it on",
    )
    args = parser.parse_args(argv)
    if args.concurrency < 1:
        parser.error(f"--concurrency must be at least 1, got {args.concurrency}")
    return args


def app_options(args: argparse.Namespace) -> dict:
    """``LocalApp``'s keyword arguments for the command line's options."""
    return {
        "stacks": args.stacks,
        "port_base": args.port_base,
        "schedule_scale": args.schedule_scale,
        "iam": args.iam,
        "iam_report": args.iam_report,
        "concurrency": args.concurrency,
        "watch": args.watch,
    }


#: What the runner needs beyond the library itself: the ``local`` extra.
LOCAL_EXTRA = ("moto", "werkzeug", "jsonschema", "airspeed")


def missing_local_dependencies() -> list[str]:
    """The ``local`` extra's modules that cannot be imported here."""
    import importlib

    missing = []
    for name in LOCAL_EXTRA:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def main(argv: Sequence[str] | None = None) -> int:
    """Runs until Ctrl-C or SIGTERM; returns the exit status."""
    args = parse_args(argv)
    missing = missing_local_dependencies()
    if missing:
        print(
            f"error: the local runner needs {', '.join(missing)}: pip install 'lambda-patterns[local]'",
            file=sys.stderr,
        )
        return 2
    from lambda_patterns.local.runner import LocalApp  # imports moto: only once it is known to be there

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stdout
    )
    app = LocalApp(args.assembly, **app_options(args))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        app.start()
    except AssemblyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if app.enforce_iam and hasattr(signal, "SIGUSR1"):
        # The least-privilege report on demand, without stopping: kill -USR1 <pid>.
        signal.signal(signal.SIGUSR1, lambda *_: app.print_iam_report())
    print(
        f"Local app running; AWS_ENDPOINT_URL={app.endpoint} reaches its resources. Ctrl-C stops it.",
        flush=True,
    )
    print(
        f"Its functions answer Lambda's API there: aws lambda invoke --endpoint-url {app.endpoint} ...",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        app.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
