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
RISK_KINDS = (
    "risk.suicide_passive",
    "risk.suicide_active",
    "risk.plan_or_means",
    "risk.self_harm",
    "risk.abuse_disclosure",
    "risk.violence_to_others",
    "risk.overdose",
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
