"""Attachments: size and type checks, image bounds, sending with a message, download by members only."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image
from sqlalchemy import func, select

from chat import files, thumbnails
from chat.models import Attachment, Message
from tests.chat.conftest import connect, emit, frames
from workspace import db


@pytest.fixture
def soumu(people) -> int:
    return people["yamada"].channel_id("総務課")


def _png(size=(64, 48), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def _image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, fmt)
    return out.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width × height pixels (a decompression bomb's calling card)."""
    data = bytearray(_png((1, 1)))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


def _rows() -> int:
    return db.session().execute(select(func.count(Attachment.id))).scalar()


def _store_is_empty() -> bool:
    return not files.stored_digests() and not any((files.store_root() / "tmp").glob("*"))


def test_image_upload_is_stored_by_sha256_with_a_thumbnail_and_sent_with_a_message(app, people, soumu):
    data = _png()
    response = people["yamada"].upload(soumu, data, "写真.png")
    assert response.status_code == 201, response.get_json()
    att = response.get_json()
    assert att["filename"] == "写真.png" and att["mime_type"] == "image/png" and att["size"] == len(data)
    assert (att["width"], att["height"]) == (64, 48) and att["thumbnail_url"]
    row = db.session().get(Attachment, att["id"])
    stored = files.path_for(row.sha256)
    assert stored.read_bytes() == data and str(stored).startswith(app.config["DATA_DIR"] + "/chat/files/")
    import hashlib

    assert row.sha256 == hashlib.sha256(data).hexdigest()
    posted = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "", "attachment_ids": [att["id"]]})
    assert posted.status_code == 201, posted.get_json()
    message = posted.get_json()
    assert [a["id"] for a in message["attachments"]] == [att["id"]] and message["body"] == ""
    history = people["suzuki"].get(f"/channels/{soumu}/messages").get_json()["messages"]
    assert history[-1]["attachments"][0]["filename"] == "写真.png"
    thumb = people["suzuki"].get(f"/attachments/{att['id']}/thumbnail")
    assert thumb.status_code == 200 and thumb.headers["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(thumb.data)) as image:
        assert max(image.size) <= 320


def test_download_is_an_attachment_with_nosniff_for_members(people, soumu):
    att = people["yamada"].upload(soumu, b"col1,col2\n1,2\n", "data.csv").get_json()
    assert att["mime_type"] == "text/plain" and att["thumbnail_url"] is None
    people["yamada"].post(f"/channels/{soumu}/messages", {"body": "表です", "attachment_ids": [att["id"]]})
    response = people["suzuki"].get(f"/attachments/{att['id']}")
    assert response.status_code == 200 and response.data == b"col1,col2\n1,2\n"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "data.csv" in response.headers["Content-Disposition"]
    assert response.mimetype == "text/plain"


def test_non_members_get_404_even_for_a_department_channel(people, soumu):
    att = people["yamada"].upload(soumu, _png(), "a.png").get_json()
    people["yamada"].post(f"/channels/{soumu}/messages", {"body": "x", "attachment_ids": [att["id"]]})
    assert people["tanaka"].get(f"/attachments/{att['id']}").status_code == 404
    assert people["tanaka"].get(f"/attachments/{att['id']}/thumbnail").status_code == 404
    assert people["tanaka"].get("/attachments/999999").status_code == 404


def test_private_channel_attachment_is_404_for_outsiders_and_upload_is_404_too(people):
    private = people["sato"].post("/channels", {"name": "人事", "kind": "private", "members": ["suzuki"]})
    channel_id = private.get_json()["id"]
    att = people["sato"].upload(channel_id, _png(), "秘.png").get_json()
    people["sato"].post(f"/channels/{channel_id}/messages", {"body": "秘", "attachment_ids": [att["id"]]})
    assert people["suzuki"].get(f"/attachments/{att['id']}").status_code == 200
    for outsider in ("yamada", "tanaka", "admin"):
        assert people[outsider].get(f"/attachments/{att['id']}").status_code == 404
    assert people["tanaka"].upload(channel_id, _png(), "x.png").status_code == 404


def test_writing_files_into_another_departments_channel_is_forbidden(people, soumu):
    response = people["tanaka"].upload(soumu, _png(), "x.png")
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "not_member"


def test_unsent_upload_is_visible_to_its_uploader_only_and_cannot_be_borrowed(people, soumu):
    att = people["yamada"].upload(soumu, _png(), "a.png").get_json()
    assert people["yamada"].get(f"/attachments/{att['id']}").status_code == 200
    assert people["suzuki"].get(f"/attachments/{att['id']}").status_code == 404
    borrowed = people["suzuki"].post(
        f"/channels/{soumu}/messages", {"body": "x", "attachment_ids": [att["id"]]}
    )
    assert borrowed.status_code == 422 and borrowed.get_json()["error"]["code"] == "bad_attachment"
    people["yamada"].post(f"/channels/{soumu}/messages", {"body": "1", "attachment_ids": [att["id"]]})
    again = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "2", "attachment_ids": [att["id"]]})
    assert again.status_code == 422
    assert db.session().execute(select(func.count(Message.id))).scalar() == 1


