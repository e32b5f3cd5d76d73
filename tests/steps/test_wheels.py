"""Pure checks that decide whether installed wheels run on a Lambda runtime and architecture."""

from __future__ import annotations

import pytest

from lambda_patterns.steps.platforms import max_glibc
from lambda_patterns.steps.wheels import (
    elf_machine,
    find_incompatibilities,
    missing_requirement,
    parse_wheel_tags,
    tag_is_compatible,
    wheel_is_compatible,
)


def elf_header(e_machine: int, *, big_endian: bool = False) -> bytes:
    """The first 64 bytes of a 64-bit ELF shared object for ``e_machine``."""
    order = "big" if big_endian else "little"
    ident = b"\x7fELF" + bytes([2, 2 if big_endian else 1, 1, 0]) + bytes(8)
    return ident + (3).to_bytes(2, order) + e_machine.to_bytes(2, order) + bytes(44)


def write_distribution(site, name: str, tags: list[str], files: dict[str, bytes]) -> None:
    """A distribution as ``pip install --target`` leaves it: files plus a dist-info with WHEEL and RECORD."""
    dist_info = site / f"{name}-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist_info / "WHEEL").write_text("Wheel-Version: 1.0\n" + "".join(f"Tag: {tag}\n" for tag in tags))
    for relative, data in files.items():
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_bytes(data)
    (dist_info / "RECORD").write_text("".join(f"{relative},,\n" for relative in files))


def test_parse_wheel_tags_reads_every_tag_line():
    wheel = (
        "Wheel-Version: 1.0\nGenerator: bdist_wheel\nRoot-Is-Purelib: false\n"
        "Tag: cp314-cp314-manylinux_2_27_aarch64\nTag: cp314-cp314-manylinux_2_28_aarch64\n"
    )

    assert parse_wheel_tags(wheel) == [
        "cp314-cp314-manylinux_2_27_aarch64",
        "cp314-cp314-manylinux_2_28_aarch64",
    ]


def test_parse_wheel_tags_expands_compressed_tag_sets():
    assert parse_wheel_tags("Tag: py2.py3-none-any\n") == ["py2-none-any", "py3-none-any"]


def test_parse_wheel_tags_rejects_a_tag_without_three_parts():
    with pytest.raises(ValueError, match="not a wheel tag: 'py3-any'"):
        parse_wheel_tags("Tag: py3-any\n")


@pytest.mark.parametrize(
    "tag",
    [
        "py3-none-any",
        "py314-none-any",
        "cp314-cp314-manylinux_2_28_aarch64",
        "cp314-cp314-manylinux2014_aarch64",
        "cp312-abi3-manylinux_2_17_aarch64",
        "cp38-abi3-manylinux1_aarch64",
    ],
)
def test_tag_runs_on_python_3_14_arm64(tag):
    assert tag_is_compatible(tag, "3.14", "arm64")


@pytest.mark.parametrize(
    "tag",
    [
        "cp314-cp314-manylinux_2_28_x86_64",  # other machine
        "cp313-cp313-manylinux_2_28_aarch64",  # other interpreter
        "cp314-cp314t-manylinux_2_28_aarch64",  # free-threaded build
        "cp314-cp314-manylinux_2_34_aarch64",  # newer glibc than pip is told to accept
        "cp314-cp314-musllinux_1_2_aarch64",  # musl, not glibc
        "cp314-cp314-linux_aarch64",  # not a manylinux wheel
        "cp314-cp314-macosx_11_0_arm64",
        "py2-none-any",
        "pp310-pypy310_pp73-manylinux_2_28_aarch64",
    ],
)
def test_tag_does_not_run_on_python_3_14_arm64(tag):
    assert not tag_is_compatible(tag, "3.14", "arm64")


def test_manylinux_2_28_needs_an_amazon_linux_2023_runtime():
    assert not tag_is_compatible("cp311-cp311-manylinux_2_28_x86_64", "3.11", "x86_64")
    assert tag_is_compatible("cp311-cp311-manylinux2014_x86_64", "3.11", "x86_64")


def test_newest_glibc_follows_the_runtime_platform_tags():
    assert max_glibc("3.14") == (2, 28)
    assert max_glibc("3.11") == (2, 17)


