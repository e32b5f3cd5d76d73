"""The README's usage example is true as shown: it synthesizes and cdk-nag's AwsSolutions pack finds nothing.

Given the first Python block of the README's "Using the constructs in your own CDK app" section, when it runs
as a user's app.py (its handler folder created beside it) under cdk-nag, then there is no finding.
"""

from __future__ import annotations

import re
from pathlib import Path

import aws_cdk as cdk

from synth_helpers import CDK_CONTEXT, synth_with_nag

ROOT = Path(__file__).resolve().parent.parent


def readme_example() -> str:
    section = (ROOT / "README.md").read_text().split("## Using the constructs in your own CDK app", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_usage_example_is_cdk_nag_clean_as_shown(tmp_path, monkeypatch):
    source = readme_example()
    entry = re.search(r'entry="([^"]+)"', source).group(1)
    (tmp_path / entry).mkdir(parents=True)
    (tmp_path / entry / "handler.py").write_text("def handler(event, context):\n    return None\n")
    monkeypatch.chdir(tmp_path)
    captured: dict = {}
    # The example builds its own App and calls app.synth(): run it as written, then check that app with
    # cdk-nag (its synth is replaced so the plugin is added first).
    real_app = cdk.App

    def app_with_repo_context(*args, **kwargs):
        app = real_app(
            *args,
            context={**CDK_CONTEXT, **kwargs.pop("context", {})},
            outdir=str(tmp_path / "out"),
            **kwargs,
        )
        captured["app"] = app
        app.synth = lambda *a, **k: None
        return app

    monkeypatch.setattr(cdk, "App", app_with_repo_context)
    namespace = {"__name__": "__main__"}
    exec(
        compile(
            source.replace("from aws_cdk import App, Stack", "from aws_cdk import Stack"), "README.md", "exec"
        ),
        {**namespace, "App": app_with_repo_context},
    )

    app = captured["app"]
    del app.synth  # the App's own synth again
    _assembly, findings = synth_with_nag(app)

    assert findings == []
