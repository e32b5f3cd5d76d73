"""``SynthCache``: a repeat synth reuses the assembly in its output folder only when nothing it read changed.

Each test builds a small CDK app in a temporary folder (a stack module, a handler folder, a settings file the
stack reads, context and an environment variable it uses), synthesizes it once to prime the cache, changes
one input and synthesizes again. The app appends a line to a log each time it really synthesizes, so a test
can tell a reused assembly from a new one; where it matters, the result is compared with a synth of the same
project with the cache off, the ground truth.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lambda_patterns.synth_cache import RECORD, _file_matches

ROOT = Path(__file__).resolve().parent.parent
CDK = ROOT / "node_modules" / ".bin" / "cdk"

APP = textwrap.dedent(
    """
    import os
    from lambda_patterns.synth_cache import SynthCache

    cache = SynthCache.start()
    if cache.reusable():
        raise SystemExit(0)
    with open(os.environ["SYNTH_LOG"], "a") as log:
        log.write("synthesized\\n")

    import aws_cdk as cdk
    from service_stack import ServiceStack

    app = cdk.App()
    ServiceStack(app, "Service")
    app.synth()
    print("stored" if cache.store() else "not stored")
    """
)

STACK = textwrap.dedent(
    """
    import json
    import os
    import subprocess
    import sys

    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from lambda_patterns import FunctionPackage, LambdaService, synth_cache


    class ServiceStack(cdk.Stack):
        def __init__(self, scope, id):
            super().__init__(scope, id)
            with open("settings.json") as handle:
                settings = json.load(handle)
            service = LambdaService(self, "Orders", entry="orders")
            cdk.CfnOutput(self, "Label", value=settings["label"])
            cdk.CfnOutput(self, "Greeting", value=self.node.try_get_context("greeting") or "none")
            cdk.CfnOutput(self, "Region", value=os.environ.get("CDK_DEFAULT_REGION", "none"))
            cdk.CfnOutput(self, "Function", value=service.function.function_name)
            if os.environ.get("REWRITE_SETTINGS"):
                # The synth writes a file it read: the record cannot say which content the outputs stem from.
                with open("settings.json", "w") as handle:
                    json.dump({"label": "rewritten"}, handle)
            if os.environ.get("TOUCH_HANDLER"):
                # Another process changes an input while the synth runs.
                subprocess.run([sys.executable, "-c", "open('orders/handler.py', 'a').write('# edited')"])
            try:
                # An optional file: the synth depends on its absence as much as on its content.
                with open("config/override.json") as handle:
                    cdk.CfnOutput(self, "Override", value=json.load(handle)["label"])
            except FileNotFoundError:
                pass
            try:
                import local_settings  # an optional module, in a folder that may not exist yet

                cdk.CfnOutput(self, "Local", value=local_settings.LABEL)
            except ImportError:
                pass
            # A variable no prefix of the cache's names, read by the app.
            cdk.CfnOutput(self, "Stage", value=os.environ.get("STAGE", "dev"))
            if os.environ.get("PEEK_PACKAGE"):
                # A package whose code is looked at but that no function takes: it stages nothing.
                FunctionPackage(self, "Peek", entry="peek").code
            if os.environ.get("PROBE"):
                # Part of the assembly comes from a command's output (as a bytecode compiler's identity does).
                command = [sys.executable, "probe.py"]
                output = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
                synth_cache.note_probe(command, output)
                cdk.CfnOutput(self, "Probe", value=output)
            if os.path.isdir("plain"):
                # An asset that no FunctionPackage made: CDK fingerprints it in node, out of the cache's sight.
                lambda_.Function(
                    self,
                    "Plain",
                    runtime=lambda_.Runtime.PYTHON_3_12,
                    handler="index.handler",
                    code=lambda_.Code.from_asset("plain"),
                )
    """
)


class Project:
    """The app's folder, its output folder and a way to synthesize it as the CLI runs an app."""

    def __init__(self, root: Path, library: bool = False) -> None:
        self.root = root
        self.outdir = root / "cdk.out"
        # A folder on the module path that does not exist yet, as a user's PYTHONPATH may name one.
        self.extra = root.parent / f"{root.name}-extra"
        self.path = [self.extra]
        if library:
            # A copy of this library ahead of the installed one, for a test that changes the library itself.
            self.library = root.parent / f"{root.name}-library"
            shutil.copytree(
                ROOT / "constructs" / "lambda_patterns",
                self.library / "lambda_patterns",
                ignore=shutil.ignore_patterns("__pycache__"),
            )
            self.path.append(self.library)
        self.log = root.parent / f"{root.name}-synth.log"
        self.context = {"greeting": "hello"}
        self.env = {"CDK_DEFAULT_REGION": "eu-west-1"}
        (root / "orders").mkdir(parents=True)
        (root / "orders" / "handler.py").write_text("def handler(event, context):\n    return 'v1'\n")
        (root / "settings.json").write_text(json.dumps({"label": "first"}))
        (root / "config").mkdir()  # a folder the synth does not list, where an optional file may appear
        (root / "service_stack.py").write_text(STACK)
        (root / "app.py").write_text(APP)

    def synth(self, outdir: Path | None = None, **env: str) -> subprocess.CompletedProcess:
        environment = {
            k: v for k, v in os.environ.items() if not k.startswith(("CDK_", "LAMBDA_PATTERNS_SYNTH"))
        }
        environment.update(
            CDK_OUTDIR=str(outdir or self.outdir),
            CDK_CONTEXT_JSON=json.dumps(self.context),
            SYNTH_LOG=str(self.log),
            LAMBDA_PATTERNS_CACHE=str(self.root.parent / "bundles"),
            PYTHONPATH=os.pathsep.join([*map(str, self.path), os.environ.get("PYTHONPATH", "")]),
            **self.env,
            **env,
        )
        return subprocess.run(
            [sys.executable, "app.py"],
            cwd=self.root,
            env=environment,
            check=True,
            capture_output=True,
            text=True,
        )

    @property
    def synths(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0

    def template(self, outdir: Path | None = None) -> dict:
        return json.loads(((outdir or self.outdir) / "Service.template.json").read_text())

    def output(self, name: str) -> str:
        return self.template()["Outputs"][name]["Value"]

    def ground_truth(self) -> dict:
        """The template a synth with the cache off writes into a new folder."""
        fresh = self.root.parent / f"{self.root.name}-fresh.out"
        shutil.rmtree(fresh, ignore_errors=True)
        self.synth(outdir=fresh, LAMBDA_PATTERNS_SYNTH_CACHE="off")
        return self.template(fresh)


@pytest.fixture
def primed(tmp_path) -> Project:
    """A project synthesized once: its output folder holds an assembly and the cache's record."""
    project = Project(tmp_path / "app")
    assert project.synth().stdout.strip() == "stored"
    assert project.synths == 1
    return project


def test_synth_cache_reuses_the_assembly_when_nothing_changed(primed):
    # given a primed project, when it is synthesized again unchanged
    result = primed.synth()

    # then the app ends before building the tree, and the assembly is the one a fresh synth writes
    assert primed.synths == 1
    assert result.stdout == ""
    assert primed.template() == primed.ground_truth()


def test_synth_cache_reuses_after_a_file_is_touched_but_not_changed(primed):
    # given the handler rewritten with the same bytes (a new modification time only)
    handler = primed.root / "orders" / "handler.py"
    handler.write_bytes(handler.read_bytes())

    primed.synth()

    assert primed.synths == 1


@pytest.mark.parametrize(
    ("change", "check"),
    [
        pytest.param(
            lambda p: (p.root / "service_stack.py").write_text(STACK.replace('"Label"', '"Name"')),
            lambda p: "Name" in p.template()["Outputs"],
            id="the-app-source",
        ),
        pytest.param(
            lambda p: (p.root / "settings.json").write_text(json.dumps({"label": "second"})),
            lambda p: p.output("Label") == "second",
            id="a-file-the-app-reads",
        ),
        pytest.param(
            lambda p: (p.root / "orders" / "handler.py").write_text(
                "def handler(event, context):\n    return 'v2'\n"
            ),
            None,
            id="the-handler",
        ),
        pytest.param(
            lambda p: (p.root / "orders" / "helpers.py").write_text("VALUE = 1\n"),
            None,
            id="a-new-file-in-the-handler-folder",
        ),
        pytest.param(
            lambda p: p.context.update(greeting="bonjour"),
            lambda p: p.output("Greeting") == "bonjour",
            id="the-context",
        ),
        pytest.param(
            lambda p: p.env.update(CDK_DEFAULT_REGION="us-west-2"),
            lambda p: p.output("Region") == "us-west-2",
            id="an-environment-variable",
        ),
        pytest.param(
            lambda p: p.env.update(STAGE="prod"),
            lambda p: p.output("Stage") == "prod",
            id="a-variable-the-app-reads",
        ),
        pytest.param(
            lambda p: (p.root / "config" / "override.json").write_text(json.dumps({"label": "override"})),
            lambda p: p.output("Override") == "override",
            id="a-file-the-app-found-missing",
        ),
        pytest.param(
            lambda p: (p.root / "local_settings.py").write_text("LABEL = 'local'\n"),
            lambda p: p.output("Local") == "local",
            id="a-new-module-in-the-app-folder",
        ),
        pytest.param(
            lambda p: (p.extra.mkdir(), (p.extra / "local_settings.py").write_text("LABEL = 'extra'\n")),
            lambda p: p.output("Local") == "extra",
            id="a-new-module-in-a-path-folder-that-did-not-exist",
        ),
    ],
)
def test_synth_cache_synthesizes_again_when_an_input_changed(primed, change, check):
    # given a primed project, when one input changes
    before = primed.template()
    change(primed)

    primed.synth()

    # then the app synthesizes again, and writes what a synth with the cache off writes
    assert primed.synths == 2
    assert primed.template() != before
    if check is not None:
        assert check(primed)
    assert primed.template() == primed.ground_truth()


def test_synth_cache_synthesizes_again_when_a_package_shadows_a_module_of_the_library(tmp_path):
    # given a project primed with a copy of this library, whose folder the import system listed before the
    # cache started (importing the cache itself)
    project = Project(tmp_path / "app", library=True)
    project.synth()

    # when a package appears beside a module of the library, which it shadows (a package wins over a module)
    defaults = project.library / "lambda_patterns" / "defaults.py"
    (project.library / "lambda_patterns" / "defaults").mkdir()
    (project.library / "lambda_patterns" / "defaults" / "__init__.py").write_text(
        defaults.read_text().replace("MEMORY_MB = 512", "MEMORY_MB = 1024")
    )
    project.synth()

    # then the app synthesizes again, with the package's value
    assert project.synths == 2
    function = next(
        resource
        for resource in project.template()["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    )
    assert function["Properties"]["MemorySize"] == 1024
    assert project.template() == project.ground_truth()


def test_file_matches_trusts_an_old_unchanged_time_and_size(tmp_path):
    # given a file recorded long before the record was written
    path = tmp_path / "input.py"
    path.write_text("a = 1\n")
    stat = path.stat()
    written = stat.st_mtime_ns + 10 * 10**9

    # then its size and time are enough (as git and Python's bytecode cache trust them); content is not read
    assert _file_matches(str(path), stat.st_size, stat.st_mtime_ns, "not-its-digest", written)
    assert not _file_matches(str(path), stat.st_size + 1, stat.st_mtime_ns, "not-its-digest", written)


def test_file_matches_reads_a_racily_clean_file(tmp_path):
    # given a file whose time is within the racy window of the record: it may have changed again in that tick
    path = tmp_path / "input.py"
    path.write_text("a = 1\n")
    stat = path.stat()
    digest = hashlib.sha256(b"a = 1\n").hexdigest()
    written = stat.st_mtime_ns + 10**9

    # then only its content decides
    assert _file_matches(str(path), stat.st_size, stat.st_mtime_ns, digest, written)
    path.write_text("a = 2\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert not _file_matches(str(path), stat.st_size, stat.st_mtime_ns, digest, written)


def test_file_matches_compares_installed_files_by_time(tmp_path):
    path = tmp_path / "module.py"
    path.write_text("a = 1\n")
    stat = path.stat()

    assert _file_matches(str(path), stat.st_size, stat.st_mtime_ns, None, stat.st_mtime_ns)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert not _file_matches(str(path), stat.st_size, stat.st_mtime_ns, None, stat.st_mtime_ns)
    path.unlink()
    assert not _file_matches(str(path), stat.st_size, stat.st_mtime_ns, None, stat.st_mtime_ns)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda out: (out / "Service.template.json").write_text("{}"), id="template-edited"),
        pytest.param(lambda out: (out / "manifest.json").unlink(), id="manifest-deleted"),
        pytest.param(
            lambda out: shutil.rmtree(next(out.glob("asset.*"))),
            id="staged-asset-deleted",
        ),
        pytest.param(lambda out: (out / RECORD).write_text("not json"), id="record-corrupt"),
    ],
)
def test_synth_cache_synthesizes_again_when_the_output_folder_changed(primed, damage):
    expected = primed.template()
    damage(primed.outdir)

    primed.synth()

    assert primed.synths == 2
    assert primed.template() == expected
    assert len(list(primed.outdir.glob("asset.*"))) == 1


def test_synth_cache_is_off_when_asked(primed):
    primed.synth(LAMBDA_PATTERNS_SYNTH_CACHE="off")

    assert primed.synths == 2


@pytest.mark.parametrize("how", ["REWRITE_SETTINGS", "TOUCH_HANDLER"])
def test_synth_cache_stores_nothing_when_an_input_changed_during_the_synth(tmp_path, how):
    # given a synth during which an input it read changes (written by the app, or by another process)
    project = Project(tmp_path / "app")
    time.sleep(0.05)  # the project's files are older than the synth, as a user's are

    # then it writes no record, and the next synth (nothing changed since) synthesizes again
    assert project.synth(**{how: "1"}).stdout.strip() == "not stored"
    assert not (project.outdir / RECORD).exists()
    project.synth()
    assert project.synths == 2


def test_synth_cache_stores_nothing_for_an_asset_no_package_made(tmp_path):
    # given an app with a plain Code.from_asset folder, which CDK fingerprints in node
    project = Project(tmp_path / "app")
    (project.root / "plain").mkdir()
    (project.root / "plain" / "index.py").write_text("def handler(event, context):\n    return 1\n")

    # when it is synthesized twice, the second time after the plain folder changed
    assert project.synth().stdout.strip() == "not stored"
    (project.root / "plain" / "index.py").write_text("def handler(event, context):\n    return 2\n")
    project.synth()

    # then there is no record to trust, and the second synth staged the new folder
    assert project.synths == 2
    assert not (project.outdir / RECORD).exists()
    assert project.template() == project.ground_truth()


def test_synth_cache_stores_nothing_for_a_plain_asset_beside_a_package_that_staged_nothing(tmp_path):
    # given an app with a plain Code.from_asset folder, and a package whose code is read but not used
    project = Project(tmp_path / "app")
    (project.root / "peek").mkdir()
    (project.root / "peek" / "index.py").write_text("def handler(event, context):\n    return 0\n")
    (project.root / "plain").mkdir()
    (project.root / "plain" / "index.py").write_text("def handler(event, context):\n    return 1\n")

    # when it is synthesized twice, the second time after the plain folder changed
    project.synth(PEEK_PACKAGE="1")
    (project.root / "plain" / "index.py").write_text("def handler(event, context):\n    return 2\n")
    project.synth(PEEK_PACKAGE="1")

    # then the package counts for nothing (only a function that stages it vouches for an asset): no record,
    # and the second synth staged the new folder
    assert project.synths == 2
    assert not (project.outdir / RECORD).exists()
    assert project.template() == project.ground_truth()


def test_synth_cache_runs_a_noted_probe_again_and_reuses_only_on_the_same_output(tmp_path):
    # given an app whose assembly holds what a command printed, the command reading a file the app never opens
    project = Project(tmp_path / "app")
    (project.root / "probe.py").write_text("print(open('identity.txt').read())\n")
    (project.root / "identity.txt").write_text("build-1")
    time.sleep(0.05)
    assert project.synth(PROBE="1").stdout.strip() == "stored"

    # when nothing changed, it reuses; when the command prints something else, it synthesizes again
    project.synth(PROBE="1")
    assert project.synths == 1
    (project.root / "identity.txt").write_text("build-2")
    project.synth(PROBE="1")
    assert project.synths == 2
    assert project.output("Probe") == "build-2"


@pytest.mark.slow
def test_synth_cache_serves_the_pinned_cli_a_repeat_synth(primed):
    """The CLI reads the reused assembly as one it just asked for: same stacks, same templates."""
    # given the project synthesized once by the pinned CLI into its own folder
    out = primed.root / "cli.out"
    command = [
        str(CDK),
        "synth",
        "--app",
        f"{sys.executable} app.py",
        "--output",
        str(out),
        "--context",
        "greeting=hello",
        "--no-notices",
        "--quiet",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDK_")}
    env.update(SYNTH_LOG=str(primed.log), CDK_DISABLE_CLI_TELEMETRY="true")
    subprocess.run(command, cwd=primed.root, env=env, check=True, capture_output=True, text=True)
    first = json.loads((out / "Service.template.json").read_text())
    synths = primed.synths

    # when the CLI synthesizes again with nothing changed
    started = time.time()
    result = subprocess.run(command, cwd=primed.root, env=env, check=True, capture_output=True, text=True)

    # then the app did not synthesize, and the CLI found the same assembly (and lists the stack)
    assert primed.synths == synths, result.stderr
    assert json.loads((out / "Service.template.json").read_text()) == first
    listed = subprocess.run(
        [str(CDK), "ls", "--app", str(out), "--no-notices"],
        cwd=primed.root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert listed.stdout.split() == ["Service"]
    assert (out / RECORD).stat().st_mtime < started
