"""Small pure functions that judge whether installed wheels can run on a Lambda runtime and architecture.

pip's ``--platform`` flags choose wheels by their *labels*; a mislabelled wheel (tags say aarch64, the
``.so`` inside is x86_64) still installs and only fails at run time, as an ``ImportError`` such as Pillow's
"cannot import name '_imaging'" (Pillow #6584). These checks read the wheel metadata and the ELF headers
so that the mismatch is a synth-time error instead.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lambda_patterns.steps.platforms import architecture_name, machine, max_glibc

#: ELF ``e_machine`` values of the two Lambda architectures.
ELF_MACHINES = {"arm64": 183, "x86_64": 62}
_MACHINE_NAMES = {183: "aarch64", 62: "x86_64", 3: "i386", 40: "arm", 243: "riscv"}
#: manylinux's legacy names and the glibc each stands for (PEP 600).
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_PERENNIAL = re.compile(r"^manylinux_(\d+)_(\d+)_(.+)$")
_LEGACY = re.compile(r"^(manylinux1|manylinux2010|manylinux2014)_(.+)$")
_NO_MATCH = re.compile(r"No matching distribution found for (?P<req>.+?)\s*$", re.MULTILINE)
_NO_VERSION = re.compile(
    r"Could not find a version that satisfies the requirement (?P<req>.+?)(?: \(from .*)?$", re.MULTILINE
)


def parse_wheel_tags(wheel_metadata: str) -> list[str]:
    """The tags of a ``*.dist-info/WHEEL`` file, one per ``Tag:`` line, with compressed sets expanded.

    ``Tag: py2.py3-none-any`` becomes ``["py2-none-any", "py3-none-any"]``.
    """
    tags: list[str] = []
    for line in wheel_metadata.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == "tag":
            tags.extend(expand_tag(value.strip()))
    return tags


def expand_tag(tag: str) -> list[str]:
    """``cp312.cp313-abi3-manylinux_2_28_aarch64.manylinux2014_aarch64`` -> every single tag it stands for."""
    parts = tag.split("-")
    if len(parts) != 3:
        raise ValueError(f"not a wheel tag: {tag!r}; expected interpreter-abi-platform")
    interpreters, abis, platforms = (p.split(".") for p in parts)
    return [f"{i}-{a}-{p}" for i in interpreters for a in abis for p in platforms]


def _python_minor(python_version: str) -> int:
    major, minor = python_version.split(".")[:2]
    if major != "3":
        raise ValueError(f"Lambda runs Python 3 only, got {python_version!r}")
    return int(minor)


def _interpreter_abi_ok(interpreter: str, abi: str, minor: int) -> bool:
    if interpreter == "py3":
        return abi == "none"
    match = re.fullmatch(r"(py|cp)3(\d+)", interpreter)
    if not match:
        return False
    kind, tag_minor = match.group(1), int(match.group(2))
    if kind == "py":
        return abi == "none" and tag_minor <= minor
    if abi == "abi3":
        return tag_minor <= minor
    # cp3X-cp3X (and cp3X-none) fit exactly one interpreter; free-threaded builds (cp3Xt) never match.
    return tag_minor == minor and abi in (f"cp3{minor}", "none")


def _platform_ok(platform: str, python_version: str, architecture: str) -> bool:
    if platform == "any":
        return True
    target_machine = machine(architecture)
    glibc_limit = max_glibc(python_version)
    perennial = _PERENNIAL.match(platform)
    if perennial:
        glibc = (int(perennial.group(1)), int(perennial.group(2)))
        return perennial.group(3) == target_machine and glibc <= glibc_limit
    legacy = _LEGACY.match(platform)
    if legacy:
        return legacy.group(2) == target_machine and _LEGACY_MANYLINUX[legacy.group(1)] <= glibc_limit
    # linux_*, musllinux_*, macosx_*, win_*: never on Lambda.
    return False


def tag_is_compatible(tag: str, python_version: str, architecture: str) -> bool:
    """Whether one wheel tag (``interpreter-abi-platform``) runs on CPython ``python_version`` on Lambda's
    ``architecture`` (``arm64`` or ``x86_64``), with the glibc of that runtime's Amazon Linux."""
    interpreter, abi, platform = tag.split("-")
    minor = _python_minor(python_version)
    return _interpreter_abi_ok(interpreter, abi, minor) and _platform_ok(
        platform, python_version, architecture
    )


