"""Uploading pictures, end to end through HTTP, on local disk and on S3 (issue #16): what is
kept is upright, re-encoded at the documented sizes and free of its metadata; what is not a
picture, or too big to decode safely, is refused with its code and leaves no file behind."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from tests.media import pictures

MiB = 1024 * 1024


def _variant(store: Any, variant: dict[str, Any]) -> tuple[Image.Image, bytes, dict[str, str]]:
    data, headers = store.fetch(variant["url"])
    image = Image.open(io.BytesIO(data))
    image.load()
    return image, data, headers


def test_a_phone_photo_is_stored_upright_without_its_gps(media, store, make_member):
    photo = pictures.photo_with_gps(upright=(1500, 2000))
    assert pictures.gps_of(photo)  # the fixture does carry a place
    member = make_member()
    answer = media.upload(member, photo, filename="IMG_0001.JPG")

    assert answer["kind"] == "image" and answer["source_format"] == "jpeg"
    assert answer["attached"] is False and answer["purpose"] is None
    assert answer["animated"] is False
    # shown upright it is 1500 × 2000: the shorter side becomes 1080, the thumb's 320
    assert (answer["display"]["width"], answer["display"]["height"]) == (1080, 1440)
    assert (answer["thumb"]["width"], answer["thumb"]["height"]) == (320, 427)
    assert len(answer["blurhash"]) >= 6 and answer["color"].startswith("#")

    for name in ("display", "thumb"):
        image, data, headers = _variant(store, answer[name])
        assert image.format == "WEBP"
        assert image.size == (answer[name]["width"], answer[name]["height"])
        # nothing of the original's metadata: no EXIF at all (so no GPS), no XMP, no profile
        assert not image.getexif() and not image.getexif().get_ifd(pictures.GPS_IFD)
        assert not {"exif", "xmp", "icc_profile", "comment"} & set(image.info)
        assert b"Exif" not in data and b"iPhone" not in data and b"taken at home" not in data
        # upright: red above, blue below (stored sideways, it had them left and right)
        rgb = image.convert("RGB")
        top = rgb.getpixel((image.width // 2, image.height // 8))
        bottom = rgb.getpixel((image.width // 2, image.height * 7 // 8))
        assert _near(top, pictures.RED) and _near(bottom, pictures.BLUE), (top, bottom)
    if store.kind == "s3":
        head = store.object_headers(store.keys()[0])
        assert head["ContentType"] == "image/webp"
        assert head["CacheControl"] == "public, max-age=31536000, immutable"


def _near(pixel: Any, colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=False))


def test_the_answer_is_the_record_and_the_files_are_its_variants(media, store, make_member):
    member = make_member()
    answer = media.upload(member, pictures.noisy_photo((640, 480)))
    assert media.call(member, "GET", f"/api/v1/media/{answer['id']}", 200) == answer
    names = sorted(v["url"].rsplit("/", 2)[-2] + "/" + v["url"].rsplit("/", 1)[-1]
                   for v in (answer["display"], answer["thumb"]))  # fmt: skip
    assert store.keys() == names
    # a 640 × 480 picture is never enlarged; its thumb is 320 on the shorter side
    assert (answer["display"]["width"], answer["display"]["height"]) == (640, 480)
    assert (answer["thumb"]["width"], answer["thumb"]["height"]) == (427, 320)


REFUSED = {
    # name: (body, file name, claimed content type, status, code)
    "text named .jpg": (pictures.text_named_jpg, "photo.jpg", "image/jpeg", 415,
                        "media_unsupported_type"),
    "truncated JPEG": (pictures.truncated_jpeg, "cut.jpg", "image/jpeg", 422, "media_unreadable"),
    "SVG with a script": (pictures.svg_with_script, "logo.svg", "image/svg+xml", 415,
                          "media_unsupported_type"),
    "30,000 × 30,000 PNG": (pictures.png_bomb, "bomb.png", "image/png", 422,
                            "media_too_many_pixels"),
    "8,000 × 8,000 PNG": (lambda: pictures.png_bomb(8000), "big.png", "image/png", 422,
                          "media_too_many_pixels"),  # past MEDIA_MAX_PIXELS, under Pillow's
    "empty file": (lambda: b"", "empty.jpg", "image/jpeg", 415, "media_unsupported_type"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_what_is_not_a_safe_picture_is_refused_and_leaves_nothing(media, store, make_member,
                                                                   case):  # fmt: skip
    make, filename, content_type, status, code = REFUSED[case]
    member = make_member()
    body = media.upload(member, make(), status, filename=filename, content_type=content_type,
                        headers={"Accept-Language": "en"})  # fmt: skip
    assert (body["code"], body["status"]) == (code, status)
    assert body["message"] and body["message"] != code
    assert store.keys() == []
    assert media.call(member, "GET", "/api/v1/media", 200)["items"] == []


def _multipart(data: bytes, filename: str = "big.jpg") -> tuple[bytes, str]:
    """A form with one file, encoded here (the test client would spool a large one to a
    temporary file it never closes)."""
    boundary = "jiayuan-media-test"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n').encode()  # fmt: skip
    return head + data + f"\r\n--{boundary}--\r\n".encode(), boundary


def test_an_over_size_body_is_refused_before_it_is_read(media, store, make_member):
    member = make_member()
    body, boundary = _multipart(b"\xff\xd8\xff" + b"\0" * (10 * MiB))
    for lang, message in (("zh-Hans", "图片文件过大（最大 10 MB）。"),
                          ("en", "The picture file is too large (at most 10 MB).")):  # fmt: skip
        answer = media.call(member, "POST", "/api/v1/media", 413, data=body,
                            content_type=f"multipart/form-data; boundary={boundary}",
                            headers={"Accept-Language": lang})  # fmt: skip
        assert (answer["code"], answer["message"]) == ("media_too_large", message)
    assert store.keys() == []


def test_a_file_over_the_limit_inside_the_form_is_refused(app, media, store, make_member,
                                                          monkeypatch):  # fmt: skip
    """The form's own bytes are allowed on top of the limit; the file itself is not."""
    monkeypatch.setitem(app.config, "MEDIA_MAX_BYTES", 100_000)
    photo = pictures.noisy_photo((640, 480), quality=98)
    assert len(photo) > 100_000
    body = media.upload(make_member(), photo, 413)
    assert body["code"] == "media_too_large"
    assert store.keys() == []


