"""chatd's configuration: one TOML file, validated by pydantic, with env overrides."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chatd.store.db import is_postgres

DomainName = Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerConfig(Strict):
    host: str = "127.0.0.1"  # where Prosody listens for component streams
    component_port: int = Field(5347, ge=1, le=65535)
    members_host: DomainName = "localhost"  # the VirtualHost that holds members' accounts
    multicast: bool = True  # room fan-out through the server's XEP-0033 service when it offers one (ejabberd)


class RoomConfig(Strict):
    """A topic room: public within its realm, persistent; texts in the realm's language."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]  # the room's address: ID@rooms_domain
    name: Annotated[str, Field(min_length=1, max_length=80)]
    description: Annotated[str, Field(max_length=500)] = ""
    tags: list[Annotated[str, Field(pattern=r"^[a-z0-9-]{1,32}$")]] = []
    resources: str = ""  # a resource-library topic shown to everyone who joins (pinned)
    resource_post_hours: float = Field(0.0, ge=0)  # post that topic's resources this often (0: never)


class RealmConfig(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z]{2,8}$")]
    language: Literal["en", "fr"]
    people_domain: DomainName
    rooms_domain: DomainName
    people_secret: Annotated[str, Field(min_length=8)]
    rooms_secret: Annotated[str, Field(min_length=8)]
    rooms: list[RoomConfig] = []

    @field_validator("rooms")
    @classmethod
    def _distinct_rooms(cls, rooms: list[RoomConfig]) -> list[RoomConfig]:
        if len({r.id for r in rooms}) != len(rooms):
            raise ValueError("room ids must be distinct within a realm")
        return rooms


class WatchConfig(Strict):
    domain: DomainName = "watch.localhost"
    secret: Annotated[str, Field(min_length=8)]
    reannounce_seconds: float = Field(600.0, ge=5)  # unclaimed high-severity queue entries are posted again
    guide_name: Annotated[str, Field(min_length=1, max_length=40)] = "Wall Guide"  # how guides appear to members


class StoreConfig(Strict):
    path: str = "var/chatd.sqlite3"  # a SQLite file, or a postgresql:// URL (docs/postgresql.md)
    # with a PostgreSQL store: the local folder for chatd's own files (the received-messages journal, the sent
    # log, uploads unless [uploads] folder says otherwise); a SQLite store keeps them beside its file
    folder: str = ""

    @model_validator(mode="after")
    def _folder_for_postgres(self) -> StoreConfig:
        if is_postgres(self.path) and not self.folder:
            raise ValueError("a PostgreSQL store needs store.folder: a local folder for chatd's own files")
        return self

    @property
    def local_path(self) -> Path:
        """What chatd's own files are named after (e.g. <it>.received): the SQLite file, or <folder>/chatd."""
        return Path(self.folder) / "chatd" if is_postgres(self.path) else Path(self.path)


class ResourcesConfig(Strict):
    file: str = "conf/resources.toml"  # the resource library (checked numbers only)


class SelfHelpConfig(Strict):
    instruments: str = "conf/selfhelp"  # the folder of instrument files (*.toml) selfhelp@ offers
    courses: str = "conf/courses"  # the folder of course files (*.toml): lessons and a discussion room
    day_seconds: float = Field(86400.0, gt=0)  # a day for goals' check-in pace (tests shorten it)


class BusConfig(Strict):
    nats_url: str = ""  # empty: the in-process bus
    buffer_size: int = Field(10000, ge=1)  # events kept while NATS is unreachable
    # services allowed to act through chatd.<realm>.action.<verb>: name -> token (none: actions are off)
    action_tokens: dict[str, Annotated[str, Field(min_length=16)]] = {}
    # several chatd instances serve the same domains (docs/scale-out.md): they tell each other, over NATS, the
    # lines guides see live and members' recent texts; off, no text ever goes to NATS
    several_instances: bool = False

    @field_validator("nats_url")
    @classmethod
    def _nats_scheme(cls, value: str) -> str:
        if value and not re.match(r"^(nats|tls)://", value):
            raise ValueError("must start with nats:// or tls://, or be empty")
        return value


