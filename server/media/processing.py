"""Pictures in, variants out (Pillow): what was sent is decoded, never believed.

A body is a picture when Pillow decodes it as JPEG, PNG, WebP or GIF; its file name and the
content type the client claims are not read. Anything else is refused before its pixels are
decoded: not one of those formats (``415 media_unsupported_type``: a text file named ``.jpg``,
an SVG, a PDF), more pixels than ``MEDIA_MAX_PIXELS`` (``422 media_too_many_pixels``: read
from the header, so a 30,000 × 30,000 PNG that would inflate to gigabytes is refused without
inflating it; Pillow's own ``MAX_IMAGE_PIXELS`` guard stands behind this check), or a picture
that does not decode to its end (``422 media_unreadable``: a truncated JPEG).

What is kept is re-encoded, so nothing of the original file survives but its pixels: EXIF (GPS
above all), XMP, comments and colour profiles are not written. The EXIF orientation is applied
first, so a photo taken sideways is stored upright; a colour profile (a phone's Display P3)
is applied by converting the pixels to sRGB, which every screen assumes without one.

Variants, WebP, never enlarged, aspect ratio kept:

- ``display``: the shorter side at most 1080 px and the longer at most 2160 px (a 4032 × 3024
  photo becomes 1440 × 1080; a tall screenshot keeps its length up to 2160 px);
- ``thumb``: the shorter side at most 320 px and the longer at most 640 px.

Each has its width and height; the picture has a blurhash and its average colour, for the
placeholder a client paints while the variant loads. An animated GIF, WebP or PNG keeps its
animation (``display`` is an animated WebP; ``thumb`` is the first frame) when it has at most
``MEDIA_MAX_FRAMES`` frames and ``MEDIA_MAX_ANIMATION_PIXELS`` pixels in all its frames:
decoding and encoding every frame costs time in the request, so a longer one is kept as its
first frame. JPEGs are decoded at 1/2, 1/4 or 1/8 of their size where that still covers the
display size (libjpeg's scaled decoding), which is most of a 12-megapixel photo's cost.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

from blurhash._functions import ffi, lib  # the C encoder (see ``_blurhash``)
from PIL import ExifTags, Image, ImageCms, ImageSequence, UnidentifiedImageError

from server.errors import DomainError, register_messages

register_messages(
    {
        "media_unsupported_type": {
            "zh-Hans": "只能上传 JPEG、PNG、WebP 或 GIF 图片。",
            "zh-Hant": "只能上傳 JPEG、PNG、WebP 或 GIF 圖片。",
            "en": "Only JPEG, PNG, WebP and GIF pictures can be uploaded.",
        },
        "media_unreadable": {
            "zh-Hans": "图片已损坏或不完整，无法读取。",
            "zh-Hant": "圖片已損壞或不完整，無法讀取。",
            "en": "The picture is damaged or incomplete and cannot be read.",
        },
        "media_too_many_pixels": {
            "zh-Hans": "图片尺寸过大（最多 {limit} 百万像素）。",
            "zh-Hant": "圖片尺寸過大（最多 {limit} 百萬像素）。",
            "en": "The picture has too many pixels (at most {limit} megapixels).",
        },
    }
)

FORMATS = ("JPEG", "PNG", "WEBP", "GIF")  # Pillow's names for the formats taken
SOURCE_FORMATS = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
ANIMATABLE = frozenset({"GIF", "WEBP", "PNG"})  # an MPO's second frame is a depth map, not art
DISPLAY_BOX = (1080, 2160)  # (shorter side, longer side) at most
THUMB_BOX = (320, 640)
FORMAT, EXTENSION, CONTENT_TYPE = "webp", "webp", "image/webp"
# WebP effort: method 2 encodes a 1440 × 1080 photo in about a third of the time of the
# default 4, for files a few per cent larger (bench/README.md, "Media")
DISPLAY_QUALITY, THUMB_QUALITY, ANIMATION_QUALITY, METHOD = 80, 75, 75, 2
# what a broken file makes Pillow raise while it reads a header or decodes
BROKEN = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, IndexError)

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@dataclass(frozen=True)
class Limits:
    """How much decoding one upload may cost (the ``MEDIA_MAX_*`` settings)."""

    max_pixels: int
    max_frames: int
    max_animation_pixels: int


@dataclass(frozen=True)
class Variant:
    name: str  # "display", "thumb"
    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class Picture:
    source_format: str  # "jpeg", "png", "webp", "gif"
    animated: bool
    display: Variant
    thumb: Variant
    blurhash: str
    color: str  # "#rrggbb"

    @property
    def variants(self) -> tuple[Variant, Variant]:
        return (self.display, self.thumb)


def process(data: bytes, limits: Limits) -> Picture:
    """Decode ``data``, refuse it (``DomainError``) or return its re-encoded variants."""
    image = _open(data, limits)
    try:
        source_format = SOURCE_FORMATS[str(image.format)]
        orientation = _orientation(image)
        animation = _animation(image, orientation, limits)
        still = _display_still(image, orientation)
    finally:
        image.close()
    thumb = still.resize(fit(still.size, THUMB_BOX), Image.Resampling.LANCZOS, reducing_gap=3.0)
    if animation is not None:
        display = Variant("display", animation, still.width, still.height)
    else:
        display = Variant("display", _webp(still, DISPLAY_QUALITY), still.width, still.height)
    placeholder = _opaque(thumb)
    return Picture(
        source_format=source_format,
        animated=animation is not None,
        display=display,
        thumb=Variant("thumb", _webp(thumb, THUMB_QUALITY), thumb.width, thumb.height),
        blurhash=_blurhash(placeholder),
        color=_average(placeholder),
    )


def fit(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """``size`` scaled down (never up) so that its shorter side fits ``box[0]`` and its longer
    side ``box[1]``."""
    width, height = size
    shorter, longer = box
    scale = min(1.0, shorter / min(width, height), longer / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _too_many_pixels(limits: Limits) -> DomainError:
    return DomainError("media_too_many_pixels", 422, limit=limits.max_pixels // 1_000_000)


def _open(data: bytes, limits: Limits) -> Image.Image:
    """The picture's header read (no pixels yet), or the refusal."""
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(limits) from exc  # Pillow's guard, past our own limit
    except UnidentifiedImageError as exc:
        raise DomainError("media_unsupported_type", 415) from exc
    except BROKEN as exc:
        raise DomainError("media_unreadable", 422) from exc
    width, height = image.size
    if width < 1 or height < 1:
        image.close()
        raise DomainError("media_unreadable", 422)
    if width * height > limits.max_pixels:
        image.close()
        raise _too_many_pixels(limits)
    return image