def test_the_upload_wants_a_file(media, make_member):
    member = make_member()
    r = media.client.post("/api/v1/media", headers=media.auth_headers(member),
                          data={"picture": (io.BytesIO(b"x"), "a.jpg")},
                          content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 422 and r.get_json()["code"] == "validation_error"
    assert set(r.get_json()["errors"]) == {"file"}  # other parts of the form are not read
    r = media.client.post("/api/v1/media", headers=media.auth_headers(member), json={"file": 1})
    assert r.status_code == 415 and r.get_json()["code"] == "unsupported_media_type"
    anonymous = media.client.post("/api/v1/media", data={"file": (io.BytesIO(b"x"), "a.jpg")})
    assert anonymous.status_code == 401


def test_pictures_keep_their_transparency_and_animation(media, store, make_member):
    member = make_member()
    clear = media.upload(member, pictures.small_png((64, 48), (255, 0, 0, 0)),
                         filename="clear.png", content_type="image/png")  # fmt: skip
    image, _data, _headers = _variant(store, clear["display"])
    assert image.mode == "RGBA" and image.getpixel((5, 5))[3] == 0
    assert clear["source_format"] == "png"

    moving = media.upload(member, pictures.animated_gif(6), filename="dot.gif",
                          content_type="image/gif")  # fmt: skip
    assert moving["animated"] is True and moving["source_format"] == "gif"
    image, _data, _headers = _variant(store, moving["display"])
    assert getattr(image, "n_frames", 1) == 6
    still, _data, _headers = _variant(store, moving["thumb"])
    assert getattr(still, "n_frames", 1) == 1


def test_a_long_animation_is_kept_as_its_first_frame(app, media, store, make_member,
                                                     monkeypatch):  # fmt: skip
    monkeypatch.setitem(app.config, "MEDIA_MAX_FRAMES", 4)
    answer = media.upload(make_member(), pictures.animated_gif(6), filename="long.gif",
                          content_type="image/gif")  # fmt: skip
    assert answer["animated"] is False
    image, _data, _headers = _variant(store, answer["display"])
    assert getattr(image, "n_frames", 1) == 1


def test_local_files_are_served_for_good_and_only_by_their_names(media, make_member):
    answer = media.upload(make_member(), pictures.small_png())
    path = "/" + answer["display"]["url"].split("/", 3)[3]
    r = media.client.get(path)
    r.close()
    assert r.status_code == 200 and r.mimetype == "image/webp"
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    again = media.client.get(path, headers={"If-None-Match": r.headers["ETag"]})
    again.close()
    assert again.status_code == 304
    for other in ("/media/../instance/secrets.json", "/media/ab/c.webp",
                  path.replace("-display", "-original"), path[:-6] + "0.webp"):  # fmt: skip
        assert media.client.get(other).status_code == 404, other


def test_answers_link_the_public_base_that_serves_the_files(app, media, store, make_member,
                                                            monkeypatch):  # fmt: skip
    base = "https://img.example.cn/jiayuan/"
    monkeypatch.setitem(app.config, "MEDIA_PUBLIC_URL", base)
    answer = media.upload(make_member(), pictures.small_png())
    key = answer["display"]["url"].removeprefix(base)
    assert answer["display"]["url"].startswith(base) and key in store.keys()


def test_a_retried_upload_with_its_idempotency_key_is_stored_once(media, store, make_member):
    member = make_member()
    photo = pictures.noisy_photo((320, 240))
    key = {"Idempotency-Key": "upload-7f3c"}
    body, boundary = _multipart(photo)  # a retry sends the same bytes, boundary included
    form = {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}
    first = media.client.post("/api/v1/media", headers=media.auth_headers(member, **key), **form)
    again = media.client.post("/api/v1/media", headers=media.auth_headers(member, **key), **form)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert len(media.call(member, "GET", "/api/v1/media", 200)["items"]) == 1


def test_a_storage_that_does_not_answer_is_an_outage(app, media, make_member, monkeypatch):
    from tests.faults import free_port
    from tests.media.conftest import S3_SETTINGS

    settings = {**S3_SETTINGS, "MEDIA_S3_BUCKET": "media",
                "MEDIA_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}  # fmt: skip
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    member = make_member()
    r = media.client.post("/api/v1/media", headers=media.auth_headers(member),
                          data={"file": (io.BytesIO(pictures.small_png()), "a.png")})  # fmt: skip
    assert r.status_code == 503 and r.get_json()["code"] == "service_unavailable"
    assert int(r.headers["Retry-After"]) >= 5  # (Flask-Limiter's window may say later)
    assert media.call(member, "GET", "/api/v1/media", 200)["items"] == []
