"""Pictures shared by members on a real Prosody: chatd's upload service (XEP-0363), held for review.

A member asks chatd's upload component for a slot, PUTs a photo with GPS in its EXIF, and sends
its link: the text is held (house.upload), the file unfetchable; a Wall Guide approves, the
recipient gets the link and fetches a picture without metadata. A rejected one is deleted.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import aiohttp
import pytest
from PIL import Image

from chatd.stack import REPO
from tests.integration.conftest import Stack, running_stack
from tests.integration.test_wall_guides import dm_shadow, message_id
from tests.support.client import Client, ask, body_of, error_texts, message_from, tag
from tests.support.muc import groupchat, join, say

NS_UPLOAD = "urn:xmpp:http:upload:0"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
MAX_BYTES = 200_000
GPS_IFD = 0x8825

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def upload_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Prosody + chatd with the real policies and the upload service on."""
    with running_stack(
        tmp_path_factory,
        "uploads",
        policy="policies.engine:PolicyEngine.from_settings",
        policies_file=str(REPO / "conf" / "policies.toml"),
        uploads={"max_bytes": MAX_BYTES},
    ) as running:
        yield running


def photo_with_gps(colour: tuple[int, int, int]) -> bytes:
    """A JPEG as a phone writes it: camera, orientation and GPS position in its EXIF, a comment."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = 1
    exif[GPS_IFD] = {1: "N", 2: (45.0, 25.0, 12.0), 3: "W", 4: (75.0, 41.0, 30.0)}
    out = io.BytesIO()
    Image.new("RGB", (80, 60), colour).save(out, "JPEG", exif=exif, comment=b"home")
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the test photo does carry a position
    return data


def slot_request(filename: str, size: int, content_type: str) -> str:
    return f"<request xmlns='{NS_UPLOAD}' filename='{filename}' size='{size}' content-type='{content_type}'/>"


async def upload(client: Client, stack: Stack, data: bytes, filename: str) -> str:
    """Asks for a slot, PUTs the file; the GET URL."""
    answer = await ask(client, stack.chatd.upload_domain, slot_request(filename, len(data), "image/jpeg"))
    assert answer.get("type") == "result", ET.tostring(answer, encoding="unicode")
    slot = answer.find(f"{{{NS_UPLOAD}}}slot")
    assert slot is not None
    put, get = slot.find(f"{{{NS_UPLOAD}}}put"), slot.find(f"{{{NS_UPLOAD}}}get")
    assert put is not None and get is not None
    headers = {h.get("name", ""): h.text or "" for h in put.findall(f"{{{NS_UPLOAD}}}header")}
    async with aiohttp.ClientSession() as http, http.put(put.get("url", ""), data=data, headers=headers) as response:
        assert response.status == 201
    return get.get("url", "")


async def fetch(url: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.read()


def review_link(held: ET.Element, url: str) -> str:
    """The link the shadow room gives Wall Guides to look at a held file."""
    found = re.search(re.escape(url) + r"\?review=[A-Za-z0-9_-]+", body_of(held) or "")
    assert found, body_of(held)
    return found.group(0)


def stored_files(stack: Stack, url: str) -> list[str]:
    token = url.rstrip("/").split("/")[-2]
    return sorted(p.name for p in stack.chatd.upload_folder.glob(f"{token}.*"))


async def test_members_find_the_upload_service_and_its_limits(upload_stack: Stack, connect_to) -> None:
    alice, denise = await connect_to(upload_stack, "alice"), await connect_to(upload_stack, "denise")
    items = await ask(alice, upload_stack.prosody.members_host, f"<query xmlns='{NS_DISCO_ITEMS}'/>")
    assert upload_stack.chatd.upload_domain in {i.get("jid") for i in items.iter(f"{{{NS_DISCO_ITEMS}}}item")}
    info = await ask(alice, upload_stack.chatd.upload_domain, f"<query xmlns='{NS_DISCO_INFO}'/>")
    assert NS_UPLOAD in {f.get("var") for f in info.iter(f"{{{NS_DISCO_INFO}}}feature")}
    fields = {f.get("var"): f.findtext("{jabber:x:data}value") for f in info.iter("{jabber:x:data}field")}
    assert fields == {"FORM_TYPE": NS_UPLOAD, "max-file-size": str(MAX_BYTES)}

    too_large = await ask(alice, upload_stack.chatd.upload_domain, slot_request("big.jpg", MAX_BYTES + 1, "image/jpeg"))
    error = too_large.find(tag("error"))
    assert too_large.get("type") == "error" and error is not None
    assert error.find("{urn:ietf:params:xml:ns:xmpp-stanzas}not-acceptable") is not None
    limit = error.find(f"{{{NS_UPLOAD}}}file-too-large/{{{NS_UPLOAD}}}max-file-size")
    assert limit is not None and limit.text == str(MAX_BYTES)
    assert "too large" in error_texts(too_large)["en"]

    refused = await ask(denise, upload_stack.chatd.upload_domain, slot_request("run.exe", 1000, "application/x-msdos"))
    assert refused.get("type") == "error"
    assert "ne peut pas être partagé" in error_texts(refused)["fr"]


async def test_a_photo_is_held_then_approved_without_its_metadata(upload_stack: Stack, connect_to) -> None:
    stack = upload_stack
    wendy, alice, bob = [await connect_to(stack, n) for n in ("wendy", "alice", "bob")]
    room, queue = dm_shadow(stack, "alice", "bob"), "en-queue@watch.localhost"
    await join(wendy, room, "sturdy-owl")
    await join(wendy, queue, "sturdy-owl")
    url = await upload(alice, stack, photo_with_gps((10, 120, 200)), "IMG_0042.jpg")
    assert (await fetch(url))[0] == 403  # held for review: nobody fetches it yet

    bob_mark = bob.mark()
    alice.send_chat(stack.pseudonym_jid("bob"), f"the lake this morning {url}")
    held = await wendy.expect(groupchat(room, url))
    assert "HELD" in (body_of(held) or "")
    status, shown = await fetch(review_link(held, url))  # the guide sees the picture, already without metadata
    assert status == 200 and not Image.open(io.BytesIO(shown)).getexif()
    entry = await wendy.expect(groupchat(queue, "house.upload"))
    assert "calm-otter" in (body_of(entry) or "")
    await bob.expect_nothing(message_from(stack.pseudonym_jid("alice")), start=bob_mark)
    assert (await fetch(url))[0] == 403

    say(wendy, room, f"!approve {message_id(body_of(held) or '')}")
    delivered = await bob.expect(message_from(stack.pseudonym_jid("alice"), url), start=bob_mark)
    assert url in (body_of(delivered) or "")
    status, data = await fetch(url)
    assert status == 200
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "JPEG" and picture.size == (80, 60)
    assert not picture.getexif() and not picture.getexif().get_ifd(GPS_IFD)
    assert "exif" not in picture.info and "comment" not in picture.info


async def test_a_rejected_photo_is_deleted_and_never_fetchable(upload_stack: Stack, connect_to) -> None:
    stack = upload_stack
    wendy, alice, bob = [await connect_to(stack, n) for n in ("wendy", "alice", "bob")]
    room = dm_shadow(stack, "alice", "bob")
    await join(wendy, room, "sturdy-owl")
    url = await upload(alice, stack, photo_with_gps((200, 30, 30)), "street.jpg")
    assert stored_files(stack, url) == [f"{url.split('/')[-2]}.data", f"{url.split('/')[-2]}.json"]

    bob_mark = bob.mark()
    alice.send_chat(stack.pseudonym_jid("bob"), f"look where I live {url}")
    held = await wendy.expect(groupchat(room, url))
    review = review_link(held, url)
    assert (await fetch(review))[0] == 200
    say(wendy, room, f"!reject {message_id(body_of(held) or '')} it shows a street sign")
    await alice.expect(message_from(f"wallguide@{stack.en}", "street sign"))
    assert (await fetch(url))[0] == 404
    assert (await fetch(review))[0] == 404
    assert stored_files(stack, url) == []
    await bob.expect_nothing(message_from(stack.pseudonym_jid("alice"), url), start=bob_mark)