def _orientation(image: Image.Image) -> Image.Transpose | None:
    """How to turn the stored pixels upright (EXIF orientation 2–8), if at all."""
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # a broken EXIF block is ignored, not a reason to refuse the picture
        return None
    return _TRANSPOSE.get(value) if isinstance(value, int) else None


def _display_still(image: Image.Image, orientation: Image.Transpose | None) -> Image.Image:
    """The first (or only) frame, decoded, upright, in sRGB, at the display size."""
    target = fit(image.size, DISPLAY_BOX)  # the same rule either way up: turned afterwards
    icc = image.info.get("icc_profile")
    try:
        if image.format in ("JPEG", "MPO"):
            image.draft("RGB", target)  # decode at 1/2, 1/4, 1/8 where that covers the target
        image.seek(0)
        image.load()
        still = _normal_mode(image)
        target = fit(still.size, DISPLAY_BOX)  # the drafted size may be larger than asked
        if still.size != target:
            still = still.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
        if orientation is not None:  # turned after the resize: fewer pixels to move
            still = still.transpose(orientation)
        if still is image:
            still = image.copy()  # the opened file is closed after this
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DomainError("media_unreadable", 422) from exc  # a frame larger than the picture
    except BROKEN as exc:
        raise DomainError("media_unreadable", 422) from exc
    return _srgb(still, icc)


