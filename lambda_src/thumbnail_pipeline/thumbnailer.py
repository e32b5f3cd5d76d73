"""The image core of the thumbnail function: bytes in, encoded thumbnails out. No AWS calls, no environment.

Every function here is pure apart from Pillow's decoding, so it is tested without S3 and reused by the
benchmark. Input that can never become a thumbnail raises :class:`Rejected` with a short machine-readable
reason; the handler logs and counts it and does not retry. Also here, as pure functions: S3's limits on what
can be stored (:func:`check_storable`) and the order of S3 events (:func:`is_later`), which the handler
applies before it writes.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from colour import to_srgb
from formats import HEAD_BYTES, INPUT_FORMATS, identify, plugin, refused
from PIL import Image, ImageOps, UnidentifiedImageError

OUTPUT_FORMATS = ("auto", "webp", "avif")
# The settings' limits: a long edge in px, and JPEG/WebP quality.
MIN_SIZE, MAX_SIZE = 1, 10_000
MIN_QUALITY, MAX_QUALITY = 1, 100
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "AVIF": "image/avif"}
EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "AVIF": ".avif"}
# Extensions that already name the output format, so the key needs no new suffix.
_KNOWN_EXTENSIONS = {
    "JPEG": (".jpg", ".jpeg", ".jpe"),
    "PNG": (".png",),
    "WEBP": (".webp",),
    "AVIF": (".avif",),
}

# A long edge more than this many times the short edge is a sliver (1×100000), not a picture: scaled to
# 128 px it would be 128×1, and such files are a classic way to slip past a pixel-count cap.
MAX_ASPECT_RATIO = 50

# S3's limits, in UTF-8 bytes: a key is at most 1,024; user metadata at most 2 KB, counted as the sum of the
# bytes of every name (without the x-amz-meta- prefix) and value. S3 refuses more with a 400 on every
# attempt, so a write that would exceed them is a rejection, found before anything is written.
MAX_KEY_BYTES = 1024
MAX_METADATA_BYTES = 2048

# An S3 event's ``sequencer``: a hex string, compared only between events of one key.
_HEX = re.compile(r"[0-9A-Fa-f]+")


class Rejected(Exception):
    """Input that can never become a thumbnail; retrying cannot help. ``reason`` is a metric-safe code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class SettingsError(ValueError):
    """An environment variable of the function is missing or malformed (distinct from the library's
    ``lambda_patterns.ConfigurationError``, which refuses a construct's props at synth)."""


@dataclass(frozen=True)
class Settings:
    """What to produce and the input caps. Built from the environment by :func:`parse_settings`."""

    sizes: tuple[int, ...] = (128, 256, 1024)
    output_format: str = "auto"
    quality: int = 85
    max_pixels: int = 50_000_000
    max_bytes: int = 50 * 1024 * 1024
    #: The formats accepted, in ``INPUT_FORMATS`` order; any other upload is rejected unread.
    input_formats: tuple[str, ...] = INPUT_FORMATS


@dataclass(frozen=True)
class Thumbnail:
    """One encoded thumbnail: ``size`` is the requested long edge, width/height what was produced."""

    size: int
    data: bytes
    format: str
    width: int
    height: int

    @property
    def content_type(self) -> str:
        """The MIME type to store the thumbnail with."""
        return CONTENT_TYPES[self.format]


def parse_settings(env: Mapping[str, str]) -> Settings:
    """Settings from environment variables, defaults for the absent ones; raise SettingsError if bad."""
    defaults = Settings()
    sizes = _parse_sizes(env.get("SIZES", ",".join(map(str, defaults.sizes))))
    output_format = env.get("OUTPUT_FORMAT", defaults.output_format).strip().lower()
    if output_format not in OUTPUT_FORMATS:
        raise SettingsError(f"OUTPUT_FORMAT must be one of {OUTPUT_FORMATS}, got {output_format!r}")
    quality = _parse_int(env, "QUALITY", defaults.quality)
    if not MIN_QUALITY <= quality <= MAX_QUALITY:
        raise SettingsError(f"QUALITY must be {MIN_QUALITY}..{MAX_QUALITY}, got {quality}")
    max_pixels = _parse_int(env, "MAX_PIXELS", defaults.max_pixels)
    max_bytes = _parse_int(env, "MAX_BYTES", defaults.max_bytes)
    if max_pixels < 1 or max_bytes < 1:
        raise SettingsError("MAX_PIXELS and MAX_BYTES must be positive")
    input_formats = _parse_formats(env.get("INPUT_FORMATS", ",".join(defaults.input_formats)))
    return Settings(sizes, output_format, quality, max_pixels, max_bytes, input_formats)


