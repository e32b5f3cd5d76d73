"""Real image files for the thumbnail tests, made in memory with Pillow or written chunk by chunk.

Formats Pillow cannot write (16-bit RGB PNG, a PNG whose header lies about its size) are assembled from
PNG chunks by hand, which is how such files occur in the wild.
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
    """A BMP: a real image in a format the function does not accept."""
    return encode(two_tone(size), "BMP")
