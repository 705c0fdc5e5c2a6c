"""Every finding kind the policies can emit, and the house rule each one cites."""

from __future__ import annotations

PII_KINDS = (
    "pii.email",
    "pii.phone",
    "pii.postal_code",
    "pii.sin",
    "pii.url",
    "pii.handle",
    "pii.address",
    "pii.birth_date",
    "pii.name",
    "pii.place",
    "pii.region",
    "pii.military",
)
# Risk constructs, in the order that names an alert when several weigh the same
# (see policies/risk.py and ../shared/reference/risk-constructs.md).
RISK_ORDER = (
    "attempt",
    "command_voices",
    "harm_to_others",
    "active_ideation",
    "intent",
    "plan",
    "means",
    "self_harm",
    "farewell",
    "harm_from_others",
    "burden",
    "passive_ideation",
    "hopelessness",
    "belonging",
    "wording",  # the statistical model's reading of the whole text (policies/risk_model.py)
    "time",
)
RISK_CONSTRUCTS = RISK_ORDER
RISK_KINDS = tuple(f"risk.{construct}" for construct in RISK_CONSTRUCTS)
# What a signal may add after its construct ("means:firearm"); guides read it in the queue.
RISK_DETAILS = (
    "firearm",
    "medication",
    "height",
    "vehicle",
    "blade",
    "ligature",
    "poison",
    "drowning",
    "tonight",
    "soon",
    "date",
    "now",
    "ingested",
    "injured",
    "effects",
    "cutting",
    "burning",
    "hitting",
    "recent",
    "stockpiling",
    "method",
    "letter",
    "giving_away",
    "affairs",
    "goodbye",
    "decided",
    "slang",
    "assault",
    "violence",
    "threat",
    "stalking",
    "perpetrator_near",
    "weapon",
    "acquiring",
)

HOUSE_KINDS = (
    "house.slur",
    "house.harassment",
    "house.graphic",
    "house.upload",
    "house.flood",
)
ALL_KINDS = PII_KINDS + RISK_KINDS + HOUSE_KINDS

# The house rule quoted to the author when a finding of this kind changes the verdict.
RULES = {
    **dict.fromkeys(PII_KINDS, "no-personal-info"),
    "pii.url": "no-links",
    "house.upload": "no-links",
    "house.slur": "respect",
    "house.harassment": "respect",
    "house.graphic": "no-graphic-detail",
    "house.flood": "slow-down",
}
# New members on probation are told about the stricter rule for links.
NEW_MEMBER_RULES = {"pii.url": "new-member-links", "house.upload": "new-member-links"}

RULE_IDS = tuple(sorted({*RULES.values(), *NEW_MEMBER_RULES.values()}))

# Risk findings raise alerts; they cite no rule (the member broke none).
Hit = tuple[str, int, int, int]  # kind, severity, start, end on the normalized text