def _parse_formats(raw: str) -> tuple[str, ...]:
    names = {part.strip().lower() for part in raw.split(",") if part.strip()}
    unknown = sorted(names - set(INPUT_FORMATS))
    if not names or unknown:
        raise SettingsError(f"INPUT_FORMATS must name some of {INPUT_FORMATS}, got {raw!r}")
    return tuple(name for name in INPUT_FORMATS if name in names)


def _parse_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw.replace("_", ""))
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None


def _parse_sizes(raw: str) -> tuple[int, ...]:
    try:
        sizes = {int(part) for part in raw.split(",") if part.strip()}
    except ValueError:
        raise SettingsError(f"SIZES must be comma-separated integers, got {raw!r}") from None
    if not sizes or min(sizes) < MIN_SIZE or max(sizes) > MAX_SIZE:
        raise SettingsError(f"SIZES must be {MIN_SIZE}..{MAX_SIZE} px, got {raw!r}")
    return tuple(sorted(sizes))


def check_dimensions(width: int, height: int, max_pixels: int) -> None:
    """Reject declared dimensions that would decode into too much memory or into a sliver."""
    if width < 1 or height < 1:
        raise Rejected("absurd_dimensions", f"{width}x{height}")
    if width * height > max_pixels:
        raise Rejected(
            "decompression_bomb", f"{width}x{height} = {width * height} pixels exceeds the {max_pixels} cap"
        )
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise Rejected("absurd_dimensions", f"{width}x{height} is more than {MAX_ASPECT_RATIO}:1")


def open_image(data: bytes, max_pixels: int, formats: Iterable[str] = INPUT_FORMATS) -> Image.Image:
    """Parse only the header of an allowed format and check its dimensions; nothing is decoded yet.

    The format is told from the first bytes, and only its own plugin may parse the file; one of
    ``INPUT_FORMATS`` left out of ``formats`` is rejected as ``format_disabled`` before any plugin runs.
    """
    if not data:
        raise Rejected("empty", "zero bytes")
    name = identify(data[:HEAD_BYTES])
    if name is None:
        other = refused(data[:HEAD_BYTES])
        if other:
            raise Rejected("unsupported_format", other)
        raise Rejected("not_an_image", "no allowed image format recognised")
    if name not in formats:
        raise Rejected("format_disabled", f"{name.upper()} is not in INPUT_FORMATS")
    pillow_format = plugin(name)
    # Pillow's own bomb check runs inside open(); make its warning an error so it cannot be ignored, and
    # set its threshold to our cap so both checks agree.
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=(pillow_format,))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Rejected("decompression_bomb", str(exc)) from None
    except UnidentifiedImageError:
        # The magic number matched but the plugin could not read the header behind it.
        raise Rejected("corrupt", f"not a readable {name.upper()} header") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise Rejected("corrupt", f"header: {exc}") from None
    finally:
        Image.MAX_IMAGE_PIXELS = previous
    check_dimensions(image.width, image.height, max_pixels)
    return image


