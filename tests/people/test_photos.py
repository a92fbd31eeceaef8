"""Profile photos: real images are re-encoded to square JPEGs; anything else is refused and never served."""

from __future__ import annotations

import io
import os
import struct
import zlib

from PIL import Image

from tests.people.conftest import field_errors, png_bytes


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims huge dimensions: a decompression bomb's calling card."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


def noisy_png(min_bytes: int) -> bytes:
    """A valid PNG of random pixels (which do not compress) at least `min_bytes` long."""
    side = int((min_bytes / 3) ** 0.5) + 64
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    data = buffer.getvalue()
    assert len(data) > min_bytes
    return data


async def served_photo(client, person_id: int, size: str = "large"):
    response = await client.get(f"/people/{person_id}/photo?size={size}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["x-content-type-options"] == "nosniff"
    return response


async def test_photo_uploaded_through_the_page_is_reencoded_as_a_square_jpeg(client, member, login):
    original = png_bytes(800, 600)
    token = await login(client, member)
    response = await client.post(f"/people/{member.id}/photo", data={"csrf_token": token},
                                 files={"photo": ("me.png", original, "image/png")})
    assert response.status_code == 303, response.text
    assert "Photo saved." in (await client.get(response.headers["location"])).text

    large = await served_photo(client, member.id)
    assert large.content != original
    with Image.open(io.BytesIO(large.content)) as image:
        assert image.format == "JPEG" and image.size == (512, 512)
    small = await served_photo(client, member.id, "small")
    with Image.open(io.BytesIO(small.content)) as image:
        assert image.size == (96, 96)
    assert f'src="/people/{member.id}/photo?size=large"' in (await client.get(f"/people/{member.id}")).text


async def test_photo_upload_form_needs_the_csrf_token(client, member, login, api):
    await login(client, member)
    response = await client.post(f"/people/{member.id}/photo", files={"photo": ("me.png", png_bytes(), "image/png")})
    assert response.status_code == 403
    assert (await client.get(f"/people/{member.id}/photo")).status_code == 404


async def test_photo_uploaded_through_the_api_is_reencoded(member, api):
    me = await api(member)
    original = png_bytes(300, 500)
    response = await me.put(f"/api/v1/people/{member.id}/photo", files={"photo": ("me.png", original, "image/png")})
    assert response.status_code == 204, response.text
    body = (await me.get(f"/api/v1/people/{member.id}")).json()
    assert body["photo_url"] == f"/people/{member.id}/photo"
    served = await served_photo(me, member.id)
    assert served.content != original
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.format == "JPEG" and image.size == (512, 512)


async def test_unchanged_photo_is_not_sent_again(member, api):
    me = await api(member)
    await me.put(f"/api/v1/people/{member.id}/photo", files={"photo": ("me.png", png_bytes(), "image/png")})
    first = await served_photo(me, member.id)
    again = await me.get(f"/people/{member.id}/photo", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


async def test_photo_can_be_removed(member, api):
    me = await api(member)
    await me.put(f"/api/v1/people/{member.id}/photo", files={"photo": ("me.png", png_bytes(), "image/png")})
    assert (await me.delete(f"/api/v1/people/{member.id}/photo")).status_code == 204
    assert (await me.get(f"/people/{member.id}/photo")).status_code == 404
    assert (await me.get(f"/api/v1/people/{member.id}")).json()["photo_url"] is None


HTML_PAYLOAD = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


async def test_html_named_photo_png_is_refused_and_never_served(member, api):
    me = await api(member)
    response = await me.put(f"/api/v1/people/{member.id}/photo",
                            files={"photo": ("photo.png", HTML_PAYLOAD, "image/png")})
    assert set(field_errors(response)) == {"photo"}
    assert (await me.get(f"/people/{member.id}/photo")).status_code == 404
    assert (await me.get(f"/api/v1/people/{member.id}")).json()["photo_url"] is None


async def test_html_photo_through_the_page_form_is_refused(client, member, login):
    token = await login(client, member)
    response = await client.post(f"/people/{member.id}/photo", data={"csrf_token": token},
                                 files={"photo": ("photo.png", HTML_PAYLOAD, "image/png")})
    assert response.status_code == 422
    assert 'id="photo-error"' in response.text
    assert "must be a JPEG, PNG, WebP or GIF image" in response.text
    assert "<script>alert(document.cookie)" not in response.text
    assert (await client.get(f"/people/{member.id}/photo")).status_code == 404


async def test_text_file_is_refused(member, api):
    me = await api(member)
    response = await me.put(f"/api/v1/people/{member.id}/photo",
                            files={"photo": ("notes.txt", b"Meeting notes\n", "text/plain")})
    assert set(field_errors(response)) == {"photo"}
    assert (await me.get(f"/people/{member.id}/photo")).status_code == 404


async def test_empty_file_is_refused(member, api):
    me = await api(member)
    response = await me.put(f"/api/v1/people/{member.id}/photo", files={"photo": ("me.png", b"", "image/png")})
    assert set(field_errors(response)) == {"photo"}


async def test_unsupported_image_format_is_refused(member, api):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buffer, "TIFF")
    me = await api(member)
    response = await me.put(f"/api/v1/people/{member.id}/photo",
                            files={"photo": ("me.tiff", buffer.getvalue(), "image/tiff")})
    assert set(field_errors(response)) == {"photo"}


async def test_oversized_photo_is_refused_through_the_api(app, member, api):
    me = await api(member)
    limit = app.state.settings.photo_max_bytes
    response = await me.put(f"/api/v1/people/{member.id}/photo",
                            files={"photo": ("big.png", noisy_png(limit), "image/png")})
    errors = field_errors(response)
    assert errors == {"photo": f"must be at most {limit // (1024 * 1024)} MB"}
    assert (await me.get(f"/people/{member.id}/photo")).status_code == 404


async def test_oversized_photo_is_refused_through_the_page(app, client, member, login, monkeypatch):
    monkeypatch.setattr(app.state.settings, "photo_max_bytes", 2 * 1024 * 1024)
    token = await login(client, member)
    response = await client.post(f"/people/{member.id}/photo", data={"csrf_token": token},
                                 files={"photo": ("big.png", noisy_png(2 * 1024 * 1024), "image/png")})
    assert response.status_code == 422
    assert "must be at most 2 MB" in response.text
    assert (await client.get(f"/people/{member.id}/photo")).status_code == 404


async def test_decompression_bomb_is_refused(client, member, api, login):
    bomb = png_claiming(50_000, 50_000)
    assert len(bomb) < 200
    me = await api(member)
    response = await me.put(f"/api/v1/people/{member.id}/photo", files={"photo": ("bomb.png", bomb, "image/png")})
    assert set(field_errors(response)) == {"photo"}

    token = await login(client, member)
    response = await client.post(f"/people/{member.id}/photo", data={"csrf_token": token},
                                 files={"photo": ("bomb.png", bomb, "image/png")})
    assert response.status_code == 422
    assert (await me.get(f"/people/{member.id}/photo")).status_code == 404


async def test_truncated_image_is_refused_not_a_server_error(member, api):
    data = png_bytes(200, 200)
    me = await api(member)
    response = await me.put(f"/api/v1/people/{member.id}/photo",
                            files={"photo": ("cut.png", data[: len(data) // 2], "image/png")})
    assert set(field_errors(response)) == {"photo"}


async def test_member_cannot_replace_someone_elses_photo(member, make_person, api):
    other = await make_person("Olga Other")
    response = await (await api(member)).put(f"/api/v1/people/{other.id}/photo",
                                             files={"photo": ("x.png", png_bytes(), "image/png")})
    assert response.status_code == 404
    assert (await (await api(other)).get(f"/people/{other.id}/photo")).status_code == 404


async def test_guest_cannot_fetch_a_photo_hidden_from_guests(member, guest, make_person, api):
    colleague = await make_person("Colin Colleague")
    host = await api(member)
    await host.put(f"/api/v1/people/{member.id}/photo", files={"photo": ("me.png", png_bytes(), "image/png")})
    visitor = await api(guest)

    await host.patch(f"/api/v1/people/{member.id}", json={"guest_hidden": []})
    await served_photo(visitor, member.id)

    await host.patch(f"/api/v1/people/{member.id}", json={"guest_hidden": ["photo"]})
    assert (await visitor.get(f"/people/{member.id}/photo")).status_code == 404
    assert (await visitor.get(f"/people/{member.id}/photo?size=small")).status_code == 404
    assert (await visitor.get(f"/api/v1/people/{member.id}")).json()["photo_url"] is None
    await served_photo(await api(colleague), member.id)
