"""Hot reload in the local runner, on a user app in a temporary folder outside the repository,
synthesized by the project's pinned CDK CLI (``cdk synth``, which turns CDK's asset metadata on): a
``FunctionPackage`` of a handler folder and a shared folder. With ``watch=True``, editing a file in either
folder changes the next invocation's result, with no restart of the app; an invocation in progress
finishes on the code it started with.

The source folders are recorded as resource metadata only when asset metadata is on, so a
``Template.from_stack`` template (the snapshots) holds none of it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from local_apps import function_spec

ROOT = Path(__file__).resolve().parents[2]
CDK = ROOT / "node_modules" / ".bin" / "cdk"

HANDLER = """
import os
import time

from greeting import GREETING

VERSION = 1


def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"version": VERSION, "greeting": GREETING, "pid": os.getpid()}
"""

APP = """
import aws_cdk as cdk

from lambda_patterns import FunctionPackage, ServerlessFunction

app = cdk.App()
stack = cdk.Stack(app, "Reloading")
package = FunctionPackage(stack, "Package", entry="src/handler", shared=["src/shared"])
ServerlessFunction(stack, "Fn", code=package)
app.synth()
"""


def _write_app(folder: Path) -> None:
    (folder / "src" / "handler").mkdir(parents=True)
    (folder / "src" / "shared").mkdir()
    (folder / "src" / "handler" / "handler.py").write_text(HANDLER)
    (folder / "src" / "shared" / "greeting.py").write_text('GREETING = "hello"\n')
    (folder / "app.py").write_text(APP)
    (folder / "cdk.json").write_text(json.dumps({"app": f"{sys.executable} app.py"}))


@pytest.fixture(scope="module")
def user_app(tmp_path_factory) -> Path:
    if not CDK.exists():
        pytest.skip(f"the pinned CDK CLI is not installed ({CDK}); run `make install`")
    folder = tmp_path_factory.mktemp("reload-user-app")
    _write_app(folder)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run(
        [str(CDK), "synth", "--quiet", "--no-notices", "--output", "cdk.out"],
        cwd=folder,
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return folder


def _edit(path: Path, text: str) -> None:
    """Replaces the file at once, as editors save, so no scan can see it half written."""
    draft = path.parent.parent / f".{path.name}.draft"  # beside the watched folder, not in it
    draft.write_text(text)
    os.replace(draft, path)


def _wait_for_reload(caplog, file: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for record in caplog.records:
            message = record.getMessage()
            if "source changed, workers replaced" in message and file in message:
                return
        time.sleep(0.05)
    raise AssertionError(f"the watcher did not reload the function after {file} changed")


@pytest.mark.slow
def test_the_synthesized_function_records_its_source_folders_relative_to_the_assembly(user_app):
    template = json.loads((user_app / "cdk.out" / "Reloading.template.json").read_text())
    (function,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    metadata = function["Metadata"]

    assert metadata["lambda-patterns:asset:entry"] == "../src/handler"
    assert metadata["lambda-patterns:asset:shared"] == ["../src/shared"]
    assert str(user_app) not in json.dumps(template)  # no absolute path of this machine


@pytest.mark.slow
def test_editing_the_handler_or_shared_code_changes_the_next_result_without_a_restart(user_app, caplog):
    from lambda_patterns.local import LocalApp

    caplog.set_level(logging.INFO, logger="lambda_patterns.local")
    handler_file = user_app / "src" / "handler" / "handler.py"
    with LocalApp(user_app / "cdk.out", schedule_scale=0, watch=True) as app:
        (worker,) = app.workers.values()
        first = app.invoke(worker.spec.arn, {}, "test")
        assert first.ok, first.error
        assert (first.result["version"], first.result["greeting"]) == (1, "hello")

        in_flight: list = []
        running = threading.Thread(
            target=lambda: in_flight.append(app.invoke(worker.spec.arn, {"sleep": 2}, "test"))
        )
        running.start()
        while worker.invocations < 2:  # it has its worker: the edit comes while it runs
            time.sleep(0.01)
        _edit(handler_file, HANDLER.replace("VERSION = 1", "VERSION = 2"))
        _wait_for_reload(caplog, "handler.py")
        edited = app.invoke(worker.spec.arn, {}, "test")
        running.join(timeout=30)

        assert edited.ok and edited.result["version"] == 2
        assert in_flight[0].result["version"] == 1  # started on the old code, finished on it

        _edit(user_app / "src" / "shared" / "greeting.py", 'GREETING = "bonjour"\n')
        _wait_for_reload(caplog, "greeting.py")
        shared = app.invoke(worker.spec.arn, {}, "test")

        assert shared.ok and (shared.result["version"], shared.result["greeting"]) == (2, "bonjour")
        assert shared.result["pid"] != edited.result["pid"]  # a new worker, the same app


def test_the_source_metadata_is_absent_unless_asset_metadata_is_on(tmp_path):
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk.assertions import Template

    from lambda_patterns import FunctionPackage, ServerlessFunction

    _write_app(tmp_path)

    def function_metadata(context: dict) -> dict:
        app = cdk.App(outdir=str(tmp_path / "out"), context=context)
        stack = cdk.Stack(app, "Reloading")
        entry, shared = tmp_path / "src" / "handler", tmp_path / "src" / "shared"
        ServerlessFunction(stack, "Fn", code=FunctionPackage(stack, "Package", entry=entry, shared=[shared]))
        resources = Template.from_stack(stack).find_resources("AWS::Lambda::Function")
        (function,) = resources.values()
        return function.get("Metadata", {})

    assert not any(key.startswith("lambda-patterns:") for key in function_metadata({}))
    on = function_metadata({"aws:cdk:enable-asset-metadata": True})
    assert on["lambda-patterns:asset:entry"] == "../src/handler"
    assert on["lambda-patterns:asset:exclude"]  # the package's excludes, so the watcher skips them too

    # Code.from_asset of a folder records that folder.
    app = cdk.App(outdir=str(tmp_path / "out"), context={"aws:cdk:enable-asset-metadata": True})
    stack = cdk.Stack(app, "Plain")
    ServerlessFunction(stack, "Fn", code=lambda_.Code.from_asset(str(tmp_path / "src" / "handler")))
    (function,) = Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()
    assert function["Metadata"]["lambda-patterns:asset:entry"] == "../src/handler"
    shutil.rmtree(tmp_path / "out", ignore_errors=True)


def _spec(name: str, source):
    return function_spec(name, handler="handler.handler", source=source)


def test_the_watcher_copies_changes_deletes_what_was_deleted_and_reports_a_changed_requirements_file(
    tmp_path, caplog
):
    from lambda_patterns.local.assembly import SourceFolders
    from lambda_patterns.local.functions import FunctionWorker
    from lambda_patterns.local.reload import SourceWatcher

    caplog.set_level(logging.INFO, logger="lambda_patterns.local")
    entry = tmp_path / "src"
    entry.mkdir()
    (entry / "handler.py").write_text("A = 1\n")
    (entry / "helper.py").write_text("B = 1\n")
    (entry / "tests").mkdir()
    (entry / "tests" / "test_handler.py").write_text("")
    requirements = entry / "requirements.txt"
    requirements.write_text("")
    source = SourceFolders(entry=entry, exclude=("tests", "requirements.txt"), requirements=requirements)
    watched = FunctionWorker(_spec("Watched", source), "http://127.0.0.1:1", tmp_path / "roots")
    unknown = FunctionWorker(_spec("Inline", None), "http://127.0.0.1:1", tmp_path / "roots")
    task_root = watched.task_root
    task_root.mkdir(parents=True)
    for name in ("handler.py", "helper.py"):
        shutil.copy2(entry / name, task_root / name)
    (task_root / "installed_dependency.py").write_text("")
    watcher = SourceWatcher([watched, unknown], interval=3600)  # polled by hand below
    watcher.start()
    try:
        assert watcher.poll() == []  # nothing changed since the task root was built

        (entry / "handler.py").write_text("A = 2\n")
        (entry / "helper.py").unlink()
        (entry / "tests" / "test_handler.py").write_text("changed")  # excluded from the package
        assert watcher.poll() == ["Watched"]

        requirements.write_text("requests\n")
        assert watcher.poll() == []
    finally:
        watcher.stop()

    assert (task_root / "handler.py").read_text() == "A = 2\n"
    assert not (task_root / "helper.py").exists()
    assert not (task_root / "tests").exists()
    assert (task_root / "installed_dependency.py").exists()  # the installed packages stay
    messages = [record.getMessage() for record in caplog.records]
    assert any("Watched: source changed, workers replaced" in message for message in messages)
    assert any("requirements.txt changed: re-synthesize" in message for message in messages)
    assert any("no source folders recorded for Inline" in message for message in messages)


def test_the_command_line_turns_the_watch_on_and_off_and_make_local_turns_it_on():
    from lambda_patterns.local.__main__ import app_options, parse_args

    assert app_options(parse_args([]))["watch"] is False
    assert app_options(parse_args(["--watch"]))["watch"] is True
    assert app_options(parse_args(["--watch", "--no-watch"]))["watch"] is False
    (local_target,) = [
        line for line in (ROOT / "Makefile").read_text().splitlines() if "-m lambda_patterns.local " in line
    ]
    assert "--watch" in local_target.split()


def test_a_deleted_source_folder_keeps_the_running_code_with_a_warning_until_it_is_back(tmp_path, caplog):
    # A folder that is gone (a branch switch, a rename) is no new code: cdk deploy would fail on it, so
    # the functions keep running what they have rather than losing every module at once.
    from lambda_patterns.local.assembly import SourceFolders
    from lambda_patterns.local.functions import FunctionWorker
    from lambda_patterns.local.reload import SourceWatcher

    caplog.set_level(logging.INFO, logger="lambda_patterns.local")
    entry = tmp_path / "src"
    entry.mkdir()
    (entry / "handler.py").write_text("A = 1\n")
    worker = FunctionWorker(
        _spec("Watched", SourceFolders(entry=entry, exclude=())), "http://127.0.0.1:1", tmp_path / "roots"
    )
    worker.task_root.mkdir(parents=True)
    shutil.copy2(entry / "handler.py", worker.task_root / "handler.py")
    watcher = SourceWatcher([worker], interval=3600)  # polled by hand below
    watcher.start()
    try:
        moved = tmp_path / "moved-away"
        entry.rename(moved)
        assert watcher.poll() == []
        assert watcher.poll() == []
        assert (worker.task_root / "handler.py").read_text() == "A = 1\n"

        moved.rename(entry)
        (entry / "handler.py").write_text("A = 2\n")
        assert watcher.poll() == ["Watched"]
    finally:
        watcher.stop()

    assert (worker.task_root / "handler.py").read_text() == "A = 2\n"
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert len([message for message in warnings if "is missing" in message]) == 1  # said once, not per scan


def test_a_reload_replaces_each_file_at_once_so_a_cold_start_meanwhile_never_reads_half_of_it(tmp_path):
    # Pollers and API requests keep invoking during a reload, and a cold start may import a module while
    # the watcher copies it: the module must be the old one or the new one, never a cut one.
    from lambda_patterns.local.assembly import SourceFolders
    from lambda_patterns.local.reload import apply_changes, scan

    source = tmp_path / "src"
    source.mkdir()
    task_root = tmp_path / "root"
    task_root.mkdir()
    versions = [("A = 1  # " + "a" * 2_000_000 + "\n"), ("A = 2  # " + "b" * 2_000_000 + "\n")]
    (task_root / "handler.py").write_text(versions[0])
    folders = SourceFolders(entry=source, exclude=())
    seen: set[int] = set()
    done = threading.Event()

    def cold_starts() -> None:
        while not done.is_set():
            seen.add(len((task_root / "handler.py").read_text()))

    reader = threading.Thread(target=cold_starts)
    reader.start()
    try:
        for turn in range(20):
            (source / "handler.py").write_text(versions[(turn + 1) % 2])
            apply_changes(task_root, {}, scan(folders))  # against nothing: copied every turn
    finally:
        done.set()
        reader.join(timeout=10)

    assert seen <= {len(version) for version in versions}
