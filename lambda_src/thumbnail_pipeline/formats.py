"""Which image formats the thumbnail function reads, told apart by their first bytes, each opened by one plugin.

A format is recognised from its magic number before any decoder sees the data, then only that format's
Pillow plugin is imported and allowed to parse it. Two things follow: a file can never reach a decoder of
a format it does not claim to be (Pillow would otherwise offer the bytes to every plugin it has), and a
cold start imports no decoder at all: each plugin, and libheif, loads on the first file of its format.
"""

from __future__ import annotations

import importlib

#: Every format the function can decode, by the name ``INPUT_FORMATS`` uses; all of them are on by default.
INPUT_FORMATS = ("jpeg", "png", "gif", "webp", "avif", "heif", "tiff", "bmp")

# name -> (Pillow's format id, the module whose import registers the plugin).
_PLUGINS = {
    "jpeg": ("JPEG", "PIL.JpegImagePlugin"),
    "png": ("PNG", "PIL.PngImagePlugin"),
    "gif": ("GIF", "PIL.GifImagePlugin"),
    "webp": ("WEBP", "PIL.WebPImagePlugin"),
    "avif": ("AVIF", "PIL.AvifImagePlugin"),
    "heif": ("HEIF", "pillow_heif"),
    "tiff": ("TIFF", "PIL.TiffImagePlugin"),
    "bmp": ("BMP", "PIL.BmpImagePlugin"),
}

_MAGIC = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    # Classic TIFF, then BigTIFF (64-bit offsets), each in both byte orders.
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),
    (b"MM\x00+", "tiff"),
    (b"BM", "bmp"),
)

# ISOBMFF brands (the ftyp box). AVIF is checked first: an AVIF file usually also lists the generic HEIF
# brand mif1, while a HEIC one never lists avif.
_AVIF_BRANDS = {b"avif", b"avis"}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}

# Magic numbers of image formats the function never decodes, only to give the rejection a precise reason.
# Sniffing bytes parses nothing, unlike letting every Pillow plugin look at the header.
_REFUSED = (
    (b"8BPS", "PSD"),
    (b"%!PS", "EPS"),
    (b"\xc5\xd0\xd3\xc6", "EPS"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"\x00\x00\x02\x00", "CUR"),
    (b"%PDF", "PDF"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG2000"),
    (b"\xff\x4f\xff\x51", "JPEG2000"),
    (b"\x00\x00\x00\x0cJXL ", "JPEGXL"),
    (b"\xff\x0a", "JPEGXL"),
    (b"qoif", "QOI"),
    (b"\x76\x2f\x31\x01", "EXR"),
)

#: Enough of the head of a file for :func:`identify`: the ftyp box of every HEIF/AVIF encoder seen is shorter.
HEAD_BYTES = 64


def identify(head: bytes) -> str | None:
    """The ``INPUT_FORMATS`` name the first bytes of a file claim, else None. Nothing is parsed beyond them."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if head[4:8] == b"ftyp":
        brands = _ftyp_brands(head)
        if brands & _AVIF_BRANDS:
            return "avif"
        if brands & _HEIF_BRANDS:
            return "heif"
    return None


def _ftyp_brands(head: bytes) -> set[bytes]:
    """The major and compatible brands of a leading ftyp box (as much of it as ``head`` holds)."""
    end = min(int.from_bytes(head[:4], "big"), len(head))
    compatible = [head[offset : offset + 4] for offset in range(16, end - 3, 4)]
    return {head[8:12], *compatible}


def refused(head: bytes) -> str | None:
    """The name of a known image format the function never decodes, recognised from its first bytes."""
    for magic, name in _REFUSED:
        if head.startswith(magic):
            return name
    if head[4:8] == b"ftyp":
        # Video (isom, mp42, qt) and image brands no plugin here reads.
        return "ISOBMFF"
    return None


def plugin(name: str) -> str:
    """Pillow's format id for ``name``, its plugin registered first (imported once, on first use)."""
    pillow_format, module = _PLUGINS[name]
    imported = importlib.import_module(module)
    if name == "heif" and pillow_format not in _registered():
        # Defaults kept: libheif applies the container's rotation and mirroring (irot/imir) and resets the
        # EXIF orientation to 1, so the image arrives upright and is not turned a second time.
        imported.register_heif_opener()
    return pillow_format


def _registered() -> dict:
    from PIL import Image

    return Image.OPEN
