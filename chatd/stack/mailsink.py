"""The demo stack's mail sink: an SMTP server on loopback that writes every mail it takes into a folder.

chatd sends activation mail over SMTP exactly as in production; the sink keeps each mail as
`<folder>/<time>-<n>.eml` (readable by root only) instead of delivering it, and
`chatd stack status` prints the activation links it finds there. Loopback only: never a relay.

    python -m chatd.stack.mailsink --port PORT --folder DIR
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import re
import time
from email import message_from_bytes, policy
from pathlib import Path

MAX_BYTES = 1024 * 1024
ACTIVATION_LINK = re.compile(r"https?://\S+/activate\?token=[\w-]+")
_counter = itertools.count(1)


def store(folder: Path, data: bytes) -> Path:
    path = folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{next(_counter):04d}.eml"
    path.touch(mode=0o600)
    path.write_bytes(data)
    return path


async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, folder: Path) -> None:
    """One SMTP conversation (RFC 5321, the commands smtplib sends), mails kept in folder."""

    async def reply(line: str) -> None:
        writer.write(line.encode() + b"\r\n")
        await writer.drain()

    await reply("220 chatd-mailsink ESMTP (keeps mail in files, delivers nothing)")
    try:
        while line := await reader.readline():
            verb = line.decode(errors="replace").strip().split(" ", 1)[0].upper()
            if verb == "EHLO":
                await reply("250-chatd-mailsink")
                await reply(f"250 SIZE {MAX_BYTES}")
            elif verb in ("HELO", "MAIL", "RCPT", "RSET", "NOOP"):
                await reply("250 OK")
            elif verb == "DATA":
                await reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (data := await reader.readline()) not in (b".\r\n", b".\n", b""):
                    lines.append(data[1:] if data.startswith(b"..") else data)
                store(folder, b"".join(lines)[:MAX_BYTES])
                await reply("250 OK: kept")
            elif verb == "QUIT":
                await reply("221 Bye")
                break
            else:
                await reply("502 Command not implemented")
    finally:
        writer.close()


def activation_links(folder: Path) -> list[str]:
    """The activation links of the mails in folder, oldest first."""
    links = []
    for path in sorted(folder.glob("*.eml")):
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        body = mail.get_body(preferencelist=("plain",))
        links += ACTIVATION_LINK.findall(body.get_content() if body is not None else "")
    return links


async def serve(port: int, folder: Path) -> None:
    server = await asyncio.start_server(lambda r, w: session(r, w, folder), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(args.port, args.folder))


if __name__ == "__main__":
    main()
