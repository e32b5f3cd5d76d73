"""The image core on every input format it accepts, and the AVIF output: real files made in the test.

HEIC and AVIF as phones write them (EXIF orientation, the container's rotation), TIFF as scanners and
desktops do (several pages, 16-bit samples, every compression, CMYK with an ICC profile), BMP; bombs of each
format rejected on their header; a format taken out of ``input_formats`` rejected unread.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

import thumbnail_images as images
from conftest import load_handler

thumbnailer = load_handler("thumbnail_pipeline", "thumbnailer")
formats = load_handler("thumbnail_pipeline", "formats")
Rejected = thumbnailer.Rejected
DEFAULTS = thumbnailer.Settings()

TWO_TONE = {
    "jpeg": lambda: images.jpeg((600, 400)),
    "png": lambda: images.encode(images.two_tone((600, 400)), "PNG"),
    "gif": lambda: images.palette_gif((600, 400)),
    "webp": lambda: images.encode(images.two_tone((600, 400)), "WEBP", quality=90),
    "avif": lambda: images.avif((600, 400)),
    "heif": lambda: images.heic((600, 400)),
    "tiff": lambda: images.tiff(images.two_tone((600, 400))),
    "bmp": lambda: images.bmp((600, 400)),
}


def decoded(thumb) -> Image.Image:
    image = Image.open(io.BytesIO(thumb.data))
    image.load()
    return image


def reddish(pixel) -> bool:
    return pixel[0] > 180 and pixel[2] < 80


def bluish(pixel) -> bool:
    return pixel[2] > 180 and pixel[0] < 80


def rejection(data: bytes, settings=DEFAULTS) -> Rejected:
    with pytest.raises(Rejected) as caught:
        thumbnailer.make_thumbnails(data, settings)
    return caught.value


def test_every_accepted_format_has_a_sample_here():
    assert sorted(TWO_TONE) == sorted(formats.INPUT_FORMATS)


@pytest.mark.parametrize("name", sorted(TWO_TONE))
def test_each_format_is_recognised_from_its_first_bytes_and_becomes_a_jpeg_thumbnail(name):
    data = TWO_TONE[name]()

    thumbs = thumbnailer.make_thumbnails(data, DEFAULTS)

    assert formats.identify(data[: formats.HEAD_BYTES]) == name
    assert [(t.format, t.width, t.height) for t in thumbs] == [
        ("JPEG", 128, 85),
        ("JPEG", 256, 171),
        ("JPEG", 600, 400),
    ]
    image = decoded(thumbs[2])
    assert reddish(image.getpixel((100, 200))) and bluish(image.getpixel((500, 200)))


@pytest.mark.parametrize("name", ["heif", "avif"])
def test_a_phone_photo_with_exif_orientation_6_becomes_an_upright_jpeg(name):
    # given the sensor's landscape pixels (red left, blue right) and "rotate 90 degrees clockwise to display"
    data = {"heif": images.heic, "avif": images.avif}[name]((600, 400), orientation=6)

    thumb = thumbnailer.make_thumbnails(data, DEFAULTS)[1]

    # then the thumbnail is portrait with the red half on top: turned once, not twice, not never
    image = decoded(thumb)
    assert (thumb.format, image.size) == ("JPEG", (171, 256))
    assert reddish(image.getpixel((85, 20))) and bluish(image.getpixel((85, 236)))
    assert image.getexif().get(images.ORIENTATION) in (None, 1)


def test_heic_with_alpha_becomes_png_and_keeps_it():
    rgba = Image.new("RGBA", (300, 200), (0, 0, 255, 0))
    rgba.paste((255, 0, 0, 255), (0, 0, 150, 200))

    thumb = thumbnailer.make_thumbnails(images.heic(image=rgba), DEFAULTS)[0]

    image = decoded(thumb)
    assert (thumb.format, image.mode) == ("PNG", "RGBA")
    assert image.getpixel((5, 5))[3] > 250 and image.getpixel((image.width - 5, 5))[3] < 5


def test_multi_page_tiff_gives_its_first_page():
    pages = [Image.new("RGB", (300, 200), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]

    thumb = thumbnailer.make_thumbnails(images.tiff(*pages), DEFAULTS)[0]

    assert reddish(decoded(thumb).getpixel((10, 10)))


@pytest.mark.parametrize(
    ("mode", "compression"),
    [
        ("RGB", "raw"),
        ("RGB", "tiff_lzw"),
        ("RGB", "tiff_adobe_deflate"),
        ("RGB", "packbits"),
        ("RGB", "jpeg"),
        ("1", "group4"),
        ("1", "group3"),
    ],
)
def test_tiff_is_read_in_every_compression_pillow_decodes(mode, compression):
    source = images.two_tone((600, 400), left=(255, 255, 255), right=(0, 0, 0)).convert(mode)

    thumb = thumbnailer.make_thumbnails(images.tiff(source, compression=compression), DEFAULTS)[2]

    image = decoded(thumb).convert("L")
    assert image.size == (600, 400)
    assert image.getpixel((100, 200)) > 230 and image.getpixel((500, 200)) < 25


def test_16bit_rgb_tiff_is_scaled_to_8_bits():
    thumb = thumbnailer.make_thumbnails(images.tiff_16bit_rgb(colour=(0xC000, 0x4000, 0x8000)), DEFAULTS)[0]

    pixel = decoded(thumb).getpixel((5, 5))
    assert all(abs(got - want) <= 3 for got, want in zip(pixel, (0xC0, 0x40, 0x80), strict=True))


def test_16bit_grey_tiff_is_scaled_to_8_bits_not_clipped_to_white():
    data = images.encode(Image.new("I;16", (64, 32), 0x8000), "TIFF")

    thumb = thumbnailer.make_thumbnails(data, DEFAULTS)[0]

    assert decoded(thumb).getpixel((5, 5)) == 0x80


def _through_profile(image: Image.Image) -> tuple[int, int, int]:
    profile = ImageCms.ImageCmsProfile(io.BytesIO(images.cmyk_profile()))
    return ImageCms.profileToProfile(
        image, profile, ImageCms.createProfile("sRGB"), outputMode="RGB"
    ).getpixel((5, 5))


@pytest.mark.parametrize("fmt", ["TIFF", "JPEG"])
def test_cmyk_with_an_icc_profile_becomes_srgb_through_the_profile(fmt):
    # given pure cyan ink: a mid blue through this press's profile, (0, 255, 255) by Pillow's naive formula
    source = images.cmyk_image()
    options = {"quality": 95} if fmt == "JPEG" else {}
    data = images.encode(source, fmt, icc_profile=images.cmyk_profile(), **options)
    expected = _through_profile(source)
    naive = source.convert("RGB").getpixel((5, 5))
    assert max(abs(a - b) for a, b in zip(expected, naive, strict=True)) > 60

    thumb = thumbnailer.make_thumbnails(data, DEFAULTS)[0]

    image = decoded(thumb)
    assert (thumb.format, image.mode, image.info.get("icc_profile")) == ("JPEG", "RGB", None)
    assert max(abs(a - b) for a, b in zip(image.getpixel((5, 5)), expected, strict=True)) <= 6


def test_cmyk_with_an_unreadable_profile_still_becomes_rgb_naively():
    data = images.encode(images.cmyk_image(), "TIFF", icc_profile=b"not a profile at all")

    thumb = thumbnailer.make_thumbnails(data, DEFAULTS)[0]

    red, green, blue = decoded(thumb).getpixel((5, 5))
    assert red < 40 and green > 215 and blue > 215


def test_an_rgb_profile_is_kept_in_the_thumbnail():
    # given a wide-gamut stand-in: an RGB profile that is not the default sRGB one
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB", 5000)).tobytes()
    data = images.heic(image=images.two_tone((300, 200)))
    with_profile = images.encode(Image.open(io.BytesIO(data)), "HEIF", icc_profile=profile)

    thumb = thumbnailer.make_thumbnails(with_profile, DEFAULTS)[0]

    assert decoded(thumb).info.get("icc_profile") == profile


def test_avif_output_keeps_alpha_and_names_its_type():
    thumb = thumbnailer.make_thumbnails(images.png_with_alpha(), thumbnailer.Settings(output_format="avif"))[
        0
    ]

    image = decoded(thumb)
    assert (thumb.format, image.format, image.mode, thumb.content_type) == (
        "AVIF",
        "AVIF",
        "RGBA",
        "image/avif",
    )
    assert image.getpixel((5, 5))[3] > 250 and image.getpixel((image.width - 5, 5))[3] < 5
    assert thumbnailer.output_key("thumbnails/", 128, "a/b.heic", "AVIF") == "thumbnails/128/a/b.heic.avif"
    assert thumbnailer.output_key("thumbnails/", 128, "a/b.AVIF", "AVIF") == "thumbnails/128/a/b.AVIF"


# --- rejections -----------------------------------------------------------------------------------------

BOMBS = {
    "avif": images.avif_bomb,
    "heif": images.heic_bomb,
    "tiff": images.tiff_bomb,
    "bmp": images.bmp_bomb,
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_a_bomb_in_each_new_format_is_rejected_on_its_header_before_decoding(name, monkeypatch):
    bomb = BOMBS[name]()
    monkeypatch.setattr(thumbnailer, "decode", lambda *args: pytest.fail("decoded a bomb"))

    caught = rejection(bomb)

    assert len(bomb) < 2000
    assert formats.identify(bomb[: formats.HEAD_BYTES]) == name
    assert caught.reason == "decompression_bomb"


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_each_new_format_keeps_the_pixel_and_byte_caps(name):
    data = TWO_TONE[name]()

    assert rejection(data, thumbnailer.Settings(max_pixels=599 * 400)).reason == "decompression_bomb"
    assert rejection(data, thumbnailer.Settings(max_bytes=len(data) - 1)).reason == "too_large"


@pytest.mark.parametrize("name", sorted(TWO_TONE))
def test_a_format_taken_out_of_input_formats_is_rejected_unread_with_its_reason(name, monkeypatch):
    others = tuple(other for other in formats.INPUT_FORMATS if other != name)
    monkeypatch.setattr(formats, "plugin", lambda *args: pytest.fail("a plugin was loaded"))
    monkeypatch.setattr(thumbnailer, "plugin", formats.plugin)

    caught = rejection(TWO_TONE[name](), thumbnailer.Settings(input_formats=others))

    assert (caught.reason, caught.detail) == ("format_disabled", f"{name.upper()} is not in INPUT_FORMATS")


@pytest.mark.parametrize("name", ["heif", "avif", "tiff"])
def test_a_truncated_file_of_each_new_format_is_rejected_not_retried(name):
    data = TWO_TONE[name]()

    assert rejection(data[: len(data) // 2]).reason in ("truncated", "corrupt")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x00\x00\x00\x1cftypheic\x00\x00\x00\x00mif1heicmiaf", "heif"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "heif"),
        (b"\x00\x00\x00\x20ftypavif\x00\x00\x00\x00avifmif1miafMA1B", "avif"),
        # The generic HEIF brand first, AV1 among the compatible ones: an AVIF.
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif", "avif"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", None),
        (b"MM\x00+\x00\x08\x00\x00", "tiff"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
    ],
)
def test_identify_reads_the_brands_of_the_ftyp_box_and_nothing_else(head, expected):
    assert formats.identify(head) == expected


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "ISOBMFF"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n", "EPS"),
        (b"\x00\x00\x01\x00\x01\x00\x10\x10", "ICO"),
        (b"\xff\x0a\xfa\x7f", "JPEGXL"),
    ],
)
def test_formats_kept_out_are_rejected_by_name(data, detail):
    caught = rejection(data)

    assert (caught.reason, caught.detail) == ("unsupported_format", detail)
