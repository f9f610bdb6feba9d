"""Thumbnails of image attachments, decoded within bounds.

Pillow reads an image's size from its header without decoding it; the size is checked against
CHAT_IMAGE_MAX_PIXELS (and Pillow's own DecompressionBomb guard is made an error) before a single
pixel is decoded, so a 100-byte PNG that claims 100,000 × 100,000 pixels is refused, not unpacked.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from chat.errors import ChatError

DEFAULT_MAX_PIXELS = 50_000_000  # a 48-megapixel phone photo passes; a decompression bomb does not
THUMBNAIL_BOX = (320, 320)
# Pillow format names for the MIME types chat.files accepts as images.
FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}


@dataclass(frozen=True)
class Thumbnail:
    """A small re-encoded copy of an image and the original's dimensions."""

    data: bytes
    mime_type: str
    width: int
    height: int


def max_pixels() -> int:
    """The largest image (width × height) that is decoded (CHAT_IMAGE_MAX_PIXELS)."""
    try:
        return int(current_app.config.get("CHAT_IMAGE_MAX_PIXELS", DEFAULT_MAX_PIXELS))
    except (TypeError, ValueError):
        return DEFAULT_MAX_PIXELS


def bomb() -> ChatError:
    """The 422 answer for an image too large to decode safely."""
    return ChatError(422, "画像の画素数が大きすぎます（展開爆弾の疑い）。", "decompression_bomb")


def make(path: Path, mime_type: str) -> Thumbnail:
    """Return a thumbnail of the image at path, or raise ChatError 422 (bomb or unreadable image)."""
    limit = max_pixels()
    try:
        with warnings.catch_warnings():
            # Pillow warns between MAX_IMAGE_PIXELS and twice that; here a warning is a refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=[FORMATS[mime_type]]) as image:
                width, height = image.size
                if width * height > limit or width < 1 or height < 1:
                    raise bomb()
                image.draft("RGB", (THUMBNAIL_BOX[0] * 2, THUMBNAIL_BOX[1] * 2))  # JPEG: decode small
                image.seek(0)
                frame = ImageOps.exif_transpose(image)
                frame.thumbnail(THUMBNAIL_BOX)
                return _encode(frame, width, height)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise bomb() from None
    except ChatError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as error:
        raise ChatError(422, "画像ファイルが壊れているため読み取れません。", "corrupt_image") from error


def _encode(frame: Image.Image, width: int, height: int) -> Thumbnail:
    out = io.BytesIO()
    has_alpha = frame.mode in ("RGBA", "LA") or (frame.mode == "P" and "transparency" in frame.info)
    if has_alpha:
        frame.convert("RGBA").save(out, "PNG", optimize=True)
        return Thumbnail(out.getvalue(), "image/png", width, height)
    frame.convert("RGB").save(out, "JPEG", quality=85)
    return Thumbnail(out.getvalue(), "image/jpeg", width, height)
