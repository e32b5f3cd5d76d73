"""`lambda-patterns cost --cold-start`: each Python function's init measured by importing its staged package
in fresh interpreters, scaled by Lambda's CPU share, beside SnapStart's and provisioned concurrency's cost
(figures checked by hand against the published prices)."""

import json
import textwrap

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb

from lambda_patterns.operations import cold_start
from lambda_patterns.operations.cli import main
from lambda_patterns.steps.function import ServerlessFunction
from lambda_patterns.steps.package import FunctionPackage
from synth_helpers import CDK_CONTEXT

SLEEP_S = 0.3
# Hand-computed for 512 MB arm64 (0.5 GB, 730 h = 2,628,000 s):
#   SnapStart cache 0.5 x 2,628,000 x $0.0000015046 = $1.9770444 a month
#   SnapStart restore 1,000 x 0.5 x $0.0001397998 = $0.0698999 per 1,000 cold starts
#   provisioned concurrency 1 x 0.5 x 2,628,000 x $0.0000033334 = $4.38008760 a month
SNAPSTART_CACHE_512 = 1.9770444
SNAPSTART_RESTORE_512 = 0.0698999
PC1_512_ARM = 4.3800876

HANDLERS = {
    # Slow at import, and only with the function's own environment: a literal and a deploy-time Ref.
    "slow": f"""
        import os, time
        assert os.environ["MODE"] == "fast", os.environ.get("MODE")
        assert os.environ["TABLE_NAME"], "a Ref must still give the handler a value"
        time.sleep({SLEEP_S})

        def handler(event, context):
            return event
    """,
    "broken": """
        import not_a_module_anywhere

        def handler(event, context):
            return event
    """,
}


@pytest.fixture(scope="module")
def cdk_out(tmp_path_factory):
    root = tmp_path_factory.mktemp("cold")
    out = root / "cdk.out"
    app = cdk.App(outdir=str(out), context=CDK_CONTEXT)
    stack = cdk.Stack(app, "Shop")
    table = dynamodb.TableV2(
        stack, "Table", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
    )
    for name, source in HANDLERS.items():
        folder = root / name
        folder.mkdir()
        (folder / "handler.py").write_text(textwrap.dedent(source))
        ServerlessFunction(
            stack,
            name.title(),
            code=FunctionPackage(stack, f"{name.title()}Package", entry=folder),
            memory_size=512,
            environment={"MODE": "fast", "TABLE_NAME": table.table_name},
        )
    app.synth()
    return out


def _cold_rows(capsys, cdk_out):
    assert main(["cost", "--cdk-out", str(cdk_out), "--cold-start", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["cold_start"]
    return {row["path"].split("/")[1]: row for row in rows}


def test_cold_start_is_the_handlers_import_scaled_by_lambdas_cpu_share(cdk_out, capsys):
    slow = _cold_rows(capsys, cdk_out)["Slow"]

    assert slow["init_ms_here"] >= SLEEP_S * 1000
    assert slow["init_ms_on_lambda"] == pytest.approx(slow["init_ms_here"] * 1769 / 512)
    assert slow["problem"] == ""


def test_snapstart_and_provisioned_concurrency_cost_match_the_hand_computed_figures(cdk_out, capsys):
    slow = _cold_rows(capsys, cdk_out)["Slow"]

    assert slow["snapstart_supported"] is True
    assert slow["snapstart_cache_per_month"] == pytest.approx(SNAPSTART_CACHE_512)
    assert slow["snapstart_restore_per_1000_cold_starts"] == pytest.approx(SNAPSTART_RESTORE_512)
    assert slow["provisioned_concurrency_1_per_month"] == pytest.approx(PC1_512_ARM)


def test_handler_that_cannot_be_imported_here_is_reported_not_guessed(cdk_out, capsys):
    broken = _cold_rows(capsys, cdk_out)["Broken"]

    assert broken["init_ms_here"] is None and broken["init_ms_on_lambda"] is None
    assert "not_a_module_anywhere" in broken["problem"]


def test_cold_start_table_is_printed_after_the_cost_table(cdk_out, capsys):
    assert main(["cost", "--cdk-out", str(cdk_out), "--cold-start", "--cold-start-runs", "1"]) == 0
    out = capsys.readouterr().out

    cost_table, cold_table = out.split("\n\n", 1)[0], out.split("SnapStart $/month", 1)[1]
    assert "total" in cost_table
    assert "Shop/Slow" in cold_table and "cannot import here" in cold_table


def test_native_distributions_are_left_to_this_interpreters_environment(tmp_path):
    # given a package with a wheel built for another platform (Root-Is-Purelib: false)
    package = tmp_path / "package"
    (package / "fakenative").mkdir(parents=True)
    (package / "fakenative" / "__init__.py").write_text("raise ImportError('built for aarch64')\n")
    (package / "fakenative_libs").mkdir()
    dist = package / "fakenative-1.0.dist-info"
    dist.mkdir()
    (dist / "WHEEL").write_text("Wheel-Version: 1.0\nRoot-Is-Purelib: false\n")
    (dist / "RECORD").write_text(
        "fakenative/__init__.py,,\nfakenative_libs/x.so,,\nfakenative-1.0.dist-info/RECORD,,\n"
    )
    (package / "handler.py").write_text("")
    (package / "pure-1.0.dist-info").mkdir()
    (package / "pure-1.0.dist-info" / "WHEEL").write_text("Root-Is-Purelib: true\n")
    view = tmp_path / "view"
    view.mkdir()

    cold_start.importable_view(package, view)

    assert sorted(p.name for p in view.iterdir()) == ["handler.py", "pure-1.0.dist-info"]


@pytest.mark.parametrize(
    ("runtime", "supported"),
    [("python3.11", False), ("python3.12", True), ("python3.14", True), ("python3.9", False)],
)
def test_snapstart_is_offered_from_python_3_12(runtime, supported):
    spec = cold_start.FunctionSpec(stack="S", logical_id="F", path="S/F", memory_mb=1024)
    assert cold_start.ColdStart(spec, runtime, 0.1).snapstart_supported is supported
