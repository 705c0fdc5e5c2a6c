"""XEP-0050 ad-hoc commands for the Wall Guides: the same actions as the text commands, as forms.

Each verb is a command node on the watch domain; executing it returns a form of the verb's
arguments; submitting the form runs the action and completes with a note.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

from chatd import i18n
from chatd.core.guides import SYNTAX, GuideCommand, Verb, parse_guide_command
from chatd.xmpp.ns import NS_COMMANDS, NS_DATA, NS_DISCO_ITEMS

# verbs offered as ad-hoc commands (help and post need a conversation: text commands only)
OFFERED = tuple(v for v in Verb if v not in (Verb.HELP, Verb.POST, Verb.EMERGENCY))  # emergency: a refusal only


def fields_of(verb: Verb) -> list[str]:
    names, free = SYNTAX[verb]
    extra = ["text", "reason"] if verb in (Verb.EDIT, Verb.APPROVE) else ["text"] if free else []
    return [*names, *extra]


def command_items(jid: str, nodes: list[tuple[str, str]]) -> str:
    """disco#items of the commands node: (node, name) per command."""
    items = "".join(f"<item jid={quoteattr(jid)} node={quoteattr(n)} name={quoteattr(name)}/>" for n, name in nodes)
    return f"<query xmlns='{NS_DISCO_ITEMS}' node='{NS_COMMANDS}'>{items}</query>"


def guide_commands(domain: str, language: str) -> str:
    return command_items(domain, [(v.value, i18n.text(language, f"adhoc.verb.{v.value}")) for v in OFFERED])


def form_payload(node: str, title: str, fields: list[tuple[str, str, bool]]) -> str:
    """A command's form: (var, label, required) per text field."""
    entries = "".join(field_xml(var, "text-single", label, required) for var, label, required in fields)
    return form_xml(node, secrets.token_hex(8), title, entries)


def field_xml(var: str, kind: str, label: str, required: bool, options: list[tuple[str, str]] | None = None) -> str:
    """One XEP-0004 field; `options`: (value, label) per option of a list field."""
    listed = "".join(
        f"<option label={quoteattr(text)}><value>{escape(v)}</value></option>" for v, text in options or []
    )
    return (
        f"<field var={quoteattr(var)} type={quoteattr(kind)} label={quoteattr(label)}>"
        f"{'<required/>' if required else ''}{listed}</field>"
    )


def form_xml(node: str, session: str, title: str, fields: str, note: str = "", instructions: str = "") -> str:
    """An executing command's form (fields: field_xml's), with an error note when a submission was refused."""
    said = f"<note type='error'>{escape(note)}</note>" if note else ""
    told = f"<instructions>{escape(instructions)}</instructions>" if instructions else ""
    return (
        f"<command xmlns='{NS_COMMANDS}' node={quoteattr(node)} sessionid={quoteattr(session)}"
        f" status='executing'><actions execute='complete'><complete/></actions>{said}"
        f"<x xmlns='{NS_DATA}' type='form'><title>{escape(title)}</title>{told}{fields}</x></command>"
    )


def guide_form(verb: Verb, language: str) -> str:
    fields = [(n, i18n.text(language, f"adhoc.field.{n}"), n in SYNTAX[verb][0]) for n in fields_of(verb)]
    return form_payload(verb.value, i18n.text(language, f"adhoc.verb.{verb.value}"), fields)


def completed_payload(node: str, session: str, note: str, error: bool = False, status: str = "completed") -> str:
    kind = "error" if error else "info"
    return (
        f"<command xmlns='{NS_COMMANDS}' node={quoteattr(node)} sessionid={quoteattr(session)}"
        f" status={quoteattr(status)}><note type='{kind}'>{escape(note)}</note></command>"
    )


def submitted(command: ET.Element) -> dict[str, str] | None:
    """The submitted form's values, or None when the command carries no submitted form."""
    form = command.find(f"{{{NS_DATA}}}x")
    if form is None or form.get("type") != "submit":
        return None
    values = {}
    for entry in form.findall(f"{{{NS_DATA}}}field"):
        lines = [(value.text or "") for value in entry.findall(f"{{{NS_DATA}}}value")]  # text-multi: one a line
        values[entry.get("var", "")] = "\n".join(lines).strip()
    return values


def guide_command(verb: Verb, values: dict[str, str]) -> GuideCommand:
    """The same command a guide would type, from the form's values (checked by the text parser)."""
    names, _ = SYNTAX[verb]
    words = [f"!{verb.value}", *(values.get(n, "") for n in names)]
    text = values.get("text", "")
    if values.get("reason") and verb in (Verb.EDIT, Verb.APPROVE):
        text = f"{text} -- {values['reason']}"
    line = " ".join(w for w in [*words, text] if w)
    parsed = parse_guide_command(line)
    assert parsed is not None
    return parsed