class PushConfig(Strict):
    """Push notifications (XEP-0357) for members' phones: the app servers a member may enable push toward.

    Rendered into Prosody's config (conf/prosody/mod_chatd_push.lua); every other address is refused.
    """

    app_servers: list[DomainName] = []


class HttpConfig(Strict):
    listen: str = "127.0.0.1:8765"

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("must be HOST:PORT")
        return value

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0]

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


class LimitsConfig(Strict):
    max_stanza_bytes: int = Field(65536, ge=1024)
    max_body_chars: int = Field(10000, ge=1)
    burst_messages: int = Field(20, ge=1)  # per account, refilled over burst_seconds
    burst_seconds: float = Field(10.0, gt=0)
    outbox_size: int = Field(20000, ge=10)  # stanzas waiting per component stream
    resend_window_seconds: float = Field(600.0, gt=0)  # a message seen again this soon is a resend


class ModerationConfig(Strict):
    # "module:callable" returning a Policy; called with (settings dict, label)
    policy: str = "policies.engine:PolicyEngine.from_settings"
    policies_file: str = "conf/policies.toml"
    probation_days: float = Field(7.0, ge=0)  # new members' texts are checked more strictly
    # conversation-level risk: each member's last texts within this time, scored together (memory only)
    risk_window_messages: int = Field(8, ge=1, le=50)  # 1: off
    risk_window_seconds: float = Field(1800.0, gt=0)
    # Optional external hook: a NATS request/reply subject (needs bus.nats_url).
    external_subject: str = ""
    external_deadline_ms: int = Field(150, ge=1, le=10000)
    external_fail_action: Literal["hold", "reject", "deliver"] = "hold"


class FollowsConfig(Strict):
    """Following topic rooms without joining them (chatd/follows.py): digests at each member's pace."""

    check_seconds: float = Field(60.0, gt=0, le=3600)  # how often due digests are looked for


