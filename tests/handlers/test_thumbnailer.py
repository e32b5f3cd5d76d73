"""The thumbnail function's image core, without AWS: real images in, real encoded thumbnails out."""

from __future__ import annotations

import io
import math

import pytest
from PIL import Image

import thumbnail_images as images
from conftest import load_handler

thumbnailer = load_handler("thumbnail_pipeline", "thumbnailer")
Rejected = thumbnailer.Rejected
DEFAULTS = thumbnailer.Settings()


def decoded(thumb) -> Image.Image:
    image = Image.open(io.BytesIO(thumb.data))
    image.load()
    return image


def rejection(data: bytes, settings=DEFAULTS) -> str:
    with pytest.raises(Rejected) as caught:
        thumbnailer.make_thumbnails(data, settings)
    return caught.value.reason


# --- settings -------------------------------------------------------------------------------------------


def test_settings_default_when_environment_is_empty():
    assert thumbnailer.parse_settings({}) == thumbnailer.Settings(
        sizes=(128, 256, 1024),
        output_format="auto",
        quality=85,
        max_pixels=50_000_000,
        max_bytes=52_428_800,
        input_formats=("jpeg", "png", "gif", "webp", "avif", "heif", "tiff", "bmp"),
    )


def test_settings_input_formats_are_read_in_a_fixed_order_whatever_the_case():
    assert thumbnailer.parse_settings({"INPUT_FORMATS": " TIFF,jpeg,heif,jpeg"}).input_formats == (
        "jpeg",
        "heif",
        "tiff",
    )


def test_settings_sort_and_deduplicate_sizes():
    assert thumbnailer.parse_settings({"SIZES": "512, 64,512"}).sizes == (64, 512)


@pytest.mark.parametrize(
    "env",
    [
        {"SIZES": "big"},
        {"SIZES": "0,128"},
        {"SIZES": ""},
        {"OUTPUT_FORMAT": "tiff"},
        {"INPUT_FORMATS": ""},
        {"INPUT_FORMATS": "jpeg,psd"},
        {"QUALITY": "101"},
        {"MAX_PIXELS": "lots"},
        {"MAX_BYTES": "0"},
    ],
)
def test_settings_reject_malformed_environment(env):
    with pytest.raises(thumbnailer.SettingsError):
        thumbnailer.parse_settings(env)


# --- geometry -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "edge", "expected"),
    [
        ((6000, 4000), 1024, (1024, 683)),
        ((4000, 6000), 256, (171, 256)),
        ((300, 200), 1024, (300, 200)),
        ((1000, 10), 128, (128, 1)),
    ],
)
def test_target_size_fits_the_long_edge_and_never_upscales(source, edge, expected):
    assert thumbnailer.target_size(*source, edge) == expected


def test_thumbnails_have_every_requested_long_edge():
    thumbs = thumbnailer.make_thumbnails(images.jpeg((3000, 2000)), DEFAULTS)
    assert [(t.size, t.width, t.height) for t in thumbs] == [
        (128, 128, 85),
        (256, 256, 171),
        (1024, 1024, 683),
    ]
    assert [decoded(t).size for t in thumbs] == [(128, 85), (256, 171), (1024, 683)]


def _photo(size=(3000, 2000)) -> Image.Image:
    """Detail at every scale (noise over gradients), where resampling twice would show if it differed."""
    noise = Image.effect_noise(size, 64)
    gradient = Image.linear_gradient("L").resize(size)
    return Image.merge("RGB", (Image.blend(gradient, noise, 0.5), noise, gradient.rotate(180)))


def _psnr(a: Image.Image, b: Image.Image) -> float:
    from PIL import ImageChops, ImageStat

    mse = sum(value**2 for value in ImageStat.Stat(ImageChops.difference(a, b)).rms) / 3
    return float("inf") if mse == 0 else 10 * math.log10(255**2 / mse)


def test_smaller_sizes_cascaded_from_the_1024_match_those_resized_from_the_source():
    # given a decoded photo, when the sizes are made from the 1024 px thumbnail and directly from the image
    base = _photo()
    cascaded = thumbnailer.render(base, (128, 256, 1024), "PNG", 90)
    direct = thumbnailer.render(base, (128, 256, 1024), "PNG", 90, cascade=False)

    # then the dimensions are identical and the pixels visually equivalent (PSNR well above 40 dB)
    assert [(t.size, t.width, t.height) for t in cascaded] == [(t.size, t.width, t.height) for t in direct]
    assert cascaded[2].data == direct[2].data
    for made, reference in zip(cascaded[:2], direct[:2], strict=True):
        assert _psnr(decoded(made), decoded(reference)) > 40