def wheel_is_compatible(tags: Iterable[str], python_version: str, architecture: str) -> bool:
    """Whether any of a wheel's tags runs on the target; a wheel with no tags at all is not trusted."""
    return any(tag_is_compatible(tag, python_version, architecture) for tag in tags)


def elf_machine(header: bytes) -> int | None:
    """The ``e_machine`` field of an ELF header, or ``None`` when the bytes are not ELF.

    ``header`` needs at least the first 20 bytes of the file.
    """
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    byteorder = {1: "little", 2: "big"}.get(header[5])
    if byteorder is None:
        return None
    return int.from_bytes(header[18:20], byteorder)


def machine_name(e_machine: int | None) -> str:
    """A readable name for an ELF ``e_machine`` value: ``183`` -> ``aarch64``."""
    if e_machine is None:
        return "not ELF"
    return _MACHINE_NAMES.get(e_machine, f"e_machine {e_machine}")


def missing_requirement(pip_stderr: str) -> str | None:
    """The requirement pip found no distribution for, as pip wrote it (``pillow==13.0.0``), or ``None``."""
    for pattern in (_NO_MATCH, _NO_VERSION):
        found = pattern.search(pip_stderr)
        if found:
            return found.group("req")
    return None


@dataclass(frozen=True)
class Distribution:
    """One distribution pip installed into a target directory."""

    name: str
    version: str
    tags: tuple[str, ...]
    files: tuple[str, ...]

    @property
    def label(self) -> str:
        """The distribution as ``name version``, for messages."""
        return f"{self.name} {self.version}"


def _metadata_field(metadata: str, field: str) -> str | None:
    prefix = f"{field.lower()}:"
    for line in metadata.splitlines():
        if not line.strip():
            break  # headers end at the first blank line; the long description follows
        if line.lower().startswith(prefix):
            return line[len(prefix) :].strip()
    return None


def read_distribution(dist_info: Path) -> Distribution:
    """A ``*.dist-info`` folder's name, version, wheel tags and recorded files."""
    stem_name, _, stem_version = dist_info.name.removesuffix(".dist-info").rpartition("-")
    metadata_path = dist_info / "METADATA"
    metadata = metadata_path.read_text(errors="replace") if metadata_path.exists() else ""
    wheel_path = dist_info / "WHEEL"
    tags = parse_wheel_tags(wheel_path.read_text(errors="replace")) if wheel_path.exists() else []
    record_path = dist_info / "RECORD"
    files: list[str] = []
    if record_path.exists():
        files = [row[0] for row in csv.reader(io.StringIO(record_path.read_text(errors="replace"))) if row]
    return Distribution(
        name=_metadata_field(metadata, "Name") or stem_name,
        version=_metadata_field(metadata, "Version") or stem_version,
        tags=tuple(tags),
        files=tuple(files),
    )


def installed_distributions(site: Path) -> list[Distribution]:
    """Every distribution installed into ``site`` (a ``pip install --target`` folder), sorted by name."""
    return sorted((read_distribution(p) for p in site.glob("*.dist-info")), key=lambda d: d.name.lower())


def _read_header(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(20)


def find_incompatibilities(site: Path, python_version: str, architecture: str) -> list[str]:
    """Each installed distribution whose wheel tags, or whose ``.so`` files, do not fit the target.

    Returns one human-readable problem per line; an empty list means everything fits.
    """
    architecture = architecture_name(architecture)
    expected = ELF_MACHINES[architecture]
    target = f"python{python_version} on {architecture}"
    problems: list[str] = []
    owners: dict[str, Distribution] = {}
    for dist in installed_distributions(site):
        owners.update(dict.fromkeys(dist.files, dist))
        if not wheel_is_compatible(dist.tags, python_version, architecture):
            problems.append(
                f"{dist.label} was installed from a wheel tagged {list(dist.tags) or 'with no tags'}, "
                f"none of which runs on {target}"
            )
    for path in sorted(site.rglob("*.so*")):
        if not path.is_file() or not re.search(r"\.so(\.\d+)*$", path.name):
            continue
        found = elf_machine(_read_header(path))
        if found == expected:
            continue
        relative = path.relative_to(site).as_posix()
        owner = owners.get(relative)
        who = owner.label if owner else "an unrecorded file"
        problems.append(
            f"{who} ships {relative} built for {machine_name(found)}, but the function runs {target} "
            f"({machine(architecture)}); it would fail to import at run time"
        )
    return problems
