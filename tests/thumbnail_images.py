"""Real image files for the thumbnail tests, made in memory with Pillow (HEIF with pillow-heif) or written
chunk by chunk.

Files Pillow cannot write (16-bit RGB PNG or TIFF, headers that lie about their size, a CMYK ICC profile)
are assembled by hand, which is how such files occur in the wild.
"""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

ORIENTATION = 0x0112


def two_tone(
    size: tuple[int, int], left=(220, 20, 20), right=(20, 20, 220), mode: str = "RGB"
) -> Image.Image:
    """An image whose left half is one colour and right half another, so rotations are visible."""
    image = Image.new(mode, size, right)
    image.paste(left, (0, 0, size[0] // 2, size[1]))
    return image


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    """``image`` saved as ``fmt`` into bytes."""
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def jpeg(size=(600, 400), orientation: int | None = None, mode: str = "RGB", quality: int = 90) -> bytes:
    """A two-tone JPEG, optionally with an EXIF orientation tag; ``mode="CMYK"`` makes a CMYK JPEG."""
    if mode == "CMYK":
        image = two_tone(size, left=(255, 0, 0, 0), right=(0, 0, 0, 0), mode="CMYK")
    else:
        image = two_tone(size)
    options = {"quality": quality}
    if orientation is not None:
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        options["exif"] = exif.tobytes()
    return encode(image, "JPEG", **options)


def png_with_alpha(size=(400, 300)) -> bytes:
    """An RGBA PNG: opaque red left half, fully transparent right half."""
    image = Image.new("RGBA", size, (0, 0, 255, 0))
    image.paste((255, 0, 0, 255), (0, 0, size[0] // 2, size[1]))
    return encode(image, "PNG")


def palette_gif(size=(300, 200)) -> bytes:
    """An opaque palette GIF."""
    return encode(two_tone(size).convert("P", palette=Image.Palette.ADAPTIVE, colors=4), "GIF")


def animated_gif(size=(300, 200)) -> bytes:
    """A three-frame GIF whose frames are red, green, blue; frame 0 is red."""
    frames = [
        Image.new("RGB", size, colour).convert("P") for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))
    ]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_raw(width: int, height: int, bit_depth: int, colour_type: int, rows: bytes) -> bytes:
    """A PNG assembled from chunks: IHDR as given, one IDAT of ``rows`` (filter bytes included)."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows))
        + _chunk(b"IEND", b"")
    )


def png_16bit_rgb(size=(64, 32), colour=(0xC000, 0x4000, 0x8000)) -> bytes:
    """A 16-bit-per-sample RGB PNG of one colour (Pillow can read but not write these)."""
    width, height = size
    row = b"\x00" + struct.pack(">HHH", *colour) * width
    return png_raw(width, height, 16, 2, row * height)


def png_16bit_grey(size=(64, 32), level=0xC000) -> bytes:
    """A 16-bit greyscale PNG of one level; Pillow opens it in mode I;16."""
    width, height = size
    row = b"\x00" + struct.pack(">H", level) * width
    return png_raw(width, height, 16, 0, row * height)


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims width x height greyscale pixels: decoding would need ~10 GB."""
    return png_raw(width, height, 8, 0, b"\x00" * 1024)


def truncated_jpeg(size=(600, 400)) -> bytes:
    """A valid JPEG cut off halfway through its scan data."""
    data = jpeg(size)
    return data[: len(data) // 2]


def bmp(size=(40, 30)) -> bytes:
    """A two-tone 24-bit BMP."""
    return encode(two_tone(size), "BMP")


def _exif(orientation: int | None) -> dict:
    if orientation is None:
        return {}
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return {"exif": exif.tobytes()}


def heic(size=(600, 400), orientation: int | None = None, image: Image.Image | None = None) -> bytes:
    """A two-tone HEIC (HEVC in HEIF, as an iPhone writes). With an orientation, pillow-heif stores it as
    the iPhone does: the pixels as the sensor saw them, plus the rotation in the container (irot)."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    return encode(image or two_tone(size), "HEIF", quality=90, **_exif(orientation))


def avif(size=(600, 400), orientation: int | None = None, image: Image.Image | None = None) -> bytes:
    """A two-tone AVIF; an orientation is written as EXIF and as the container's irot/imir boxes."""
    return encode(image or two_tone(size), "AVIF", quality=90, **_exif(orientation))


def _patch_ispe(data: bytes, width: int, height: int) -> bytes:
    """``data`` with every ``ispe`` box (a HEIF item's declared size) claiming width x height."""
    out = bytearray(data)
    start = out.find(b"ispe")
    assert start > 0, "no ispe box"
    while start > 0:
        out[start + 8 : start + 16] = struct.pack(">II", width, height)
        start = out.find(b"ispe", start + 4)
    return bytes(out)


def heic_bomb(width: int = 10_000, height: int = 10_000) -> bytes:
    """A small HEIC whose container declares width x height: 100 MP, 300 MB decoded."""
    return _patch_ispe(heic((64, 64)), width, height)


def avif_bomb(width: int = 10_000, height: int = 10_000) -> bytes:
    """A small AVIF whose container declares width x height."""
    return _patch_ispe(avif((64, 64)), width, height)


def tiff(*pages: Image.Image, **options) -> bytes:
    """A TIFF of ``pages`` (the first is the primary image), with Pillow's save options (compression=...)."""
    first, *rest = pages
    return encode(first, "TIFF", save_all=bool(rest), append_images=rest, **options)


def tiff_raw(width: int, height: int, bits: tuple[int, ...], photometric: int, pixels: bytes) -> bytes:
    """An uncompressed little-endian TIFF with one strip: ``bits`` per sample, ``pixels`` as stored."""
    samples = len(bits)
    tags = {
        256: (4, [width]),
        257: (4, [height]),
        258: (3, list(bits)),
        259: (3, [1]),
        262: (3, [photometric]),
        273: (4, [0]),  # patched below: the strip's offset
        277: (3, [samples]),
        278: (4, [height]),
        279: (4, [len(pixels)]),
        284: (3, [1]),
    }
    codes = {3: "H", 4: "I"}
    entries, blobs = [], b""
    ifd_size = 2 + 12 * len(tags) + 4
    data_start = 8 + ifd_size
    for tag in sorted(tags):
        kind, values = tags[tag]
        raw = struct.pack("<" + codes[kind] * len(values), *values)
        if len(raw) <= 4:
            entries.append((tag, kind, len(values), raw.ljust(4, b"\x00")))
        else:
            entries.append((tag, kind, len(values), struct.pack("<I", data_start + len(blobs))))
            blobs += raw + b"\x00" * (len(raw) % 2)
    strip_offset = data_start + len(blobs)
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        if tag == 273:
            value = struct.pack("<I", strip_offset)
        ifd += struct.pack("<HHI", tag, kind, count) + value
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + blobs + pixels


def tiff_16bit_rgb(size=(64, 32), colour=(0xC000, 0x4000, 0x8000)) -> bytes:
    """A 16-bit-per-sample RGB TIFF of one colour, as scanners write them (Pillow cannot)."""
    width, height = size
    return tiff_raw(width, height, (16, 16, 16), 2, struct.pack("<HHH", *colour) * width * height)


def tiff_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny TIFF whose header claims width x height RGB pixels (30 GB decoded)."""
    return tiff_raw(width, height, (8, 8, 8), 2, b"\x00" * 1024)


def bmp_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A BMP header claiming width x height 24-bit pixels, followed by almost nothing."""
    header = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(header) + 64, 0, 0, 14 + len(header)) + header + b"\x00" * 64


def psd() -> bytes:
    """The header of a Photoshop document: a format the function never decodes."""
    return b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 64, 64, 8, 3) + b"\x00" * 64


# --- a CMYK ICC profile -----------------------------------------------------------------------------------
# No CMYK profile ships with Pillow or this system, so one is written here: ICC v2, an output profile whose
# A2B0 table (lut8) maps ink amounts to CIELAB through a 2x2x2x2 grid. The inks are made up, but darker
# and duller than the screen primaries, like a press's: pure cyan ink is a mid blue, not (0, 255, 255).
INKS = {"C": (0.58, -37, -50), "M": (0.50, 74, -3), "Y": (0.93, -5, 93), "K": (0.17, 0, 0)}
PAPER = (95.0, 0.0, -2.0)


def _corner_lab(inks: tuple[int, int, int, int]) -> tuple[float, float, float]:
    lightness, a, b = PAPER
    for on, (factor, ink_a, ink_b) in zip(inks, INKS.values(), strict=True):
        if on:
            lightness, a, b = lightness * factor, a + ink_a, b + ink_b
    shade = lightness / PAPER[0]
    return lightness, max(-128, min(127, a * shade)), max(-128, min(127, b * shade))


def _icc_tag(signature: bytes, body: bytes) -> bytes:
    return signature + b"\x00" * 4 + body


def cmyk_profile() -> bytes:
    """A small but complete CMYK ICC profile (see INKS) that littleCMS reads."""
    identity = struct.pack(">9i", 65536, 0, 0, 0, 65536, 0, 0, 0, 65536)
    curve = bytes(range(256))
    grid = b""
    for c in (0, 1):
        for m in (0, 1):
            for y in (0, 1):
                for k in (0, 1):
                    lightness, a, b = _corner_lab((c, m, y, k))
                    grid += bytes((round(lightness * 255 / 100), round(a + 128), round(b + 128)))
    a2b0 = _icc_tag(b"mft1", struct.pack(">BBBB", 4, 3, 2, 0) + identity + curve * 4 + grid + curve * 3)
    description = b"made-up press\x00"
    desc = _icc_tag(b"desc", struct.pack(">I", len(description)) + description + b"\x00" * 79)
    white = _icc_tag(b"XYZ ", struct.pack(">3i", 63190, 65536, 54061))
    copyright_ = _icc_tag(b"text", b"no copyright\x00")
    tags = [(b"desc", desc), (b"wtpt", white), (b"cprt", copyright_), (b"A2B0", a2b0)]
    offset = 128 + 4 + 12 * len(tags)
    table, body = struct.pack(">I", len(tags)), b""
    for signature, data in tags:
        data += b"\x00" * (-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = struct.pack(
        ">I4sI4s4s4s12s4s4s4s4sQI",
        size,
        b"lcms",
        0x02100000,
        b"prtr",
        b"CMYK",
        b"Lab ",
        b"\x00" * 12,
        b"acsp",
        b"APPL",
        b"\x00" * 4,
        b"\x00" * 4,
        0,
        0,
    )
    header += struct.pack(">3i", 63190, 65536, 54061) + b"\x00" * 4
    header = header.ljust(128, b"\x00")
    return header + table + body


def cmyk_image(size=(400, 300)) -> Image.Image:
    """A CMYK image: pure cyan ink on the left, bare paper on the right."""
    return two_tone(size, left=(255, 0, 0, 0), right=(0, 0, 0, 0), mode="CMYK")