def test_a_size_is_cascaded_only_from_a_thumbnail_at_least_three_times_larger(monkeypatch):
    sources = []
    real = thumbnailer.resize_to
    monkeypatch.setattr(
        thumbnailer, "resize_to", lambda image, size: sources.append(image.size) or real(image, size)
    )

    thumbnailer.render(_photo((3000, 2000)), (128, 256, 1024), "JPEG", 85)

    # 1024 from the image; 256 from the 1024 (4x); 128 from the 1024 too, since the 256 is only 2x
    assert sources == [(3000, 2000), (1024, 683), (1024, 683)]


def test_resize_box_reduces_first_yet_matches_a_full_lanczos_pass(monkeypatch):
    # given a phone-photo-like source (gradients with sensor-like noise) 3.9x the target's long edge
    size = (2016, 1512)
    noise = Image.effect_noise(size, 48)
    gradient = Image.linear_gradient("L").resize(size)
    source = Image.merge(
        "RGB", (Image.blend(gradient, noise, 0.3), Image.blend(gradient.rotate(90), noise, 0.3), gradient)
    )
    reduced = []
    real_reduce = Image.Image.reduce
    monkeypatch.setattr(
        Image.Image,
        "reduce",
        lambda self, factor, box=None: reduced.append(factor) or real_reduce(self, factor, box),
    )

    # when the core resizes it to 512 px, and Pillow does a full Lanczos pass over the whole 3.9x
    made = thumbnailer.resize(source, 512)
    reference = source.resize(made.size, Image.Resampling.LANCZOS)

    # then the cheap 2x box reduce ran first, and the pixels are visually the same (PSNR well above 40 dB)
    assert reduced == [(2, 2)]
    assert made.size == (512, 384)
    assert _psnr(made, reference) > 45


def test_small_source_is_stored_at_its_own_size_not_upscaled():
    thumbs = thumbnailer.make_thumbnails(images.jpeg((200, 100)), DEFAULTS)
    assert [decoded(t).size for t in thumbs] == [(128, 64), (200, 100), (200, 100)]


def test_jpeg_is_decoded_at_a_reduced_scale_that_still_serves_the_largest_size():
    image = thumbnailer.open_image(images.jpeg((6000, 4000)), DEFAULTS.max_pixels)
    base = thumbnailer.decode(image, 1024)
    # libjpeg scales by 1/4 here: 1500x1000 is the smallest of 1/1, 1/2, 1/4, 1/8 that is >= 1024x683.
    assert base.size == (1500, 1000)


def test_exif_orientation_6_is_applied_so_the_thumbnail_is_upright():
    thumbs = thumbnailer.make_thumbnails(images.jpeg((600, 400), orientation=6), DEFAULTS)
    image = decoded(thumbs[0])
    assert image.size == (85, 128)
    # Orientation 6 means "rotate 90 degrees clockwise to display": the red left half ends up on top.
    top, bottom = image.getpixel((42, 10)), image.getpixel((42, 117))
    assert top[0] > 180 and top[2] < 80
    assert bottom[2] > 180 and bottom[0] < 80
    assert image.getexif().get(images.ORIENTATION) in (None, 1)


# --- modes and formats ----------------------------------------------------------------------------------


def test_alpha_png_becomes_png_that_keeps_its_transparency():
    thumb = thumbnailer.make_thumbnails(images.png_with_alpha(), DEFAULTS)[0]
    image = decoded(thumb)
    assert (thumb.format, image.format, image.mode) == ("PNG", "PNG", "RGBA")
    assert image.getpixel((5, 5))[3] == 255
    assert image.getpixel((image.width - 5, 5))[3] == 0


def test_png_whose_alpha_is_opaque_everywhere_becomes_jpeg():
    data = images.encode(Image.new("RGBA", (300, 200), (10, 20, 30, 255)), "PNG")
    thumb = thumbnailer.make_thumbnails(data, DEFAULTS)[0]
    assert (thumb.format, decoded(thumb).mode) == ("JPEG", "RGB")


def test_webp_setting_keeps_alpha_in_webp():
    settings = thumbnailer.Settings(output_format="webp")
    thumb = thumbnailer.make_thumbnails(images.png_with_alpha(), settings)[0]
    image = decoded(thumb)
    assert (image.format, image.mode, thumb.content_type) == ("WEBP", "RGBA", "image/webp")
    assert image.getpixel((image.width - 5, 5))[3] == 0


