"""The upload service's own storage: one folder, a file and its record per slot.

A slot is made when a member asks for one (XEP-0363): a record with the size and type allowed,
no file yet. The member's PUT fills it once; images lose their metadata (EXIF, GPS, XMP, comments)
before they are written. A file is fetchable only once approved: a Wall Guide approved the message
that carries its link, or a trusted role (a guide, a bot) uploaded it. A rejected file is deleted.
Every file, fetched or not, is deleted when its slot expires. Records name no account.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import secrets
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
FILENAME = re.compile(r"^[^/\\\x00-\x1f]{1,120}$")
# what Pillow writes for each image type it re-encodes (the pixels only)
IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}


class UploadProblem(Exception):
    """A PUT the service refuses: `status` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class Slot:
    token: str
    filename: str
    size: int  # announced by the client; what the PUT must carry
    content_type: str
    expires: float
    approved: bool = False
    stored: bool = False  # the PUT arrived (and its metadata was removed)
    review: str = ""  # the key of the Wall Guides' link, which shows the file while it waits for review


class UploadFiles:
    """The files and their records, in one folder of the service's own."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def _record(self, token: str) -> Path:
        return self.folder / f"{token}.json"

    def data_path(self, token: str) -> Path:
        return self.folder / f"{token}.data"

    def new_slot(self, filename: str, size: int, content_type: str, expires: float, approved: bool) -> Slot:
        token, review = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        slot = Slot(token, safe_filename(filename), size, content_type, expires, approved, review=review)
        self._write(slot)
        return slot

    def slot(self, token: str) -> Slot | None:
        if not TOKEN.match(token):
            return None
        try:
            return Slot(**json.loads(self._record(token).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def _write(self, slot: Slot) -> None:
        record = self._record(slot.token)
        partial = record.with_suffix(".json.tmp")
        partial.write_text(json.dumps(asdict(slot)), encoding="utf-8")
        os.replace(partial, record)

    def store(self, token: str, filename: str, content_type: str, data: bytes, now: float) -> Slot:
        """A PUT's body, once, as its slot allowed it; images are written without their metadata."""
        slot = self.slot(token)
        if slot is None or slot.filename != filename or slot.expires <= now:
            raise UploadProblem(404, "no such slot")
        if slot.stored:
            raise UploadProblem(409, "this slot was used already")
        if content_type and content_type != slot.content_type:
            raise UploadProblem(415, "not the content type of the slot")
        if len(data) != slot.size:
            raise UploadProblem(413, "not the size of the slot")
        if slot.content_type in IMAGE_FORMATS:
            data = without_metadata(data, IMAGE_FORMATS[slot.content_type])
        partial = self.data_path(token).with_suffix(".tmp")
        partial.write_bytes(data)
        os.replace(partial, self.data_path(token))
        stored = replace(slot, stored=True)
        self._write(stored)
        return stored

    def fetchable(self, token: str, filename: str, now: float, review: str = "") -> Slot | None:
        """The slot of a file that may be fetched: stored, not expired, and approved or asked with its review key."""
        slot = self.slot(token)
        if slot is None or slot.filename != filename or not slot.stored or slot.expires <= now:
            return None
        reviewing = bool(review) and secrets.compare_digest(review, slot.review)
        return slot if slot.approved or reviewing else None

    def approve(self, token: str) -> bool:
        slot = self.slot(token)
        if slot is None:
            return False
        self._write(replace(slot, approved=True))
        return True

    def delete(self, token: str) -> None:
        if TOKEN.match(token):
            for path in (self.data_path(token), self._record(token)):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    def sweep(self, now: float) -> int:
        """Deletes expired slots and their files; how many."""
        expired = 0
        for record in self.folder.glob("*.json"):
            slot = self.slot(record.stem)
            if slot is None or slot.expires <= now:
                self.delete(record.stem)
                expired += 1
        return expired


def safe_filename(name: str) -> str:
    """The file name as it appears in the URL: no path, no control characters, no spaces."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip(".-")[:80]
    return cleaned or "file"


def without_metadata(data: bytes, image_format: str) -> bytes:
    """The image's pixels only, re-encoded: no EXIF (GPS, camera, dates), XMP, ICC profile or comments.

    The EXIF orientation is applied first, so the picture still shows the right way up.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image) or image
            pixels = Image.frombytes(upright.mode, upright.size, upright.tobytes())
            palette = upright.getpalette()
            if palette is not None:
                pixels.putpalette(palette)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise UploadProblem(415, "not a readable image") from exc
    out = io.BytesIO()
    options = {"quality": 90} if image_format in ("JPEG", "WEBP") else {}
    pixels.save(out, image_format, **options)
    return out.getvalue()