def target_size(width: int, height: int, long_edge: int) -> tuple[int, int]:
    """Fit (width, height) into a long_edge box keeping the aspect ratio; never larger than the source."""
    scale = min(1.0, long_edge / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def decode(image: Image.Image, long_edge: int) -> Image.Image:
    """Decode once, as small as still serves ``long_edge``, upright and in an 8-bit mode (RGB, RGBA or L).

    For JPEG, ``draft()`` asks libjpeg to scale by 1/2, 1/4 or 1/8 while decoding, which is where most of
    the time and memory goes; it only works before the pixels are loaded. Animated images keep frame 0,
    which is the frame open() positions on.
    """
    if image.format == "JPEG":
        image.draft(None, target_size(image.width, image.height, long_edge))
    try:
        image.load()
    except Image.DecompressionBombError as exc:
        raise Rejected("decompression_bomb", str(exc)) from None
    except OSError as exc:
        reason = "truncated" if "truncated" in str(exc) else "corrupt"
        raise Rejected(reason, str(exc)) from None
    except (SyntaxError, ValueError, EOFError, RuntimeError) as exc:
        # RuntimeError: libheif's decoding errors, as pillow-heif raises them.
        raise Rejected("corrupt", str(exc)) from None
    # In place: a copy of a full-size PNG would double the peak memory for nothing.
    ImageOps.exif_transpose(image, in_place=True)
    return normalize_mode(image)


def has_alpha(image: Image.Image) -> bool:
    """Whether the image carries transparency: an alpha band, or a transparent palette/colour key."""
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def normalize_mode(image: Image.Image) -> Image.Image:
    """Convert any mode to RGB, RGBA or L so it resizes correctly and every encoder accepts it.

    Pillow's convert() clips 16-bit and float samples instead of scaling them, which turns a 16-bit PNG
    white; those are scaled to 8 bits here. CMYK (print separations, from JPEG or TIFF) and CIELAB become
    sRGB through their colour profile (:func:`colour.to_srgb`); the ICC profile of an RGB or grey image is
    kept in ``info`` for the encoder.
    """
    mode = image.mode
    if mode in ("RGB", "RGBA", "L"):
        if "transparency" in image.info:
            return image.convert("RGBA")
        return image
    if mode.startswith("I;16") or mode == "I":
        wide = image if mode == "I" else image.convert("I")
        if mode == "I" and wide.getextrema()[1] <= 255:
            return wide.convert("L")
        return wide.point(lambda value: value / 256).convert("L")
    if mode == "F":
        low, high = image.getextrema()
        # Float images in [0, 1] are normalised intensities; anything else is taken as 0..255 already.
        scaled = image.point(lambda value: value * 255) if low >= 0 and high <= 1 else image
        return scaled.convert("L")
    if mode in ("CMYK", "LAB"):
        return to_srgb(image)
    if mode == "1":
        return image.convert("L")
    if has_alpha(image):
        return image.convert("RGBA")
    return image.convert("RGB")


def choose_format(image: Image.Image, output_format: str) -> str:
    """The output format: ``webp`` or ``avif`` makes everything that format, alpha kept; ``auto`` keeps
    alpha in PNG and makes the rest JPEG.

    In ``auto`` a JPEG stays JPEG, an image with transparency becomes PNG (the universally decodable
    format with alpha), and an opaque PNG, GIF or WebP becomes JPEG (an alpha band that is 255
    everywhere counts as opaque): a thumbnail is a preview, and a
    1024 px photo saved as PNG is five to ten times the bytes for no visible gain at thumbnail size.
    """
    if output_format in ("webp", "avif"):
        return output_format.upper()
    if has_alpha(image) and not fully_opaque(image):
        return "PNG"
    return "JPEG"


def fully_opaque(image: Image.Image) -> bool:
    """Whether every pixel's alpha is 255: many PNGs (screenshots) carry an alpha band they never use."""
    return image.mode == "RGBA" and image.getchannel("A").getextrema() == (255, 255)


#: Pillow's ``reducing_gap``: box-reduce by the largest integer factor that leaves at least this much of
#: the scale to Lanczos. Lanczos costs in proportion to the source pixels times the scale (its support
#: widens with it), so a 4032x3024 phone photo to 1024 px (3.9x) took 110 ms in Lanczos alone and 44 ms
#: as a 2x reduce then Lanczos over the last 1.95x. At 2.0 or more (libvips' own gap is 2) nothing is
#: reduced below 4x, which is the common case. Against a full Lanczos the 1024 px pixels differ by a
#: PSNR of 48-50 dB on photo-like sources (35-42 dB on pure pixel noise); once encoded as JPEG at
#: quality 85 that is 0.05 dB less (0.4-0.7 dB on noise) next to the encoder's own ~40 dB.
REDUCING_GAP = 1.5


def resize(image: Image.Image, long_edge: int) -> Image.Image:
    """A Lanczos downscale to fit long_edge (never an upscale: a smaller source is returned as is).

    First a cheap box reduce by an integer factor, then Lanczos over the last ``REDUCING_GAP``x or more,
    which is visually indistinguishable from a full Lanczos pass at a third of its cost.
    """
    return resize_to(image, target_size(image.width, image.height, long_edge))


def resize_to(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``image`` resampled to exactly ``size`` (``resize``'s filter), or itself when already that size."""
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)


def encode(image: Image.Image, fmt: str, quality: int) -> bytes:
    """Encode ``image`` as JPEG, PNG, WebP or AVIF, keeping its ICC profile so colours stay as intended."""
    out = io.BytesIO()
    options: dict = {}
    icc = image.info.get("icc_profile")
    if icc:
        options["icc_profile"] = icc
    if fmt == "JPEG":
        options.update(quality=quality, optimize=True)
        image = image.convert("RGB") if image.mode not in ("RGB", "L") else image
    elif fmt == "WEBP":
        options.update(quality=quality, method=4)
    elif fmt == "AVIF":
        # speed 8 of 0..10: on a 1024 px photo the default 6 took 4x the time (760 vs 190 ms) for a file
        # 5% smaller.
        options.update(quality=quality, speed=8)
    elif fmt == "PNG":
        options.update(optimize=False, compress_level=6)
    image.save(out, fmt, **options)
    return out.getvalue()


def make_thumbnails(data: bytes, settings: Settings) -> list[Thumbnail]:
    """Every requested size of one source image, decoded once. Raises Rejected for unusable input."""
    if len(data) > settings.max_bytes:
        raise Rejected("too_large", f"{len(data)} bytes exceeds the {settings.max_bytes} cap")
    base = decode(open_image(data, settings.max_pixels, settings.input_formats), max(settings.sizes))
    fmt = choose_format(base, settings.output_format)
    return render(base, settings.sizes, fmt, settings.quality)


#: A smaller size is resized from an already made thumbnail at least this many times its size; below that
#: it comes from the decoded image. From a source 3x or more the size, the 256 and 128 px thumbnails made
#: from the 1024 px one are visually the same as those made from the decoded image (PSNR > 40 dB,
#: tests/handlers/test_thumbnailer.py); a smaller step would resample an already resampled image too closely.
CASCADE_FACTOR = 3


def render(
    base: Image.Image, sizes: Iterable[int], fmt: str, quality: int, cascade: bool = True
) -> list[Thumbnail]:
    """Resize and encode every size, largest first, each from the smallest image already at hand that is
    at least ``CASCADE_FACTOR`` times its size (the decoded image otherwise); returned in ``sizes``' order.

    ``cascade=False`` resizes every size from ``base``: the benchmark's baseline for what cascading saves.
    """
    sizes = list(sizes)
    made: dict[int, Image.Image] = {}
    thumbnails: dict[int, Thumbnail] = {}
    for size in sorted(set(sizes), reverse=True):
        sources = [image for image in made.values() if max(image.size) >= CASCADE_FACTOR * size]
        source = min(sources, key=lambda image: max(image.size)) if cascade and sources else base
        # The size comes from the decoded image, so a cascaded thumbnail has exactly the dimensions a direct
        # one would (a 1024 px thumbnail's rounding must not shift the 128 px one by a pixel).
        thumb = resize_to(source, target_size(base.width, base.height, size))
        made[size] = thumb
        thumbnails[size] = Thumbnail(size, encode(thumb, fmt, quality), fmt, thumb.width, thumb.height)
    return [thumbnails[size] for size in sizes]


def output_key(prefix: str, size: int, key: str, fmt: str) -> str:
    """Where one thumbnail goes: ``<prefix><size>/<key>``, with the format's extension appended if needed.

    The extension is appended, not substituted: ``cat.gif`` and an opaque ``cat.png`` both become JPEG,
    and replacing the suffix would write both to ``cat.jpg``.
    """
    name = key if key.lower().endswith(_KNOWN_EXTENSIONS[fmt]) else key + EXTENSIONS[fmt]
    return f"{prefix}{size}/{name}"


def check_key(key: str) -> None:
    """Reject a source key S3 cannot hold: empty, not encodable as UTF-8 (a lone surrogate), or too long.

    Such a key comes from a malformed event, not from S3, and botocore could not even send the request.
    """
    if not key:
        raise Rejected("invalid_key", "empty key")
    size = _utf8_size(key, "invalid_key", "source key")
    if size > MAX_KEY_BYTES:
        raise Rejected("invalid_key", f"source key is {size} bytes; S3 keys are at most {MAX_KEY_BYTES}")


def check_storable(key: str, metadata: Mapping[str, str]) -> None:
    """Reject an object S3 would refuse on every attempt: a key over 1,024 UTF-8 bytes or not UTF-8 at all,
    or user metadata over 2 KB or not ASCII (it travels as HTTP headers, which botocore sends unencoded)."""
    size = _utf8_size(key, "invalid_key", "key")
    if size > MAX_KEY_BYTES:
        raise Rejected("key_too_long", f"key {key[:64]!r}... is {size} bytes; S3 allows {MAX_KEY_BYTES}")
    total = 0
    for name, value in metadata.items():
        for text in (name, value):
            if not text.isascii():
                raise Rejected("invalid_metadata", f"metadata {name!r} is not ASCII")
            total += len(text)
    if total > MAX_METADATA_BYTES:
        raise Rejected(
            "metadata_too_large", f"user metadata is {total} bytes; S3 allows {MAX_METADATA_BYTES}"
        )


def _utf8_size(text: str, reason: str, what: str) -> int:
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise Rejected(reason, f"{what} is not valid UTF-8: {exc.reason} at {exc.start}") from None


def valid_sequencer(sequencer: str) -> bool:
    """Whether ``sequencer`` looks like S3's: hex digits only. It is stored as metadata and compared."""
    return _HEX.fullmatch(sequencer) is not None


def is_later(sequencer: str, than: str) -> bool:
    """Whether an S3 event with ``sequencer`` happened after the one with ``than`` (same key only).

    AWS: left-pad the shorter hex string with zeros, then compare. Case is folded so ``e5`` equals ``E5``.
    An empty ``than`` (a thumbnail written before sequencers were stored) is older than any event; an
    empty ``sequencer`` (an event that carries none) is later than nothing.
    """
    if not than:
        return bool(sequencer)
    width = max(len(sequencer), len(than))
    return sequencer.upper().rjust(width, "0") > than.upper().rjust(width, "0")