def test_cmyk_jpeg_becomes_an_rgb_jpeg_with_the_right_colours():
    thumb = thumbnailer.make_thumbnails(images.jpeg((400, 300), mode="CMYK"), DEFAULTS)[0]
    image = decoded(thumb)
    assert (image.format, image.mode) == ("JPEG", "RGB")
    red, green, blue = image.getpixel((5, 40))  # left half was pure cyan ink
    assert red < 40 and green > 215 and blue > 215


def test_16bit_grey_png_is_scaled_to_8_bits_not_clipped_to_white():
    thumb = thumbnailer.make_thumbnails(images.png_16bit_grey(level=0x8000), DEFAULTS)[0]
    image = decoded(thumb)
    assert image.mode == "L"
    assert image.getpixel((5, 5)) == 0x80


def test_16bit_rgb_png_is_read_as_8_bit_rgb():
    thumb = thumbnailer.make_thumbnails(images.png_16bit_rgb(colour=(0xC000, 0x4000, 0x8000)), DEFAULTS)[0]
    image = decoded(thumb)
    assert (image.format, image.mode) == ("JPEG", "RGB")
    assert all(
        abs(got - want) <= 3 for got, want in zip(image.getpixel((5, 5)), (0xC0, 0x40, 0x80), strict=True)
    )


def test_opaque_palette_gif_becomes_rgb_jpeg():
    thumb = thumbnailer.make_thumbnails(images.palette_gif(), DEFAULTS)[0]
    image = decoded(thumb)
    assert (thumb.format, image.mode) == ("JPEG", "RGB")


def test_animated_gif_yields_its_first_frame():
    thumb = thumbnailer.make_thumbnails(images.animated_gif(), DEFAULTS)[0]
    red, green, blue = decoded(thumb).getpixel((10, 10))
    assert red > 200 and green < 50 and blue < 50


@pytest.mark.parametrize(
    ("mode", "value", "expected"),
    [
        ("1", 1, 255),
        ("I", 40000, 156),
        ("I", 200, 200),
        ("I;16", 0xFFFF, 255),
        ("F", 0.5, 127),
        ("F", 100.0, 100),
    ],
)
def test_normalize_mode_scales_wide_samples_into_8_bit_grey(mode, value, expected):
    image = thumbnailer.normalize_mode(Image.new(mode, (4, 4), value))
    assert (image.mode, image.getpixel((0, 0))) == ("L", expected)


@pytest.mark.parametrize(
    ("mode", "expected"), [("P", "RGB"), ("PA", "RGBA"), ("LA", "RGBA"), ("YCbCr", "RGB"), ("RGBA", "RGBA")]
)
def test_normalize_mode_yields_modes_every_encoder_accepts(mode, expected):
    assert thumbnailer.normalize_mode(Image.new(mode, (4, 4))).mode == expected


def test_greyscale_with_colour_key_transparency_keeps_it_as_alpha():
    image = Image.new("L", (4, 4), 7)
    image.info["transparency"] = 7
    converted = thumbnailer.normalize_mode(image)
    assert converted.mode == "RGBA" and converted.getpixel((0, 0))[3] == 0


@pytest.mark.parametrize(
    ("key", "fmt", "expected"),
    [
        ("a/b.jpg", "JPEG", "thumbnails/128/a/b.jpg"),
        ("a/B.JPEG", "JPEG", "thumbnails/128/a/B.JPEG"),
        ("cat.gif", "JPEG", "thumbnails/128/cat.gif.jpg"),
        ("logo.png", "PNG", "thumbnails/128/logo.png"),
        ("noext", "PNG", "thumbnails/128/noext.png"),
        ("x.png", "WEBP", "thumbnails/128/x.png.webp"),
    ],
)
def test_output_key_appends_the_extension_only_when_the_format_changes(key, fmt, expected):
    assert thumbnailer.output_key("thumbnails/", 128, key, fmt) == expected


# --- rejections -----------------------------------------------------------------------------------------


def test_rejects_zero_bytes():
    assert rejection(b"") == "empty"


def test_rejects_text_named_like_an_image():
    assert rejection(b"this is a shopping list, not a photo\n") == "not_an_image"


def test_rejects_truncated_jpeg():
    assert rejection(images.truncated_jpeg()) == "truncated"


def test_rejects_decompression_bomb_before_decoding():
    bomb = images.png_bomb(100_000, 100_000)
    assert len(bomb) < 200
    assert rejection(bomb) == "decompression_bomb"


def test_rejects_image_just_over_the_pixel_cap():
    settings = thumbnailer.Settings(max_pixels=100 * 100)
    assert rejection(images.jpeg((101, 100)), settings) == "decompression_bomb"


def test_rejects_absurd_dimensions_even_under_the_pixel_cap():
    assert rejection(images.png_raw(100_000, 1, 8, 0, b"\x00" * 100_001)) == "absurd_dimensions"