class Bilingual(Strict):
    """A configurable text, in both languages."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,40}$")]
    en: Annotated[str, Field(min_length=1, max_length=300)]
    fr: Annotated[str, Field(min_length=1, max_length=300)]

    def text(self, language: str) -> str:
        return self.fr if language == "fr" else self.en


DEFAULT_AFFILIATIONS = [
    Bilingual(
        id="serving",
        en="Serving member of the Canadian Armed Forces",
        fr="Militaire en service des Forces armées canadiennes",
    ),
    Bilingual(id="former", en="Former member or Veteran", fr="Ancien militaire ou vétéran"),
    Bilingual(id="dnd", en="Employee of National Defence", fr="Employé de la Défense nationale"),
    Bilingual(
        id="cadet",
        en="Cadet or Junior Canadian Ranger (16 or older)",
        fr="Cadet ou Ranger junior canadien (16 ans ou plus)",
    ),
    Bilingual(id="family", en="Family member (16 or older)", fr="Membre de la famille (16 ans ou plus)"),
]
DEFAULT_QUESTIONS = [
    Bilingual(
        id="hopes",
        en="What do you hope to find in this community?",
        fr="Qu’espérez-vous trouver dans cette communauté?",
    ),
    Bilingual(
        id="support",
        en="Do you have other support right now (a counsellor, friends, family)?",
        fr="Avez-vous d’autres soutiens en ce moment (thérapeute, amis, famille)?",
    ),
]


class RegistrationConfig(Strict):
    """Self-registration pages; absent: members are added by an operator only."""

    public_url: Annotated[str, Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$")]  # base of activation links
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = ""  # better set from the environment: CHATD_REGISTRATION__SMTP_PASSWORD
    sender: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]
    activation_minutes: int = Field(24 * 60, ge=5, le=7 * 24 * 60)
    vault_public_key: str  # PEM; the service never holds the private key
    prosody_config: str = "/etc/prosody/prosody.cfg.lua"  # for prosodyctl, which creates accounts
    affiliations: list[Bilingual] = Field(default_factory=lambda: list(DEFAULT_AFFILIATIONS), min_length=1)
    onboarding_questions: list[Bilingual] = Field(default_factory=lambda: list(DEFAULT_QUESTIONS))

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/")


IMAGE_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"]


class UploadsConfig(Strict):
    """chatd's own file upload service (XEP-0363): held for review, metadata stripped; absent: no uploads."""

    domain: DomainName  # the upload component's address, e.g. upload.example.org
    secret: Annotated[str, Field(min_length=8)]
    public_url: Annotated[str, Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$")]  # where clients reach chatd's HTTP
    folder: str = ""  # where files are kept; empty: an "uploads" folder beside the store
    max_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    content_types: list[Annotated[str, Field(pattern=r"^[a-z]+/[a-z0-9.+-]+$")]] = Field(
        default_factory=lambda: list(IMAGE_TYPES), min_length=1
    )
    expiry_hours: float = Field(30 * 24.0, gt=0)  # a file (fetched or not) is deleted this long after its slot

    @property
    def base_url(self) -> str:
        """The URL prefix of every uploaded file (what the house.upload rule recognises)."""
        return self.public_url.rstrip("/") + "/upload/"


class Config(Strict):
    server: ServerConfig = ServerConfig()
    realms: list[RealmConfig]
    watch: WatchConfig
    store: StoreConfig = StoreConfig()
    bus: BusConfig = BusConfig()
    push: PushConfig = PushConfig()
    resources: ResourcesConfig = ResourcesConfig()
    selfhelp: SelfHelpConfig = SelfHelpConfig()
    http: HttpConfig = HttpConfig()
    limits: LimitsConfig = LimitsConfig()
    moderation: ModerationConfig = ModerationConfig()
    follows: FollowsConfig = FollowsConfig()
    registration: RegistrationConfig | None = None
    uploads: UploadsConfig | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @model_validator(mode="after")
    def _distinct(self) -> Config:
        ids = [r.id for r in self.realms]
        if not ids:
            raise ValueError("at least one realm is needed")
        if len(set(ids)) != len(ids):
            raise ValueError("realm ids must be distinct")
        if self.moderation.external_subject and not self.bus.nats_url:
            raise ValueError("moderation.external_subject needs bus.nats_url")
        if self.bus.several_instances and not self.bus.nats_url:
            raise ValueError("bus.several_instances needs bus.nats_url")
        domains = [d for r in self.realms for d in (r.people_domain, r.rooms_domain)]
        domains += [self.watch.domain, self.server.members_host]
        domains += [self.uploads.domain] if self.uploads else []
        if len(set(domains)) != len(domains):
            raise ValueError("every domain (people, rooms, watch, uploads, members host) must be distinct")
        if set(domains) & set(self.push.app_servers):
            raise ValueError("push.app_servers: a push app server cannot be one of chatd's own domains")
        return self


class ConfigError(Exception):
    """The configuration is invalid; the message names the bad key."""


def _apply_env(data: dict[str, object], environ: dict[str, str]) -> None:
    # CHATD_<SECTION>__<KEY>=value overrides one scalar key of a section
    for name, value in environ.items():
        if not name.startswith("CHATD_") or "__" not in name:
            continue
        section, key = name[len("CHATD_") :].lower().split("__", 1)
        target = data.setdefault(section, {})
        if isinstance(target, dict):
            target[key] = value


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"{key}: {item['msg']}")
    return "; ".join(lines)


def load_config(path: str | Path, environ: dict[str, str] | None = None) -> Config:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    _apply_env(data, dict(os.environ) if environ is None else environ)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid configuration: {_describe(exc)}") from exc