def test_attachment_sent_over_socket_reaches_members_with_the_message(people, soumu):
    yamada_ws, suzuki_ws = connect(people, "yamada", "suzuki")
    att = people["yamada"].upload(soumu, _png(), "a.png").get_json()
    ack = emit(
        yamada_ws,
        "message:send",
        {"channel_id": soumu, "body": "", "client_msg_id": "f1", "attachment_ids": [att["id"]]},
    )
    assert ack["ok"], ack
    got = frames(suzuki_ws, "message:new")
    assert got and got[0][1]["attachments"][0]["id"] == att["id"]


def test_deleted_messages_attachments_are_hidden_from_members(people, soumu):
    att = people["yamada"].upload(soumu, _png(), "a.png").get_json()
    message = people["yamada"].post(
        f"/channels/{soumu}/messages", {"body": "x", "attachment_ids": [att["id"]]}
    )
    people["yamada"].delete(f"/messages/{message.get_json()['id']}")
    assert people["suzuki"].get(f"/attachments/{att['id']}").status_code == 404
    assert people["suzuki"].get(f"/channels/{soumu}/messages").get_json()["messages"][-1]["attachments"] == []


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (_png(), "report.pdf", "type_mismatch"),  # a PNG that calls itself a PDF
        (b"%PDF-1.4\n%...\n", "photo.jpg", "type_mismatch"),
        (
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64,
            "setup.png",
            "unsupported_type",
        ),
        (b"plain text", "page.html", "type_mismatch"),  # text is never served as HTML
        (bytes(range(256)) * 4, "blob.bin", "unsupported_type"),
    ],
)
def test_lying_or_refused_types_get_415_and_store_nothing(people, soumu, data, filename, code):
    response = people["yamada"].upload(soumu, data, filename)
    assert response.status_code == 415 and response.get_json()["error"]["code"] == code
    assert _rows() == 0 and _store_is_empty()


@pytest.mark.parametrize(
    ("fmt", "mime"), [("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")]
)
def test_other_image_kinds_get_thumbnails(people, soumu, fmt, mime):
    response = people["yamada"].upload(soumu, _image(fmt), "picture." + fmt.lower().replace("jpeg", "jpg"))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["mime_type"] == mime and response.get_json()["thumbnail_url"]


def test_shift_jis_text_and_files_without_extension_are_accepted(people, soumu):
    response = people["yamada"].upload(soumu, "住民課,税務課\n".encode("cp932"), "課一覧")
    assert response.status_code == 201 and response.get_json()["mime_type"] == "text/plain"


def test_file_over_the_limit_gets_413_and_nothing_is_kept(app, people, soumu):
    app.config["CHAT_ATTACHMENT_MAX_BYTES"] = 1000
    response = people["yamada"].upload(soumu, b"a" * 5000, "big.txt")
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "too_large"
    assert people["yamada"].upload(soumu, b"a" * 900, "small.txt").status_code == 201
    assert _rows() == 1


def test_limit_defaults_to_20_mib(app):
    assert files.max_bytes() == 20 * 1024 * 1024


def test_decompression_bomb_gets_422_without_decoding(people, soumu):
    response = people["yamada"].upload(soumu, _png_claiming(100_000, 100_000), "bomb.png")
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "decompression_bomb"
    assert _rows() == 0 and _store_is_empty()


def test_pixel_limit_is_configurable(app, people, soumu):
    app.config["CHAT_IMAGE_MAX_PIXELS"] = 1000
    response = people["yamada"].upload(soumu, _png((100, 100)), "a.png")
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "decompression_bomb"


def test_corrupt_image_gets_422(people, soumu):
    response = people["yamada"].upload(soumu, _png()[:60], "broken.png")
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "corrupt_image"
    assert _rows() == 0 and _store_is_empty()


def test_empty_or_missing_file_is_refused(people, soumu):
    assert people["yamada"].upload(soumu, b"", "empty.txt").status_code == 422
    response = people["yamada"].post(f"/channels/{soumu}/attachments", {"not": "multipart"})
    assert response.status_code == 400


def test_failure_after_the_file_is_placed_leaves_neither_file_nor_row(app, people, soumu, monkeypatch):
    from chat import attachments

    real_place = files.place

    def place_then_fail(staged):
        placed = real_place(staged)
        if staged.path.name.startswith("thumb-"):
            raise RuntimeError("disk went away")
        return placed

    monkeypatch.setattr(attachments.files, "place", place_then_fail)
    response = people["yamada"].upload(soumu, _png(), "a.png")
    assert response.status_code == 500 and "disk" not in response.get_data(as_text=True)
    assert _rows() == 0 and _store_is_empty()


def test_same_bytes_share_one_stored_file(people, soumu):
    first = people["yamada"].upload(soumu, _png(), "a.png").get_json()
    second = people["suzuki"].upload(soumu, _png(), "b.png").get_json()
    assert first["id"] != second["id"]
    assert len(files.stored_digests()) == 2  # the image and its thumbnail, once each


def test_bomb_guard_uses_pillows_own_check_too(app, monkeypatch, tmp_path):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    path = tmp_path / "a.png"
    path.write_bytes(_png((40, 40)))
    with pytest.raises(Exception) as caught:
        thumbnails.make(path, "image/png")
    assert getattr(caught.value, "code", None) == "decompression_bomb"


def test_composer_has_a_labelled_file_input(client, village):
    from tests.conftest import login

    login(client, "yamada")
    html = client.get("/chat/").get_data(as_text=True)
    assert 'type="file"' in html and 'for="composer-file"' in html and 'id="composer-file"' in html
