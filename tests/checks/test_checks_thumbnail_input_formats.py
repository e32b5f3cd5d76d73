"""checks.thumbnail_input_formats: some of the formats the handler decodes; the ones kept out say why."""

import pytest

from lambda_patterns import defaults
from lambda_patterns.checks.thumbnail_input_formats import check_input_formats
from test_checks_support import verdict

CODE = "LambdaPatterns.Thumbnail.InputFormats"
KNOWN = defaults.THUMBNAIL_INPUT_FORMATS


@pytest.mark.parametrize(
    ("input_formats", "expected"),
    [
        (KNOWN, None),
        (["jpeg"], None),
        (("heif", "jpeg", "heif"), None),
        ([], f"W: input_formats must be a non-empty list of {KNOWN}, got []"),
        # A bare string would be read letter by letter.
        ("jpeg", f"W: input_formats must be a non-empty list of {KNOWN}, got 'jpeg'"),
        (["jpeg", "JPEG"], f"W: input_formats cannot include 'JPEG' (known: {KNOWN})"),
        (["heic"], f"W: input_formats cannot include 'heic' (known: {KNOWN})"),
        (["png", 7], f"W: input_formats cannot include 7 (known: {KNOWN})"),
        (
            ["jpeg", "psd"],
            f"W: input_formats cannot include 'psd': {defaults.THUMBNAIL_REFUSED_FORMATS['psd']} (known: {KNOWN})",
        ),
        (
            ["eps"],
            "W: input_formats cannot include 'eps': EPS is PostScript, a program: Pillow runs Ghostscript to "
            f"render it (known: {KNOWN})",
        ),
    ],
)
def test_input_formats(input_formats, expected):
    assert verdict(check_input_formats, "W", input_formats) == (expected and (CODE, expected))


@pytest.mark.parametrize("name", sorted(defaults.THUMBNAIL_REFUSED_FORMATS))
def test_every_format_kept_out_is_refused_with_its_reason(name):
    code, message = verdict(check_input_formats, "W", [name])

    assert code == CODE
    assert defaults.THUMBNAIL_REFUSED_FORMATS[name] in message


def test_no_format_is_both_accepted_and_kept_out():
    assert set(KNOWN) & set(defaults.THUMBNAIL_REFUSED_FORMATS) == set()
