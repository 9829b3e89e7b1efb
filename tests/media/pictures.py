"""Pictures made with Pillow for the media tests (and ``bench/media_bench.py``): what phones
send, and what an attacker sends."""

from __future__ import annotations

import io
import random
import struct
import zlib

from PIL import Image, ImageDraw, ImageFilter

RED, BLUE = (220, 30, 30), (30, 40, 220)
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def photo_with_gps(upright: tuple[int, int] = (1500, 2000)) -> bytes:
    """A JPEG as a phone held upright writes it: the pixels stored sideways (orientation 6:
    turn 90° clockwise to show), EXIF with the camera, the place (GPS) and a comment. Shown
    upright, its top half is red and its bottom half blue."""
    width, height = upright
    shown = Image.new("RGB", upright, BLUE)
    shown.paste(RED, (0, 0, width, height // 2))
    stored = shown.transpose(Image.Transpose.ROTATE_90)  # what orientation 6 turns back
    out = io.BytesIO()
    stored.save(out, "JPEG", quality=90, exif=phone_exif(), comment=b"taken at home")
    return out.getvalue()


def phone_exif(orientation: int = 6) -> bytes:
    """EXIF as a phone writes it: the camera, the orientation, the place (GPS)."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "Apple"  # Make
    exif[0x0110] = "iPhone 15"  # Model
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (31.0, 14.0, 2.5), 3: "E", 4: (121.0, 28.0, 1.0)})  # 上海
    return exif.tobytes()


def gps_of(data: bytes) -> dict[int, object]:
    """The GPS entries of a picture's EXIF (empty when it has none)."""
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(GPS_IFD))


def noisy_photo(
    size: tuple[int, int] = (800, 600), seed: int = 1, quality: int = 90, exif: bytes = b""
) -> bytes:
    """A JPEG with a photo's detail (noise, shapes, gradients): it compresses as photos do."""
    rng = random.Random(seed)
    width, height = size
    base = Image.linear_gradient("L").resize(size).convert("RGB")
    noise = Image.effect_noise((max(1, width // 4), max(1, height // 4)), 60)
    image = Image.blend(base, noise.resize(size).convert("RGB"), 0.5)
    draw = ImageDraw.Draw(image)
    for _ in range(max(10, width * height // 40_000)):
        x, y, r = rng.randrange(width), rng.randrange(height), rng.randrange(10, 300)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x, y, x + r, y + r), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(1))
    image = Image.blend(image, Image.effect_noise(size, 25).convert("RGB"), 0.15)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


def small_png(size: tuple[int, int] = (64, 48), colour: tuple[int, ...] = RED) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA" if len(colour) == 4 else "RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def truncated_jpeg() -> bytes:
    """A real JPEG cut off at 60 %: its header reads, its pixels do not."""
    whole = noisy_photo((640, 480))
    return whole[: len(whole) * 6 // 10]


def text_named_jpg() -> bytes:
    return "这不是图片。This is not a picture.\n".encode() * 50


def svg_with_script() -> bytes:
    return (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100" '
        b'height="100"><script>alert(document.cookie)</script>'
        b'<rect width="100" height="100" fill="red"/></svg>'
    )


def png_bomb(side: int = 30_000) -> bytes:
    """A valid black-and-white PNG of ``side`` × ``side`` pixels (900 million for 30,000): a
    few hundred kilobytes that would inflate to gigabytes of pixels. Written chunk by chunk,
    one compressed row at a time, without ever holding the image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte, then the row's bits
    packer = zlib.compressobj(9)
    compressed = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", compressed)
        + chunk(b"IEND", b"")
    )


def animated_gif(frames: int = 6, size: tuple[int, int] = (120, 90)) -> bytes:
    """A GIF of ``frames`` frames, a dot moving across."""
    images = []
    for i in range(frames):
        frame = Image.new("RGB", size, (20 * i % 256, 120, 200))
        ImageDraw.Draw(frame).ellipse((i * 10, 20, i * 10 + 30, 50), fill=(255, 230, 0))
        images.append(frame.convert("P", palette=Image.Palette.ADAPTIVE))
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=80, loop=0)
    return out.getvalue()