def _normal_mode(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the picture has transparency (CMYK stays for the colour profile)."""
    if image.mode in ("RGB", "RGBA", "CMYK"):
        return image
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):  # 16-bit grey, HDR
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    return image.convert("RGBA" if image.has_transparency_data else "RGB")


def _srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """The pixels in sRGB: through the picture's own colour profile when it has one that is
    not sRGB already (a profile that cannot be read is ignored)."""
    mode = "RGBA" if image.mode == "RGBA" else "RGB"
    if icc:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            if "srgb" not in ImageCms.getProfileDescription(profile).lower():
                converted = ImageCms.profileToProfile(image, profile, _SRGB, outputMode=mode)
                if converted is not None:
                    image = converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass
    return image if image.mode == mode else image.convert(mode)


def _animation(
    image: Image.Image, orientation: Image.Transpose | None, limits: Limits
) -> bytes | None:
    """An animated WebP of every frame at the display size, when the picture is animated and
    small enough to re-encode in the request; else None (the first frame is kept)."""
    frames = int(getattr(image, "n_frames", 1) or 1)
    if image.format not in ANIMATABLE or frames < 2 or frames > limits.max_frames:
        return None
    width, height = image.size
    if frames * width * height > limits.max_animation_pixels:
        return None
    loop = int(image.info.get("loop", 0) or 0)
    encoded, durations = [], []
    try:
        for frame in ImageSequence.Iterator(image):
            durations.append(max(20, int(frame.info.get("duration") or 100)))
            rgba = frame.convert("RGBA")
            if orientation is not None:
                rgba = rgba.transpose(orientation)
            target = fit(rgba.size, DISPLAY_BOX)
            if rgba.size != target:
                rgba = rgba.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
            encoded.append(rgba)
    except BROKEN as exc:
        raise DomainError("media_unreadable", 422) from exc
    out = io.BytesIO()
    encoded[0].save(
        out,
        "WEBP",
        save_all=True,
        append_images=encoded[1:],
        duration=durations,
        loop=loop,
        quality=ANIMATION_QUALITY,
        method=0,  # every frame is encoded in the request: the fastest effort
    )
    return out.getvalue()


def _webp(image: Image.Image, quality: int) -> bytes:
    """WebP with no metadata at all: Pillow writes EXIF, XMP and a colour profile only when
    asked to, and nothing asks."""
    out = io.BytesIO()
    image.save(out, "WEBP", quality=quality, method=METHOD)
    return out.getvalue()


def _opaque(image: Image.Image) -> Image.Image:
    """A small RGB copy for the placeholder (transparency over white)."""
    small = image.copy()
    small.thumbnail((32, 32), Image.Resampling.BOX)
    if small.mode == "RGBA":
        background = Image.new("RGB", small.size, (255, 255, 255))
        background.paste(small, mask=small.getchannel("A"))
        return background
    return small.convert("RGB")


def _blurhash(image: Image.Image) -> str:
    """The blurhash of an RGB image (4 × 3 components, 3 × 4 when it stands upright).

    Calls blurhash-python's C encoder directly with the image's bytes: its ``encode()`` reads
    pixels with ``Image.getdata``, deprecated in Pillow 13 and gone in 14."""
    x, y = (4, 3) if image.width >= image.height else (3, 4)
    pixels = image.tobytes()
    out = ffi.new("char[]", 2 + 4 + (9 * 9 - 1) * 2 + 1)
    made = lib.create_hash_from_pixels(
        x, y, image.width, image.height, ffi.from_buffer(pixels), image.width * 3, out
    )
    if made == ffi.NULL:  # pragma: no cover - only for components outside 1–9
        raise ValueError("blurhash components out of range")
    return str(ffi.string(made).decode())


def _average(image: Image.Image) -> str:
    red, green, blue = image.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))  # type: ignore[misc]
    return f"#{red:02x}{green:02x}{blue:02x}"