def test_wheel_is_compatible_when_any_one_tag_fits():
    tags = ["cp314-cp314-manylinux_2_28_x86_64", "cp314-cp314-manylinux_2_28_aarch64"]

    assert wheel_is_compatible(tags, "3.14", "arm64")
    assert not wheel_is_compatible(tags[:1], "3.14", "arm64")


def test_wheel_without_tags_is_not_trusted():
    assert not wheel_is_compatible([], "3.14", "arm64")


@pytest.mark.parametrize(("e_machine", "name"), [(183, "aarch64"), (62, "x86_64")])
def test_elf_machine_reads_little_endian_header(e_machine, name):
    assert elf_machine(elf_header(e_machine)) == e_machine


def test_elf_machine_reads_big_endian_header():
    assert elf_machine(elf_header(183, big_endian=True)) == 183


@pytest.mark.parametrize(
    "data", [b"", b"\x7fELF", b"#!/bin/sh\n" + bytes(30), b"\x7fELF\x02\x07" + bytes(20)]
)
def test_elf_machine_is_none_for_bytes_that_are_not_an_elf_header(data):
    assert elf_machine(data) is None


def test_missing_requirement_is_read_from_pip_no_matching_distribution():
    stderr = (
        "ERROR: Could not find a version that satisfies the requirement tinyx86==1.0 (from versions: none)\n"
        "ERROR: No matching distribution found for tinyx86==1.0\n"
    )

    assert missing_requirement(stderr) == "tinyx86==1.0"


def test_missing_requirement_is_read_from_could_not_find_a_version_alone():
    stderr = (
        "ERROR: Could not find a version that satisfies the requirement pillow>=99 "
        "(from -r requirements.txt (line 1)) (from versions: 12.0.0, 13.0.0)\n"
    )

    assert missing_requirement(stderr) == "pillow>=99"


def test_missing_requirement_is_none_for_other_pip_errors():
    assert missing_requirement("ERROR: Invalid requirement: 'pillow=13'\n") is None


def test_find_incompatibilities_accepts_matching_wheel_and_shared_object(tmp_path):
    write_distribution(
        tmp_path,
        "native",
        ["cp314-cp314-manylinux_2_28_aarch64"],
        {"native/_ext.cpython-314-aarch64-linux-gnu.so": elf_header(183)},
    )

    assert find_incompatibilities(tmp_path, "3.14", "arm64") == []


def test_find_incompatibilities_names_distribution_whose_tags_do_not_fit(tmp_path):
    write_distribution(tmp_path, "xonly", ["cp314-cp314-manylinux2014_x86_64"], {"xonly/__init__.py": b""})

    assert find_incompatibilities(tmp_path, "3.14", "arm64") == [
        "xonly 1.0 was installed from a wheel tagged ['cp314-cp314-manylinux2014_x86_64'], "
        "none of which runs on python3.14 on arm64"
    ]


def test_find_incompatibilities_names_distribution_shipping_shared_object_for_other_machine(tmp_path):
    write_distribution(
        tmp_path,
        "liar",
        ["cp314-cp314-manylinux_2_28_aarch64"],
        {"liar/_ext.cpython-314-aarch64-linux-gnu.so": elf_header(62)},
    )

    assert find_incompatibilities(tmp_path, "3.14", "arm64") == [
        "liar 1.0 ships liar/_ext.cpython-314-aarch64-linux-gnu.so built for x86_64, but the function runs "
        "python3.14 on arm64 (aarch64); it would fail to import at run time"
    ]


def test_find_incompatibilities_checks_versioned_shared_libraries(tmp_path):
    write_distribution(
        tmp_path,
        "bundled",
        ["cp314-cp314-manylinux_2_28_x86_64"],
        {"bundled.libs/libjpeg-1a2b.so.62.4.0": elf_header(183)},
    )

    assert find_incompatibilities(tmp_path, "3.14", "x86_64") == [
        "bundled 1.0 ships bundled.libs/libjpeg-1a2b.so.62.4.0 built for aarch64, but the function runs "
        "python3.14 on x86_64 (x86_64); it would fail to import at run time"
    ]