def test_rejects_unsupported_format_by_name():
    with pytest.raises(Rejected) as caught:
        thumbnailer.make_thumbnails(images.psd(), DEFAULTS)
    assert (caught.value.reason, caught.value.detail) == ("unsupported_format", "PSD")


def test_rejects_input_over_the_byte_cap():
    settings = thumbnailer.Settings(max_bytes=1000)
    assert rejection(images.jpeg((600, 400)), settings) == "too_large"


def test_pillow_global_pixel_limit_is_restored_even_after_a_rejection():
    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(Rejected):
        thumbnailer.open_image(images.jpeg((60, 40)), 1234)
    assert before == Image.MAX_IMAGE_PIXELS


def test_check_dimensions_rejects_over_the_cap_independently_of_pillow():
    with pytest.raises(Rejected) as caught:
        thumbnailer.check_dimensions(10_001, 10_000, 100_000_000)
    assert caught.value.reason == "decompression_bomb"


# --- what S3 can store ----------------------------------------------------------------------------------
# S3 answers KeyTooLongError / MetadataTooLarge on every attempt, and moto accepts both, so the function
# checks the limits itself before writing. They count UTF-8 bytes, not characters.


def test_storable_key_may_be_exactly_1024_utf8_bytes():
    thumbnailer.check_storable("k" * 1024, {})
    thumbnailer.check_storable("é" * 512, {})


@pytest.mark.parametrize("key", ["k" * 1025, "é" * 513, "thumbnails/128/" + "é" * 505])
def test_storable_key_over_1024_utf8_bytes_is_rejected_even_when_under_1024_characters(key):
    with pytest.raises(Rejected) as caught:
        thumbnailer.check_storable(key, {})
    assert caught.value.reason == "key_too_long"


def test_storable_metadata_counts_utf8_bytes_of_every_name_and_value_up_to_2048():
    # 2 + 2046 bytes; the x-amz-meta- prefix is not counted, as S3 documents.
    thumbnailer.check_storable("k", {"ab": "v" * 2046})
    with pytest.raises(Rejected) as caught:
        thumbnailer.check_storable("k", {"ab": "v" * 2000, "cd": "w" * 45})
    assert caught.value.reason == "metadata_too_large"


@pytest.mark.parametrize("key", ["a\ud800.jpg", "\udcff"])
def test_storable_key_with_a_lone_surrogate_is_rejected_as_invalid(key):
    with pytest.raises(Rejected) as caught:
        thumbnailer.check_storable(key, {})
    assert caught.value.reason == "invalid_key"


@pytest.mark.parametrize("metadata", [{"name": "caf\udce9"}, {"name": "café"}, {"n\u00e4me": "v"}])
def test_storable_metadata_must_be_ascii_because_it_travels_as_http_headers(metadata):
    with pytest.raises(Rejected) as caught:
        thumbnailer.check_storable("k", metadata)
    assert caught.value.reason == "invalid_metadata"


def test_source_key_check_rejects_what_s3_cannot_have_stored():
    thumbnailer.check_key("photos/Café à Paris.jpg")
    for key in ("a\ud800", "x" * 1025, ""):
        with pytest.raises(Rejected) as caught:
            thumbnailer.check_key(key)
        assert caught.value.reason == "invalid_key"


# --- event order ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sequencer", "stored", "later"),
    [
        ("0055AED6DCD90281E6", "0055AED6DCD90281E5", True),
        ("0055AED6DCD90281E5", "0055AED6DCD90281E6", False),
        ("0055AED6DCD90281E5", "0055AED6DCD90281E5", False),
        # Lengths differ: the shorter is left-padded with zeros first, as AWS documents, so "10" > "F"
        # although "10" < "F" as plain strings.
        ("10", "F", True),
        ("F", "10", False),
        ("00F", "F", False),
        ("0055AED6DCD90281E5", "55aed6dcd90281e4", True),
        # A thumbnail without a stored sequencer predates ordering: any ordered event replaces it.
        ("01", "", True),
        ("", "", False),
    ],
)
def test_sequencer_is_later_compares_zero_padded_hex(sequencer, stored, later):
    assert thumbnailer.is_later(sequencer, stored) is later


@pytest.mark.parametrize("sequencer", ["0055AED6DCD90281E5", "0a", "F"])
def test_valid_sequencers_are_hex(sequencer):
    assert thumbnailer.valid_sequencer(sequencer)


@pytest.mark.parametrize("sequencer", ["", "0x55", "00 55", "é5", "5\n"])
def test_invalid_sequencers_are_refused(sequencer):
    assert not thumbnailer.valid_sequencer(sequencer)
