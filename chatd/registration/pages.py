"""Server-rendered registration pages (no JavaScript), built for WCAG 2.2 AA.

Every value is escaped; every text comes from the catalogs. A field's hint and error are
tied to it with aria-describedby; an error summary at the top links to each field.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from html import escape

from chatd import i18n
from chatd.config import Bilingual
from chatd.registration.forms import SIGNUP_FIELDS

CSS = """
*{box-sizing:border-box}
body{margin:0;font:1.125rem/1.5 system-ui,sans-serif;color:#1a1a1a;background:#fff}
header,main,footer{max-width:40rem;margin:0 auto;padding:1rem}
header{display:flex;justify-content:space-between;align-items:center;border-bottom:1px solid #6b6b6b}
footer{border-top:1px solid #6b6b6b;margin-top:2rem}
a{color:#0b4f9c}
a:focus,input:focus,textarea:focus,button:focus{outline:3px solid #1a1a1a;outline-offset:2px}
.skip{position:absolute;left:-100vw}
.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
.field{margin:1.5rem 0}
label,legend{display:block;font-weight:600}
.hint{margin:.25rem 0;color:#4a4a4a}
.error{margin:.25rem 0;color:#a4001d;font-weight:600}
.invalid input,.invalid textarea{border-color:#a4001d;border-width:3px}
input[type=text],input[type=email],input[type=tel],input[type=date],input[type=password],textarea{
width:100%;font:inherit;padding:.5rem;border:2px solid #505050;border-radius:4px;min-height:2.75rem}
input[type=checkbox],input[type=radio]{width:1.5rem;height:1.5rem;margin:0 .5rem 0 0;vertical-align:middle}
fieldset{border:0;padding:0;margin:1.5rem 0}
.choice{display:flex;align-items:center;margin:.5rem 0}
.choice label{font-weight:400}
button{font:inherit;font-weight:600;padding:.75rem 1.5rem;border:0;border-radius:4px;background:#0b4f9c;color:#fff;
cursor:pointer;min-height:2.75rem}
.summary{border:3px solid #a4001d;padding:1rem;margin:1rem 0}
.summary h2{margin-top:0}
.account{font-size:1.25rem;font-weight:600;word-break:break-all}
"""
STYLE_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
LANGUAGE_NAMES = {"en": "English", "fr": "Français"}


def t(language: str, key: str, **params: str) -> str:
    """A catalog text, escaped for HTML."""
    return escape(i18n.text(language, f"registration.{key}", **params))


def document(language: str, title: str, body: str, errors: bool = False, switch_to: str = "") -> str:
    site = t(language, "site")
    title = (t(language, "error_title_prefix") + " " if errors else "") + title
    switch = ""
    if switch_to:
        other = next(lang for lang in i18n.LANGUAGES if lang != language)
        switch = f'<a href="{escape(switch_to)}" lang="{other}" hreflang="{other}">{LANGUAGE_NAMES[other]}</a>'
    return f"""<!doctype html>
<html lang="{language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – {site}</title>
<style>{CSS}</style>
</head>
<body>
<a class="skip" href="#main">{t(language, "skip")}</a>
<header><p><strong>{site}</strong></p>{switch}</header>
<main id="main" tabindex="-1">
{body}
</main>
<footer>
<h2>{t(language, "crisis.title")}</h2>
<p>{t(language, "crisis.text")}</p>
</footer>
</body>
</html>
"""


def paragraphs(language: str, *keys: str) -> str:
    return "".join(f"<p>{t(language, key)}</p>" for key in keys)


def error_summary(language: str, errors: dict[str, str], order: Sequence[str]) -> str:
    if not errors:
        return ""
    items = "".join(
        f'<li><a href="#f-{name}">{escape(i18n.text(language, errors[name]))}</a></li>'
        for name in order
        if name in errors
    )
    return (
        f'<div class="summary" role="alert" aria-labelledby="summary-title">'
        f'<h2 id="summary-title">{t(language, "error_summary")}</h2><ul>{items}</ul></div>'
    )


def described_by(name: str, hint: str, error: str) -> str:
    ids = [f"f-{name}-hint"] if hint else []
    ids += [f"f-{name}-error"] if error else []
    return f' aria-describedby="{" ".join(ids)}"' if ids else ""


def notes(name: str, hint: str, error: str) -> str:
    html = f'<p class="hint" id="f-{name}-hint">{hint}</p>' if hint else ""
    if error:
        html += f'<p class="error" id="f-{name}-error">{error}</p>'
    return html


def text_field(
    language: str,
    name: str,
    kind: str,
    autocomplete: str,
    value: str = "",
    errors: dict[str, str] | None = None,
    required: bool = True,
    label: str = "",
    hint: str = "",
) -> str:
    error_key = (errors or {}).get(name, "")
    error = escape(i18n.text(language, error_key)) if error_key else ""
    label = label or t(language, f"field.{name}")
    hint = hint or (t(language, f"hint.{name}") if f"registration.hint.{name}" in i18n.catalog(language) else "")
    attributes = f' id="f-{name}" name="{name}" autocomplete="{autocomplete}"'
    attributes += described_by(name, hint, error)
    attributes += ' aria-invalid="true"' if error else ""
    attributes += " required" if required else ""
    if required:
        label += f" <span>{t(language, 'required')}</span>"
    if kind == "textarea":
        control = f'<textarea{attributes} rows="4">{escape(value)}</textarea>'
    else:
        control = f'<input type="{kind}"{attributes} value="{escape(value)}">'
    css = "field invalid" if error else "field"
    return f'<div class="{css}"><label for="f-{name}">{label}</label>{notes(name, hint, error)}{control}</div>'


def hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{name}" value="{escape(value)}">'


def choose_language() -> str:
    links = "".join(
        f'<li><a href="/register/{lang}" lang="{lang}" hreflang="{lang}">{t(lang, "choose")}</a></li>'
        for lang in i18n.LANGUAGES
    )
    body = f'<h1>{t("en", "title")} / <span lang="fr">{t("fr", "title")}</span></h1><ul>{links}</ul>'
    return document("en", f"{t('en', 'title')} / {t('fr', 'title')}", body)


def signup(
    language: str,
    affiliations: Sequence[Bilingual],
    csrf: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> str:
    values, errors = values or {}, errors or {}
    rules = "".join(f"<li>{escape(rule)}</li>" for rule in i18n.house_rules(language))
    rules_error = escape(i18n.text(language, errors["rules"])) if "rules" in errors else ""
    rules_checked = " checked" if values.get("rules") == "accepted" else ""
    invalid = ' aria-invalid="true"' if rules_error else ""
    affiliation_error = escape(i18n.text(language, errors["affiliation"])) if "affiliation" in errors else ""
    choices = "".join(
        f'<div class="choice"><input type="radio" id="{radio_id(a.id, n)}" name="affiliation"'
        f' value="{escape(a.id)}"{" checked" if values.get("affiliation") == a.id else ""} required>'
        f'<label for="{radio_id(a.id, n)}">{escape(a.text(language))}</label></div>'
        for n, a in enumerate(affiliations)
    )
    body = f"""<h1>{t(language, "title")}</h1>
{error_summary(language, errors, SIGNUP_FIELDS)}
{paragraphs(language, "intro", "privacy")}
<form method="post" action="/register/{language}" novalidate>
{hidden("csrf", csrf)}
<h2 id="rules-title">{t(language, "rules_title")}</h2>
<ol aria-labelledby="rules-title">{rules}</ol>
<div class="{"field invalid" if rules_error else "field"}"><div class="choice">
<input type="checkbox" id="f-rules" name="rules" value="accepted"{rules_checked}{invalid} required{
        described_by("rules", "", rules_error)
    }>
<label for="f-rules">{t(language, "field.rules")}</label></div>{notes("rules", "", rules_error)}</div>
<h2>{t(language, "about_you")}</h2>
{text_field(language, "pseudonym", "text", "nickname", values.get("pseudonym", ""), errors)}
{text_field(language, "email", "email", "email", values.get("email", ""), errors)}
{text_field(language, "phone", "tel", "tel", values.get("phone", ""), errors)}
{text_field(language, "postal_code", "text", "postal-code", values.get("postal_code", ""), errors)}
{text_field(language, "birth_date", "date", "bday", values.get("birth_date", ""), errors)}
<fieldset class="{"invalid" if affiliation_error else ""}"{described_by("affiliation", "", affiliation_error)}>
<legend>{t(language, "field.affiliation")} <span>{t(language, "required")}</span></legend>
{notes("affiliation", "", affiliation_error)}{choices}</fieldset>
<button type="submit">{t(language, "submit")}</button>
</form>"""
    return document(language, t(language, "title"), body, errors=bool(errors), switch_to=f"/register/{other(language)}")


def radio_id(value: str, position: int) -> str:
    """The first choice is the target of the error summary's link."""
    return "f-affiliation" if position == 0 else f"f-affiliation-{escape(value)}"


def other(language: str) -> str:
    return next(lang for lang in i18n.LANGUAGES if lang != language)


def message(language: str, title_key: str, *keys: str, **params: str) -> str:
    """A page with a title and paragraphs (mail sent, link not valid, refused, problems)."""
    body = f"<h1>{t(language, title_key)}</h1>" + "".join(f"<p>{t(language, k, **params)}</p>" for k in keys)
    return document(language, t(language, title_key), body)


def activation(
    language: str,
    questions: Sequence[Bilingual],
    token: str,
    csrf: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> str:
    values, errors = values or {}, errors or {}
    answers = "".join(
        text_field(
            language,
            f"answer_{q.id}",
            "textarea",
            "off",
            values.get(f"answer_{q.id}", ""),
            errors,
            required=False,
            label=escape(q.text(language)),
            hint=t(language, "hint.answer"),
        )
        for q in questions
    )
    order = [f"answer_{q.id}" for q in questions] + ["password", "password_again"]
    questions_html = f"<h2>{t(language, 'questions_title')}</h2>{answers}" if questions else ""
    body = f"""<h1>{t(language, "activate_title")}</h1>
{error_summary(language, errors, order)}
{paragraphs(language, "activate_intro")}
<form method="post" action="/register/{language}/activate" novalidate>
{hidden("csrf", csrf)}{hidden("token", token)}
{questions_html}
<h2>{t(language, "password_title")}</h2>
{text_field(language, "password", "password", "new-password", "", errors)}
{text_field(language, "password_again", "password", "new-password", "", errors)}
<button type="submit">{t(language, "activate_submit")}</button>
</form>"""
    return document(language, t(language, "activate_title"), body, errors=bool(errors))


def welcome(language: str, account: str, pseudonym: str, guide: str) -> str:
    body = f"""<h1>{t(language, "welcome_title")}</h1>
<p>{t(language, "welcome_account")}</p>
<p class="account">{escape(account)}</p>
<p>{t(language, "welcome_keep")}</p>
<p>{t(language, "welcome_pseudonym", pseudonym=pseudonym)}</p>
<p>{t(language, "welcome_apps")}</p>
<p>{escape(i18n.text(language, "help.encryption"))}</p>
<p>{t(language, "welcome_guide", guide=guide)}</p>"""
    return document(language, t(language, "welcome_title"), body)
