"""chatd's upload service, HTTP side: PUT and GET of a slot's file, and what a guide's decision does to it.

Why chatd's own service and not Prosody's http_file_share: a shared file must stay unfetchable
until a Wall Guide approves the message that carries its link, a rejected one must be deleted, and
images must lose their metadata before anyone can fetch them. http_file_share serves every file to
whoever has its URL from the moment it is uploaded and keeps files as they were sent.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

from aiohttp import web

from chatd.config import Config, UploadsConfig
from chatd.ports import Clock
from chatd.uploads.files import Slot, UploadFiles, UploadProblem

log = logging.getLogger("chatd.uploads")
CHUNK = 64 * 1024


def upload_folder(config: Config) -> Path:
    """Where files are kept: the configured folder, or "uploads" beside the store."""
    uploads = config.uploads
    if uploads is not None and uploads.folder:
        return Path(uploads.folder)
    return config.store.local_path.parent / "uploads"


class Uploads:
    def __init__(self, settings: UploadsConfig, files: UploadFiles, clock: Clock):
        self.settings = settings
        self.files = files
        self.clock = clock
        self._links = re.compile(re.escape(settings.base_url) + r"([A-Za-z0-9_-]{32})/")

    def url(self, slot: Slot) -> str:
        return f"{self.settings.base_url}{slot.token}/{slot.filename}"

    def new_slot(self, filename: str, size: int, content_type: str, trusted: bool) -> Slot:
        """A slot; a trusted role's file (a guide's, a bot's) needs no review (its texts are not held)."""
        expires = self.clock() + self.settings.expiry_hours * 3600
        return self.files.new_slot(filename, size, content_type, expires, approved=trusted)

    def review_links(self, text: str) -> list[str]:
        """For the Wall Guides' shadow rooms: a link that shows each file the text shares while it waits for review."""
        slots = [self.files.slot(token) for token in sorted(self.tokens(text))]
        return [f"{self.url(s)}?review={s.review}" for s in slots if s is not None and s.stored and not s.approved]

    def tokens(self, text: str) -> set[str]:
        """The files a text links to."""
        return set(self._links.findall(text))

    async def settled(self, original: str, delivered: str | None) -> None:
        """A guide decided on a held text: the files it still links to become fetchable, the others are deleted."""
        kept = self.tokens(delivered) if delivered is not None else set()
        for token in self.tokens(original) | kept:
            if token in kept:
                self.files.approve(token)
            else:
                self.files.delete(token)
        if kept or self.tokens(original):
            log.info("uploads: %d approved, %d deleted", len(kept), len(self.tokens(original) - kept))

    def add_routes(self, app: web.Application) -> None:
        app.router.add_put("/upload/{token}/{filename}", self._put)
        app.router.add_get("/upload/{token}/{filename}", self._get)

    async def _put(self, request: web.Request) -> web.Response:
        token, filename = request.match_info["token"], request.match_info["filename"]
        slot = self.files.slot(token)
        if slot is None or slot.filename != filename:
            return web.Response(status=404)
        if request.content_length is not None and request.content_length != slot.size:
            return web.Response(status=413)
        data = bytearray()
        while len(data) <= slot.size:
            chunk = await request.content.read(CHUNK)
            if not chunk:
                break
            data += chunk
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip()
        try:
            await asyncio.to_thread(self.files.store, token, filename, content_type, bytes(data), self.clock())
        except UploadProblem as problem:
            return web.Response(status=problem.status, text=str(problem))
        return web.Response(status=201)

    async def _get(self, request: web.Request) -> web.StreamResponse:
        token, filename = request.match_info["token"], request.match_info["filename"]
        review = request.query.get("review", "")
        now = self.clock()
        slot = self.files.fetchable(token, filename, now, review)
        if slot is None:
            waiting = self.files.slot(token)
            held = waiting is not None and waiting.filename == filename and waiting.stored and waiting.expires > now
            return web.Response(status=403 if held else 404)  # never uploaded, rejected or expired: 404
        headers = {
            "Content-Type": slot.content_type,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
            "Cache-Control": "no-store" if review else "private, max-age=3600",
        }
        return web.FileResponse(self.files.data_path(token), headers=headers)

    async def sweep_expired(self, every: float = 600.0) -> None:
        while True:
            try:
                removed = await asyncio.to_thread(self.files.sweep, self.clock())
                if removed:
                    log.info("uploads: %d expired files deleted", removed)
            except Exception:
                log.exception("uploads: deleting expired files failed")
            await asyncio.sleep(every)
