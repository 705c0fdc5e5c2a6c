"""Self-registration: pages, activation mail, account creation, sealing into the vault.

Flow: /register -> /register/<lang> (house rules + form) -> mail with a single-use link ->
/register/<lang>/activate (onboarding questions + password) -> XMPP account + member.
The form's personal data is sealed at once; only the pseudonym is kept readable.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from aiohttp import web

from chatd import i18n
from chatd.config import Config, RealmConfig, RegistrationConfig
from chatd.core.model import Role
from chatd.core.moderation import Moderation
from chatd.core.ratelimit import RateLimiter
from chatd.pseudonyms import CommandError, check_pseudonym
from chatd.registration import forms, pages
from chatd.registration.accounts import AccountCreator, AccountError, ProsodyctlAccounts, new_localpart
from chatd.registration.mail import Mailer, MailError
from chatd.store import Store, StoreError
from chatd.store.registration import Pending, RegistrationStore
from chatd.vault.seal import Sealer, associated_data

log = logging.getLogger("chatd.registration")

CSRF_COOKIE = "chatd_csrf"
SIGNUPS_PER_HOUR = 20  # per client address: activation mail must not become a spam cannon


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass
class Registration:
    config: Config
    store: Store
    moderation: Moderation
    sealer: Sealer
    mailer: Mailer
    accounts: AccountCreator
    on_member_added: Callable[[], Awaitable[None]]
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self.vault = RegistrationStore(self.store.db)
        self.limiter = RateLimiter(SIGNUPS_PER_HOUR, 3600.0)

    @classmethod
    def from_config(
        cls, config: Config, store: Store, moderation: Moderation, on_member_added: Callable[[], Awaitable[None]]
    ) -> Registration:
        settings = cls.settings_of(config)
        accounts = ProsodyctlAccounts(settings.prosody_config, config.server.members_host)
        sealer = Sealer.from_file(settings.vault_public_key)
        return cls(config, store, moderation, sealer, Mailer(settings), accounts, on_member_added)

    @staticmethod
    def settings_of(config: Config) -> RegistrationConfig:
        assert config.registration is not None
        return config.registration

    @property
    def settings(self) -> RegistrationConfig:
        return self.settings_of(self.config)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/register", self.choose_language)
        app.router.add_get("/register/{language}", self.signup_form)
        app.router.add_post("/register/{language}", self.signup)
        app.router.add_get("/register/{language}/sent", self.mail_sent)
        app.router.add_get("/register/{language}/activate", self.activation_form)
        app.router.add_post("/register/{language}/activate", self.activate)

    # helpers

    def realm_for(self, request: web.Request) -> RealmConfig:
        language = request.match_info["language"]
        realm = next((r for r in self.config.realms if r.language == language), None)
        if realm is None or language not in i18n.LANGUAGES:
            raise web.HTTPNotFound()
        return realm

    def page(self, request: web.Request, html: str, status: int = 200, csrf: str = "") -> web.Response:
        response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
        response.headers.update(
            {
                "Content-Security-Policy": pages.CONTENT_SECURITY_POLICY,
                "Referrer-Policy": "no-referrer",  # activation tokens must not leak
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-store",
            }
        )
        if csrf and request.cookies.get(CSRF_COOKIE) != csrf:
            secure = self.settings.base_url.startswith("https://")
            response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="Strict", secure=secure, path="/register")
        return response

    @staticmethod
    def csrf(request: web.Request) -> str:
        """The form token: equal to the browser's cookie (double submit, SameSite=Strict)."""
        token = request.cookies.get(CSRF_COOKIE, "")
        return token if len(token) == 43 else secrets.token_urlsafe(32)

    def csrf_failed(self, request: web.Request, form: dict[str, str], language: str) -> web.Response | None:
        cookie, sent = request.cookies.get(CSRF_COOKIE, ""), form.get("csrf", "")
        if cookie and sent and hmac.compare_digest(cookie, sent):
            return None
        return self.page(request, pages.message(language, "expired_title", "expired_text"), 403)

    @staticmethod
    async def form(request: web.Request) -> dict[str, str]:
        return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}

    # pages

    async def choose_language(self, request: web.Request) -> web.Response:
        return self.page(request, pages.choose_language())

    async def signup_form(self, request: web.Request) -> web.Response:
        realm = self.realm_for(request)
        csrf = self.csrf(request)
        return self.page(request, pages.signup(realm.language, self.settings.affiliations, csrf), csrf=csrf)

    async def signup(self, request: web.Request) -> web.StreamResponse:
        realm = self.realm_for(request)
        language = realm.language
        form = await self.form(request)
        if refused := self.csrf_failed(request, form, language):
            return refused
        now = self.clock()
        if not self.limiter.allow(request.remote or "", now):
            return self.page(request, pages.message(language, "busy_title", "busy_text"), 429)
        signup = forms.read_signup(form, [a.id for a in self.settings.affiliations], date.today())
        if signup.under_age:
            return self.page(request, pages.message(language, "too_young_title", "too_young_text", "too_young_help"))
        await self.check_pseudonym(realm, signup, now)
        if signup.errors:
            csrf = self.csrf(request)
            html = pages.signup(language, self.settings.affiliations, csrf, signup.values, signup.errors)
            return self.page(request, html, 422, csrf)
        token = secrets.token_urlsafe(32)
        record = {**signup.record(), "language": language, "registered_at": time.strftime("%Y-%m-%dT%H:%MZ")}
        sealed = self.sealer.seal(record, associated_data(realm.id, signup.values["pseudonym"], "registration"))
        await self.vault.purge_expired(now)
        expires = now + self.settings.activation_minutes * 60
        pending = await self.vault.add_pending(
            realm.id, signup.values["pseudonym"], language, token_hash(token), expires, sealed, now
        )
        try:
            await self.mailer.send(signup.values["email"], *self.activation_mail(language, token))
        except MailError as exc:
            log.warning("registration %d: activation mail not sent: %s", pending, exc)
            await self.vault.forget(pending)
            return self.page(request, pages.message(language, "mail_failed_title", "mail_failed_text"), 503)
        log.info("registration %d: activation mail sent", pending)
        raise web.HTTPSeeOther(f"/register/{language}/sent")

    async def check_pseudonym(self, realm: RealmConfig, signup: forms.Signup, now: float) -> None:
        if "pseudonym" in signup.errors:
            return
        name = signup.values["pseudonym"]
        try:
            check_pseudonym(self.config, realm.id, name, self.moderation)
        except CommandError:
            signup.errors["pseudonym"] = "registration.error.pseudonym_refused"
            return
        if await self.vault.pseudonym_taken(realm.id, name, now):
            signup.errors["pseudonym"] = "registration.error.pseudonym_taken"

    def activation_mail(self, language: str, token: str) -> tuple[str, str]:
        link = f"{self.settings.base_url}/register/{language}/activate?token={token}"
        minutes = self.settings.activation_minutes
        lifetime = i18n.text(language, "registration.mail.hours", hours=str(minutes // 60))
        if minutes % 60:
            lifetime = i18n.text(language, "registration.mail.minutes", minutes=str(minutes))
        body = i18n.text(language, "registration.mail.body", link=link, lifetime=lifetime)
        return i18n.text(language, "registration.mail.subject"), body

    async def mail_sent(self, request: web.Request) -> web.Response:
        language = self.realm_for(request).language
        return self.page(request, pages.message(language, "sent_title", "sent_text", "sent_spam"))

    def link_invalid(self, request: web.Request, language: str) -> web.Response:
        html = pages.message(language, "link_title", "link_text", register=f"/register/{language}")
        return self.page(request, html, 410)

    async def activation_form(self, request: web.Request) -> web.Response:
        # Showing the form does not use the link up: mail scanners open links too.
        language = self.realm_for(request).language
        token = request.query.get("token", "")
        if await self.vault.usable(token_hash(token), self.clock()) is None:
            return self.link_invalid(request, language)
        csrf = self.csrf(request)
        html = pages.activation(language, self.settings.onboarding_questions, token, csrf)
        return self.page(request, html, csrf=csrf)

    async def activate(self, request: web.Request) -> web.Response:
        realm = self.realm_for(request)
        language = realm.language
        form = await self.form(request)
        if refused := self.csrf_failed(request, form, language):
            return refused
        token, now = form.get("token", ""), self.clock()
        questions = self.settings.onboarding_questions
        activation = forms.read_activation(form, [q.id for q in questions])
        if activation.errors:
            if await self.vault.usable(token_hash(token), now) is None:
                return self.link_invalid(request, language)
            values = {f"answer_{q}": a for q, a in activation.answers.items()}
            csrf = self.csrf(request)
            html = pages.activation(language, questions, token, csrf, values, activation.errors)
            return self.page(request, html, 422, csrf)
        pending = await self.vault.claim(token_hash(token), now)
        if pending is None or pending.realm != realm.id:
            return self.link_invalid(request, language)
        return await self.create_member(request, realm, pending, activation, now)

    async def create_member(
        self, request: web.Request, realm: RealmConfig, pending: Pending, activation: forms.Activation, now: float
    ) -> web.Response:
        language = realm.language
        if any(m.pseudonym == pending.pseudonym for m in await self.store.members(realm.id)):
            await self.vault.forget(pending.id)
            return self.page(request, pages.message(language, "taken_title", "taken_text"), 409)
        try:
            account = await self.accounts.create(new_localpart(), activation.password)
        except AccountError as exc:
            log.error("registration %d: account not created: %s", pending.id, exc)
            await self.vault.release(pending.id)
            return self.page(request, pages.message(language, "account_failed_title", "account_failed_text"), 503)
        try:
            member = await self.store.add_member(account, realm.id, pending.pseudonym, Role.MEMBER, now)
        except StoreError:
            await self.accounts.delete(account)
            await self.vault.forget(pending.id)
            return self.page(request, pages.message(language, "taken_title", "taken_text"), 409)
        answers = {q: a for q, a in activation.answers.items() if a}
        extra = []
        if answers:
            extra.append(
                ("onboarding", self.sealer.seal(answers, associated_data(realm.id, member.pseudonym, "onboarding")))
            )
        await self.vault.complete(pending.id, member.id, extra, now)
        await self.on_member_added()
        log.info("registration %d: completed as member %d", pending.id, member.id)
        html = pages.welcome(language, account, member.pseudonym, f"wallguide@{realm.people_domain}")
        return self.page(request, html)
