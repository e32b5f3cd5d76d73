"""Colour management for the modes no thumbnail format stores: CMYK and CIELAB become sRGB.

A CMYK file's numbers are ink amounts on one press; only its ICC profile says which colours they are.
Pillow's ``convert("RGB")`` ignores the profile and computes ``255 - C - K`` and so on, which turns a
press's real cyan into a far brighter screen cyan. With a profile the conversion goes through littleCMS
(``PIL.ImageCms``), as Photoshop and browsers do; without one, or with one littleCMS cannot read, the
naive formula is all there is.
"""

from __future__ import annotations

import functools
import io

from PIL import Image


def to_srgb(image: Image.Image) -> Image.Image:
    """A CMYK or LAB ``image`` as sRGB: through its embedded ICC profile if it has one, else naively (CMYK)
    or through littleCMS's built-in D50 Lab profile (LAB). The result carries no profile: untagged is sRGB.
    """
    icc = image.info.get("icc_profile")
    rgb = _through_profile(image, icc) if icc or image.mode == "LAB" else None
    if rgb is None:
        rgb = image.convert("RGB")
    rgb.info.pop("icc_profile", None)
    return rgb


def _through_profile(image: Image.Image, icc: bytes | None) -> Image.Image | None:
    # Imported here: only CMYK and LAB images need littleCMS, so the cold start of every other upload
    # does not load it.
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc)) if icc else ImageCms.createProfile("LAB")
        return ImageCms.profileToProfile(image, source, _srgb(), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        # A damaged or mismatched profile (an RGB profile on CMYK pixels) must not lose the image.
        return None


@functools.cache
def _srgb():
    from PIL import ImageCms

    return ImageCms.createProfile("sRGB")
