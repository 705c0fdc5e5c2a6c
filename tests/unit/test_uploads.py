"""The upload service's storage, its metadata stripping, and how the upload host reaches the policy."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, PngImagePlugin

from chatd.config import Config, UploadsConfig
from chatd.policy_loader import configured_policy
from chatd.uploads.files import UploadFiles, UploadProblem, safe_filename
from chatd.uploads.service import Uploads

NOW = 1_000_000.0
BASE = "https://chat.example/files"


class Captured:
    """A policy callable that only keeps the settings it was built with (what the loader hands over)."""

    def __init__(self, settings: dict[str, Any], label: object):
        self.settings = settings


def config(policies_file: str, uploads: bool) -> Config:
    data: dict[str, Any] = {
        "realms": [
            {
                "id": "en",
                "language": "en",
                "people_domain": "en.localhost",
                "rooms_domain": "rooms.en.localhost",
                "people_secret": "secret-en-1",
                "rooms_secret": "secret-en-2",
            }
        ],
        "watch": {"secret": "secret-watch"},
        "moderation": {"policy": "tests.unit.test_uploads:Captured", "policies_file": policies_file},
    }
    if uploads:
        data["uploads"] = {"domain": "upload.localhost", "secret": "secret-up", "public_url": BASE}
    return Config.model_validate(data)


def test_the_upload_host_feeds_the_upload_rule_without_an_operator_step(tmp_path: Path) -> None:
    policies = tmp_path / "policies.toml"
    policies.write_text('[uploads]\nurl_prefixes = ["https://elsewhere.example/"]\n')
    with_uploads = configured_policy(config(str(policies), uploads=True))
    assert isinstance(with_uploads, Captured)
    assert with_uploads.settings["uploads"]["url_prefixes"] == ["https://elsewhere.example/", f"{BASE}/upload/"]
    without = configured_policy(config(str(policies), uploads=False))
    assert isinstance(without, Captured)
    assert without.settings["uploads"]["url_prefixes"] == ["https://elsewhere.example/"]


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Real-Name")
    info.add_text("GPS", "45.42,-75.69")
    out = io.BytesIO()
    Image.new("RGB", (20, 10), (1, 2, 3)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def test_a_put_fills_its_slot_once_and_images_lose_their_metadata(tmp_path: Path) -> None:
    files = UploadFiles(tmp_path)
    data = png_with_text()
    slot = files.new_slot("../../etc/my photo.png", len(data), "image/png", NOW + 60, approved=False)
    assert slot.filename == "my-photo.png" and len(slot.token) == 32
    with pytest.raises(UploadProblem) as wrong_size:
        files.store(slot.token, slot.filename, "image/png", data + b"x", NOW)
    assert wrong_size.value.status == 413
    with pytest.raises(UploadProblem) as wrong_type:
        files.store(slot.token, slot.filename, "image/gif", data, NOW)
    assert wrong_type.value.status == 415
    files.store(slot.token, slot.filename, "image/png", data, NOW)
    with pytest.raises(UploadProblem) as again:
        files.store(slot.token, slot.filename, "image/png", data, NOW)
    assert again.value.status == 409
    kept = Image.open(files.data_path(slot.token))
    assert kept.size == (20, 10) and "Author" not in kept.info and "GPS" not in kept.info
    assert files.fetchable(slot.token, slot.filename, NOW) is None  # not approved yet
    assert files.fetchable(slot.token, slot.filename, NOW, review="x" * 32) is None
    assert files.fetchable(slot.token, slot.filename, NOW, review=slot.review) is not None  # the guides' link
    assert files.approve(slot.token)
    assert files.fetchable(slot.token, slot.filename, NOW) is not None
    assert files.fetchable(slot.token, slot.filename, NOW + 61) is None  # expired


def test_a_file_that_is_not_the_image_it_claims_is_refused(tmp_path: Path) -> None:
    files = UploadFiles(tmp_path)
    slot = files.new_slot("a.jpg", 5, "image/jpeg", NOW + 60, approved=False)
    with pytest.raises(UploadProblem) as problem:
        files.store(slot.token, slot.filename, "image/jpeg", b"hello", NOW)
    assert problem.value.status == 415
    assert not files.data_path(slot.token).exists()


def test_expired_slots_are_swept(tmp_path: Path) -> None:
    files = UploadFiles(tmp_path)
    old = files.new_slot("old.png", 10, "image/png", NOW - 1, approved=True)
    new = files.new_slot("new.png", 10, "image/png", NOW + 60, approved=True)
    assert files.sweep(NOW) == 1
    assert files.slot(old.token) is None and files.slot(new.token) is not None


async def test_a_guides_decision_approves_the_files_still_linked_and_deletes_the_others(tmp_path: Path) -> None:
    settings = UploadsConfig(domain="upload.localhost", secret="secret-up", public_url=BASE)
    service = Uploads(settings, UploadFiles(tmp_path), lambda: NOW)
    kept, dropped, rejected = (service.new_slot(f"{n}.png", 10, "image/png", trusted=False) for n in "abc")
    original = f"two pictures {service.url(kept)} and {service.url(dropped)}"
    await service.settled(original, f"one picture {service.url(kept)}")  # approved with an edit
    assert service.files.slot(kept.token).approved  # type: ignore[union-attr]
    assert service.files.slot(dropped.token) is None
    await service.settled(f"see {service.url(rejected)}", None)
    assert service.files.slot(rejected.token) is None


def test_file_names_in_urls_are_plain() -> None:
    assert safe_filename("C:\\Users\\me\\IMG 0001.JPG") == "IMG-0001.JPG"
    assert safe_filename("...") == "file"
