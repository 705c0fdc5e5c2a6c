"""Personal information detectors: each finds typed hits on the normalized text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from itertools import islice
from typing import Any

from phonenumbers import PhoneMetadata

from policies.kinds import Hit
from policies.lexicon import WordHit, expand, longest_first, read_rows, read_words
from policies.normalize import (
    NUMBER_WORDS,
    SPACED_HINT,
    TLDS,
    WORD_RUN,
    Normalized,
    fold_characters,
    number_word_runs,
)

USER_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._%+-")  # what EMAIL's user part is made of
EMAIL = re.compile(r"(?<![\w.+-])[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b")
URL = re.compile(
    r"\b(?:https?://|www\.)[^\s<>\"]+"
    rf"|(?<![\w@.-])(?:[a-z0-9-]+\.)+{TLDS}\b(?:/[^\s<>\"]*)?"
)
URL_TRAILING = ".,;:!?)'\""
DOT_TLD = re.compile(rf"\.{TLDS}\b")
URL_SIGN = re.compile(r"https?://|www\.")
URL_START = re.compile(r"(?<![\w:/.@-])[a-z0-9:/.-]*\Z")  # the word a URL sign is in
PLATFORMS = ("insta", "instagram", "ig", "snap", "snapchat", "tiktok", "twitter", "fb",
             "facebook", "discord", "telegram", "kik", "reddit", "twitch", "threads", "linkedin",
             "whatsapp", "signal")  # fmt: skip
# What a number, an address, an email, a link or a handle needs in a text before normalization: a digit or
# three number words in a row (normalize turns them into digits), "@", "u/", a link's sign, a platform named,
# a dot before a top-level domain ("." or "dot", "point", "pt" as normalize reads them), or spaced letters
# (normalize joins them, and they may spell any of these). Words are compared whole, not sought by a pattern.
STRUCTURED_MARK = re.compile(r"[\d@]")
LINK_MARK = re.compile(r"\bu/|https?://|www\.")
DOT_TLD_MARK = re.compile(rf"\.[\s\[\](){{}}<>]*{TLDS}\b")
DOT_WORD_TLD = re.compile(rf"\b(?:dot|point|pt)\b[\s\[\](){{}}<>]*{TLDS}\b")
PLATFORM_WORDS = frozenset(PLATFORMS)
DOT_WORDS = frozenset({"dot", "point", "pt"})
# "@handle" and reddit's "u/name"; one of them alone is sought with its own pattern (same matches, found faster)
AT_HANDLE = re.compile(r"@(?<![\w@.]@)(?=[\w.]*[a-z])[a-z0-9_](?:[a-z0-9_.]{0,28}[a-z0-9_])")
USER_HANDLE = re.compile(r"\bu/[a-z0-9_-]{3,20}")
HANDLE = re.compile(f"{AT_HANDLE.pattern}|{USER_HANDLE.pattern}")
PLATFORM_HANDLE = re.compile(
    r"\b(?:insta(?:gram)?|ig|snap(?:chat)?|tiktok|twitter|fb|facebook|discord|telegram|kik"
    r"|reddit|twitch|threads|linkedin|whatsapp|signal)\b"
    r"\s*(?:(?:handle|username|user ?name|name|id|pseudo|account|compte)\s*)?"
    r"(?P<separator>:|=|is|c'est|est|->)\s*@?(?P<handle>[a-z0-9_.]{3,30})"
)
NOT_HANDLES = frozenset(
    "the and but not just really pretty private public down dead gone closed deleted new "
    "fake mine same great lol for too also very super pas plus tres aussi mon ma le la les "
    "un une des ferme prive mort".split()
)
POSTAL_CODE = re.compile(r"\b[abceghjklmnprstvxy]\d[abceghj-nprstv-z][ -]?\d[abceghj-nprstv-z]\d\b")
# Patterns that start with a number begin with \d(?<!\w\d), not \b\d: the same test, but
# a pattern starting with a character class lets the regex engine skip to the digits.
SIN = re.compile(r"\d(?<!\w\d)\d{2}([ -]?)\d{3}\1\d{3}\b")
PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d(?:[\s.()-]{0,2}\d){6,14}(?!\w)")
PHONE_CUE = re.compile(r"\b(?:call|text|phone|cell|number|reach me|numero|texte|appelle|tel)\b")
LOCAL_PHONE = re.compile(r"\d{3}[-. ]\d{4}")
NANP_GROUPS = re.compile(r"(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}")
FRENCH_GROUPS = re.compile(r"(?:\+33[\s.]?|0)[1-9](?:[\s.-]?\d{2}){4}")

# Canada Post street types and their abbreviations, plus other common ones.
_STREET_TYPES = (
    "street|st|avenue|ave|av|road|rd|boulevard|blvd|drive|dr|crescent|cres|court|ct|crt|lane|ln"
    "|way|place|pl|terrace|terr|circle|cir|trail|parkway|pky|pkwy|highway|hwy|row|square|sq"
    "|close|grove|gate|heights|hts|point|pt|ridge|cr|alley|abbey|acres|bay|beach|bend|bypass"
    "|by-pass|byway|campus|cape|centre|center|chase|circuit|common|concession|corners|cove"
    "|crossing|cul-de-sac|dale|dell|diversion|downs|end|esplanade|estates|expressway|expy"
    "|extension|farm|field|forest|freeway|fwy|front|gardens|gdns|glade|glen|green|grounds"
    "|harbour|heath|highlands|hill|hollow|inlet|island|key|knoll|landing|line|link|lookout"
    "|loop|mall|manor|maze|meadow|mews|moor|mount|mountain|orchard|parade|park|passage|path"
    "|pathway|pines|plateau|plaza|port|private|promenade|quay|ramp|range|rise|route|run"
    "|sideroad|subdivision|thicket|towers|townline|turnabout|vale|via|view|village|villas"
    "|vista|walk|wharf|wood|wynd"
)
# Lowercase addresses ("123 main st") only with types that are rarely anything else...
_LOWER_STREET_TYPES = "street|st|avenue|ave|road|rd|boulevard|blvd|crescent|cres|terrace|terr|parkway|pkwy|highway|hwy"
# ...and not after words that say what the number counts: "2 hour road trip", "27 off Highway".
_NOT_STREET_NAMES = (
    "the|a|an|my|our|his|her|their|your|this|that|of|off|on|in|at|to|by|down|up|along|across"
    "|past|from|more|other|way|hour|hours|hr|hrs|minute|minutes|min|mins|km|kms|kilometres"
    "|kilometers|mile|miles|block|blocks|day|days|week|weeks|lane|lanes|times"
)
# Rural and numbered routes: 1234 Highway 7, 4521 Concession 6, 2345 Sideroad 10, 88 Route 138.
_NUMBERED_ROUTES = (
    "(?i:highway|hwy|concession|conc|sideroad|side road|county road|regional road|township road"
    "|range road)|Line|Route|Rte|Rang|Chemin"
)
_FR_STREET_TYPES = (
    "rue|avenue|av|boulevard|boul|bd|chemin|ch|route|rang|montee|place|allee|alle|impasse"
    "|promenade|croissant|terrasse|cote|carre|rue principale"
)
_DIRECTION = r"(?:\s+(?i:north|south|east|west|nord|sud|est|ouest|ne|nw|se|sw|[nsew])\b\.?)?"
_NUMBER = r"\d(?<!\w\d)\d{0,4}[A-Za-z]?(?:-\d{1,5})?,?\s+"  # 4-123: unit 4 at number 123
_CAP_WORD = r"[A-Z][A-Za-z'.-]*(?!\w)"
_UNIT = r"(?i:apt|apartment|app|appartement|unit|suite|ste|bureau|local|#)\.?\s*#?\d{1,5}[A-Za-z]?\b"
ADDRESS = re.compile(
    rf"{_NUMBER}(?:"
    # Numbered routes: 1234 Highway 7, 12 County Road 5
    rf"(?:{_NUMBERED_ROUTES})\s+\d{{1,4}}[A-Za-z]?\b{_DIRECTION}"
    # English, capitalized: 123 Main Street, 12 Saint Catherine St. West, 5th Avenue
    rf"|(?:{_CAP_WORD}|\d+(?i:st|nd|rd|th))(?:\s+{_CAP_WORD}){{0,2}}"
    rf"\s+(?i:{_STREET_TYPES})\b\.?{_DIRECTION}"
    # English, lowercase, only with the plainest street types: 123 main st
    rf"|(?!(?i:{_NOT_STREET_NAMES})\b)[a-z][\w'-]*(?:\s+[a-z][\w'-]*)?\s+(?i:{_LOWER_STREET_TYPES})\b\.?"
    rf"{_DIRECTION}"
    # French: 45 rue Saint-Denis, 1234 chemin de la Cote-des-Neiges, 12 boul. Saint-Joseph
    rf"|(?i:{_FR_STREET_TYPES})\.?\s+(?:(?i:de la|de|du|des|la|le|l'|d')\s*)?"
    rf"(?:{_CAP_WORD}|\d+(?i:e|re|er))(?:\s+(?:(?i:de la|de|du|des)\s+)?{_CAP_WORD}){{0,2}}"
    rf"{_DIRECTION})"
    # A unit after the street: 55 King St W, apt 4
    rf"(?:,?\s+{_UNIT})?"
)
# Lowercase with any street type ("204-5441 roberts way e") only with a sign that it is an
# address: a unit before or after the number, or a direction.
LOWERCASE_ADDRESS = re.compile(
    rf"\d(?<!\w\d)\d{{0,4}}[A-Za-z]?(?P<unit_before>-\d{{1,5}})?,?\s+(?!(?i:{_NOT_STREET_NAMES})\b)"
    rf"[a-z][\w'-]*(?:\s+[a-z][\w'-]*)?\s+(?i:{_STREET_TYPES})\b\.?(?P<direction>{_DIRECTION})"
    rf"(?P<unit>,?\s+{_UNIT})?"
)
UNIT_BEFORE = re.compile(rf"{_UNIT}\s*[-,]?\s*\Z")  # a unit before the number: apt 4, 123 Main St

# Everyday addresses, lowercase and without a street type ("42 maple, apt 3", "au 42 des érables
# app. 3"): a civic number and one or two words, then a unit or a direction, or after a cue
# ("I live at 42 maple"). Words that say what a number counts are never street names.
_COUNTED = (
    rf"{_NOT_STREET_NAMES}|and|or|out|kids?|children|child|years?|yrs?|months?|sessions?|times?"
    r"|people|persons?|friends?|dogs?|cats?|pills?|drinks?|beers?|shots?|stars?|points?|percent|dollars?"
    r"|bucks|cents?|floors?|storeys?|stories|steps?|exits?|degrees?|kg|lbs?|pounds?|feet|foot|ft|inches"
    r"|metres?|meters?|am|pm|h|ans?|enfants?|jours?|semaines?|mois|heures?|fois|personnes?|amis?|amies?"
    r"|chiens?|chats?|pilules?|verres?|bieres?|etoiles?|pourcents?|piasses?|etages?|secondes?"
    r"|ou|et|sur|pour|par|dans|avec|sans|mes|mon|ma|tes|ses|nos|vos|leurs?|les|un|une|is|was|est|etait"
    r"|bedrooms?|bdrm|chambres?|pieces?|mph|kmh|boys?|girls?|sons?|daughters?|guys?|men|women|brothers?"
    r"|sisters?|grandkids|tours?|deployments?|postings?|missions?|garcons?|filles?|fils|freres?|soeurs?"
    r"|gars|femmes?|hommes?|with|near|since|now|if|until|depuis|pres|maintenant|si|ce|cet|cette|ici|here"
    r"|ok|okay|yes|yeah|no|lol|thanks|oui|non|merci|pareil"
)
# ...nor a number that is a chapter, a grade or a day: "grade 10 math, unit 3", "jour 3 nord".
COUNTING_BEFORE = re.compile(
    r"\b(?:grade|chapter|page|level|day|week|room|step|unit|module|lesson|season|episode|part|class|year|version"
    r"|niveau|jour|semaine|chambre|etape|lecon|saison|partie|chapitre|annee|classe|secondaire|sec|no|#)\.?\s*\Z"
)
_EVERYDAY_NAME = (
    rf"(?:(?:de la|du|des|de|la|le)\s+|d'|l')?(?!(?:{_COUNTED})\b)[a-z][a-z'-]*"
    rf"(?:\s+(?!(?:{_COUNTED})\b)[a-z][a-z'-]*)?"
)
_EVERYDAY_NUMBER = r"\d(?<![\w.,]\d)\d{0,4}(?:-\d{1,5})?(?![\w.,]\d)"
# "unit" alone is often a military or course unit: it counts after a comma only ("42 maple, unit 3")
_EVERYDAY_UNIT = (
    r"(?:(?<=,)\s+unit|\s+(?:apt|apartment|appt|app|appart|appartement|suite|logement|log))\b\.?\s*#?\d{1,5}[a-z]?\b"
)
_EVERYDAY_DIRECTION = r"(?:north|south|east|west|nord|sud|ouest)\b(?![-'])(?!\s+(?:of|side|end|coast|de|du|d')\b)"
EVERYDAY_ADDRESS = re.compile(
    rf"{_EVERYDAY_NUMBER},?\s+{_EVERYDAY_NAME}"
    rf"(?:,?{_EVERYDAY_UNIT}|\s+{_EVERYDAY_DIRECTION}(?:,?{_EVERYDAY_UNIT})?|\s+est,?{_EVERYDAY_UNIT})"
)
ADDRESS_CUES = ("live at", "living at", "staying at", "my address is", "my address's", "my place is at",
                "habite au", "habite a", "reste au", "demeure au", "vis au", "mon adresse")  # fmt: skip
CUED_ADDRESS = re.compile(
    r"(?:live at|living at|staying at|my address is|my address's|my place is at|habite au|habite a|reste au"
    r"|demeure au|vis au|mon adresse(?: est| c'est|\s*:))\s+"
    rf"(?P<address>{_EVERYDAY_NUMBER},?\s+{_EVERYDAY_NAME}(?:\s+(?:{_EVERYDAY_DIRECTION}|est\b(?![-'])))?"
    rf"(?:,?{_EVERYDAY_UNIT})?)\b"
)
# The words an everyday address needs (a unit or a direction): found by the lexicon pass, they
# decide whether EVERYDAY_ADDRESS is tried at all.
ADDRESS_SIGNS = ("apt", "apartment", "appt", "app", "appart", "appartement", "unit", "suite", "logement", "log",
                 "north", "south", "east", "west", "nord", "sud", "ouest", "est")  # fmt: skip

_MONTHS_EN = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
)
_MONTHS_FR = (
    "janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre"
    "|janv|fevr|fev|avr|juil|sept|oct|nov|dec"
)
_DATE = (
    r"\d{4}[/.-]\d{1,2}[/.-]\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
    rf"|(?:{_MONTHS_EN})\b\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS_EN})\b\.?(?:,?\s+\d{{4}})?"
    rf"|(?:1er|\d{{1,2}})\s+(?:{_MONTHS_FR})\b\.?(?:\s+\d{{4}})?"
)
BIRTH_DATE = re.compile(
    r"\b(?:born|dob|d\.o\.b|date of birth|birth ?date|birthday|bday|b-day|nee?|ne\(e\)"
    r"|date de naissance|ddn|anniversaire|fete)\b\.?"
    r"(?:\s*(?:is|was|:|on|in|the|le|en|est|c'est|=|-)\s*)*"
    rf"(?P<date>{_DATE}|(?<=in )\d{{4}}\b|(?<=en )\d{{4}}\b)"
)

# The words BIRTH_DATE and MILITARY_NAMED start with: found by the lexicon pass, they are
# where those patterns are tried (see _matches_at).
BIRTH_CUES = ("born", "dob", "d.o.b", "date of birth", "birth date", "birthdate", "birthday", "bday",
              "b-day", "ne", "nee", "ne(e)", "date de naissance", "ddn", "anniversaire", "fete")  # fmt: skip
MILITARY_PREFIXES = ("cfb", "bfc", "cfs", "sfc", "asu", "ussfc", "base", "garrison", "garnison",
                     "hmcs", "ncsm", "nca", "cgs")  # fmt: skip
MILITARY_NAMED = re.compile(
    r"\b(?i:cfb|bfc|cfs|sfc|asu|ussfc|base|garrison|garnison)\s+[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?"
    r"|\b(?i:hmcs|ncsm|nca|cgs)\s+(?:(?i:st\.?|ville de|de)\s+)?[A-Z][\w'.-]+(?:\s+[A-Z][\w'.-]+)?"
)
MILITARY_NUMBERED = re.compile(
    r"\d(?<!\w\d)(?:\d?\s*(?i:wing|escadre)\b(?:\s+[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?)?"
    r"|\d{0,2}(?i:st|nd|rd|th|e|er|re)?\s+(?i:field ambulance|ambulance de campagne"
    r"|service battalion|svc bn|bataillon des services|cmbg|gbmc|canadian division|cdn div"
    r"|division du canada|squadron|sqn|escadron|escadrille|field regiment|combat engineer"
    r" regiment|cer|rge|health services|military police|signal regiment|regiment)\b)"
)


class PiiDetector:
    """All personal-information detectors, their lexicons built once."""

    def __init__(self) -> None:
        first_names = {form for word in read_words("first_names.txt") for form in expand(word)}
        surnames = {form for word in read_words("surnames.txt") for form in expand(word)}
        self._ambiguous_names = {form for word in read_words("ambiguous_names.txt") for form in expand(word)}
        self._first_names = first_names
        self._surnames = surnames
        cues = [(form, row[1]) for row in read_rows("name_cues.tsv") for form in expand(row[0])]
        entries: list[tuple[str, tuple[str, Any]]] = [(form, ("cue", strength)) for form, strength in cues]
        for row in read_rows("places_ca.tsv"):
            kind = "pii.region" if row[1] == "region" else "pii.place"
            severity = 1 if kind == "pii.region" else 2
            ambiguous = len(row) > 2 and row[2] == "ambiguous"
            entries += [(form, ("place", (kind, severity, ambiguous))) for form in expand(row[0])]
        entries += [(form, ("place", ("pii.military", 2, False)))
                    for word in read_words("military_ca.txt") for form in expand(word)]  # fmt: skip
        entries += [(form, ("place_cue", None))
                    for word in read_words("place_cues.txt") for form in expand(word)]  # fmt: skip
        entries += [(word, ("platform", None)) for word in PLATFORMS]
        entries += [(word, ("military_prefix", None)) for word in MILITARY_PREFIXES]
        entries += [(word, ("birth_cue", None)) for word in BIRTH_CUES]
        entries += [(word, ("address_sign", None)) for word in ADDRESS_SIGNS]
        entries += [(form, ("address_cue", None)) for cue in ADDRESS_CUES for form in expand(cue)]
        self.entries = entries  # matched by the engine's word matcher
        self._locatives = {form for word in read_words("locatives.txt") for form in expand(word)}
        self._nanp_patterns = _number_patterns("CA") + _number_patterns("US")
        self._french_patterns = _number_patterns("FR")
        self._not_places = {form for word in read_words("not_places.txt") for form in expand(word)}
        self._rank_cues = {phrase for phrase, strength in cues if strength == "rank"}

    def find(self, norm: Normalized, words: list[WordHit]) -> list[Hit]:
        """Findings; words are the hits of this detector's lexicon entries on norm.lower."""
        text, cased = norm.lower, norm.cased
        hits: list[Hit] = []
        if "@" in text:
            hits += [("pii.email", 3, m.start(), m.end()) for m in EMAIL.finditer(text, _user_start(text))]
        hits += [("pii.url", 2, start, end) for start, end in find_urls(text)]
        found: dict[str, list[tuple[int, int, Any]]] = {
            "cue": [], "place": [], "place_cue": [], "platform": [], "military_prefix": [], "birth_cue": [],
            "address_sign": [], "address_cue": [],
        }  # fmt: skip
        for start, end, (group, payload) in words:
            found[group].append((start, end, payload))
        hits += list(self._handles(text, bool(found["platform"])))
        digits = sum(map(text.count, "0123456789"))  # every remaining structured kind has digits
        if digits >= 7:
            hits += list(self._phones(norm))
        if digits >= 9:
            hits += [("pii.sin", 3, m.start(), m.end()) for m in SIN.finditer(text)
                     if _is_sin(m.group())]  # fmt: skip
        if digits >= 3:
            hits += [("pii.postal_code", 2, m.start(), m.end())
                     for m in POSTAL_CODE.finditer(text)]  # fmt: skip
        if digits:
            hits += [("pii.address", 3, _unit_start(cased, m.start()), m.end())
                     for m in ADDRESS.finditer(cased)]  # fmt: skip
            hits += [("pii.address", 3, m.start(), m.end()) for m in LOWERCASE_ADDRESS.finditer(cased)
                     if m.group("unit_before") or m.group("direction") or m.group("unit")]  # fmt: skip
            if found["address_sign"]:
                hits += [("pii.address", 3, m.start(), m.end()) for m in EVERYDAY_ADDRESS.finditer(text)
                         if not COUNTING_BEFORE.search(text, max(0, m.start() - 12), m.start())]  # fmt: skip
            hits += [("pii.address", 3, m.start("address"), m.end("address"))
                     for m in _matches_at(CUED_ADDRESS, text, found["address_cue"])]  # fmt: skip
            hits += [("pii.birth_date", 2, m.start("date"), m.end("date"))
                     for m in _matches_at(BIRTH_DATE, text, found["birth_cue"])]  # fmt: skip
            hits += [("pii.military", 2, m.start(), m.end())
                     for m in MILITARY_NUMBERED.finditer(cased)]  # fmt: skip
        hits += [("pii.military", 2, m.start(), m.end())
                 for m in _matches_at(MILITARY_NAMED, cased, found["military_prefix"])]  # fmt: skip
        hits += list(self._places_found(norm, found["place"]))
        hits += list(self._places_after_cues(norm, found["place_cue"]))
        hits += list(self._names(norm, found["cue"]))
        return _without_contained(hits)

    def _handles(self, text: str, platform_named: bool) -> Iterator[Hit]:
        at, user = "@" in text, "u/" in text
        if at or user:
            for match in (HANDLE if at and user else AT_HANDLE if at else USER_HANDLE).finditer(text):
                yield "pii.handle", 3, match.start(), match.end()
        if not platform_named:
            return
        for match in PLATFORM_HANDLE.finditer(text):
            handle = match.group("handle").rstrip(".")
            if handle not in NOT_HANDLES:
                start = match.start("handle")
                yield "pii.handle", 3, start, start + len(handle)

    def _phones(self, norm: Normalized) -> Iterator[Hit]:
        for match in PHONE.finditer(norm.lower):
            candidate = match.group()
            start, end = norm.span(match.start(), match.end())
            spelled = any(char.isalpha() for char in norm.original[start:end])
            spelled = spelled or PHONE_CUE.search(norm.lower, max(0, match.start() - 30),
                                                  match.start()) is not None  # fmt: skip
            if self._is_phone(candidate, re.sub(r"\D", "", candidate), spelled):
                yield "pii.phone", 3, match.start(), match.end()

    def _is_phone(self, candidate: str, digits: str, spelled: bool) -> bool:
        """Valid by phonenumbers' metadata, in phone groups, spelled out or announced."""
        if candidate.startswith(("+", "00")):
            return 8 <= len(digits) <= 15
        if len(digits) == 7:
            return LOCAL_PHONE.fullmatch(candidate) is not None
        if len(digits) == 10 and digits[0] == "0":
            patterns, grouped = self._french_patterns, FRENCH_GROUPS.fullmatch(candidate)
            digits = digits[1:]
        elif len(digits) == 10 or (len(digits) == 11 and digits[0] == "1"):
            patterns, grouped = self._nanp_patterns, NANP_GROUPS.fullmatch(candidate)
            digits = digits[-10:]
        else:
            return False
        return spelled or grouped is not None or any(p.fullmatch(digits) for p in patterns)

    def _places_found(self, norm: Normalized, places: list[tuple[int, int, Any]]) -> Iterator[Hit]:
        for start, end, (kind, severity, ambiguous) in longest_first(places):
            if ambiguous and not (norm.cased[start].isupper() and self._after_locative(norm.lower, start)):
                continue
            yield kind, severity, start, end

    def _places_after_cues(self, norm: Normalized, cues: list[tuple[int, int, Any]]) -> Iterator[Hit]:
        """Capitalized words after "I live in", "je viens de": a place, known or not."""
        for _, end, _ in cues:
            if not _next_is_capital(norm.cased, end):
                continue
            tokens = list(islice(_tokens_after(norm.cased, end), 3))
            words = [t for t in tokens if t[2][0].isupper() or t[2].lower() in PLACE_LINKS]
            if not words or not words[0][2][0].isupper():
                continue
            last = 0
            for index, token in enumerate(words):
                if token is not tokens[index] or token[2].lower() in self._not_places:
                    break
                if token[2][0].isupper():
                    last = index + 1
            if last:
                yield "pii.place", 2, words[0][0], words[last - 1][1]

    def _after_locative(self, text: str, start: int) -> bool:
        before = text[max(0, start - 24) : start].split()
        return any(" ".join(before[-n:]) in self._locatives for n in (1, 2, 3))

    def _names(self, norm: Normalized, cues: list[tuple[int, int, Any]]) -> Iterator[Hit]:
        cased = norm.cased
        named_until = 0
        for _, end, strength in cues:
            if strength != "strong" and not _next_is_capital(cased, end):
                continue
            tokens = list(islice(_tokens_after(cased, end), 3))
            if not tokens or tokens[0][0] < named_until:
                continue
            span = self._name_after_cue(tokens, strength)
            if span:
                named_until = span[1]
                yield "pii.name", 2, span[0], span[1]
        for match in CAPITALIZED_PAIR.finditer(cased):
            if match.start() < named_until or (match.start() and cased[match.start() - 1].isalnum()):
                continue
            first = match.group(1).lower()
            listed = first in self._first_names and first not in self._ambiguous_names
            if listed and self._is_surname(match.group(2)):
                named_until = match.end()
                yield "pii.name", 2, match.start(), match.end()

    def _name_after_cue(self, tokens: list[tuple[int, int, str]], strength: str) -> tuple[int, int] | None:
        start, end, word = tokens[0]
        low = word.lower()
        if low in self._rank_cues:
            return None
        capitalized = word[0].isupper()
        known = low in self._first_names or low in self._surnames
        if strength == "strong":
            accepted = capitalized or (known and low not in self._ambiguous_names)
        elif strength == "rank":
            accepted = capitalized
        else:
            surname_follows = len(tokens) > 1 and self._is_surname(tokens[1][2])
            accepted = (
                capitalized and low in self._first_names and (low not in self._ambiguous_names or surname_follows)
            )
        if not accepted:
            return None
        for next_start, next_end, next_word in tokens[1:3]:
            if next_start - end > 1 or not self._is_surname(next_word):
                break
            end = next_end
        return start, end

    def _is_surname(self, word: str) -> bool:
        low = word.lower()
        return word[0].isupper() and (low in self._surnames or low in self._first_names)


def may_hold_structured(text: str) -> bool:
    """False when the text can hold no phone number, SIN, postal code, address, email, link or handle: a test
    that costs far less than normalizing and reading the text (PiiDetector.find), and that never says False
    where the detectors find one of these."""
    lower = fold_characters(text).lower()
    if STRUCTURED_MARK.search(lower) or DOT_TLD_MARK.search(lower) or SPACED_HINT.search(lower):
        return True
    if ("u/" in lower or "://" in lower or "www." in lower) and LINK_MARK.search(lower):
        return True
    words = set(WORD_RUN.findall(lower))
    if not PLATFORM_WORDS.isdisjoint(words):
        return True
    if not DOT_WORDS.isdisjoint(words) and DOT_WORD_TLD.search(lower):
        return True
    return not NUMBER_WORDS.isdisjoint(words) and any(count >= 3 for count, _, _ in number_word_runs(lower))


@lru_cache(maxsize=64)
def find_urls(text: str) -> tuple[tuple[int, int], ...]:
    """Spans of links in the normalized text, without trailing punctuation.

    Candidates are found from their cheapest sure signs ("://", "www.", ".com") and the
    URL pattern is matched from the start of the word around them.
    """
    anchors = [m.start() for m in DOT_TLD.finditer(text)]
    anchors += [m.start() for m in URL_SIGN.finditer(text)] if "://" in text or "www." in text else []
    spans: list[tuple[int, int]] = []
    for anchor in sorted(anchors):
        if spans and anchor < spans[-1][1]:
            continue
        start = URL_START.search(text, max(0, anchor - 100), anchor)
        match = URL.match(text, start.start() if start else anchor)
        if match and match.end() > anchor:
            end = match.end()
            while text[end - 1] in URL_TRAILING:
                end -= 1
            spans.append((match.start(), end))
    return tuple(spans)


PLACE_LINKS = frozenset({"de", "du", "des", "la", "le", "sur", "en", "of", "the"})
CAPITALIZED_PAIR = re.compile(r"([A-Z][A-Za-z'-]*[a-z]) ([A-Z][A-Za-z'-]*[a-z])(?![\w])")
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|[A-Za-z]")


def _next_is_capital(text: str, position: int) -> bool:
    """Whether the next word after position (past spaces and a dot) starts with a capital."""
    for char in text[position : position + 4]:
        if char not in " .,:":
            return char.isupper()
    return False


def _tokens_after(text: str, position: int) -> Iterator[tuple[int, int, str]]:
    """Words right after a position, skipping a dot and spaces ("Sgt. Tremblay")."""
    for match in WORD.finditer(text, position, min(len(text), position + 60)):
        gap = text[position : match.start()]
        if gap.strip(" .,:") or len(gap) > 3:
            return
        yield match.start(), match.end(), match.group()
        position = match.end()


def _number_patterns(region: str) -> list[re.Pattern[str]]:
    """phonenumbers' patterns of valid national numbers (fixed, mobile, toll free, VoIP)."""
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        return []
    described = (metadata.fixed_line, metadata.mobile, metadata.toll_free, metadata.voip)
    return [
        re.compile(desc.national_number_pattern)
        for desc in described
        if desc is not None and desc.national_number_pattern
    ]


def _matches_at(pattern: re.Pattern[str], text: str, words: list[tuple[int, int, Any]]) -> Iterator[re.Match[str]]:
    """What pattern.finditer(text) finds, when every match starts at one of the words."""
    end = 0
    for start in sorted({word[0] for word in words}):
        match = pattern.match(text, start) if start >= end else None
        if match:
            end = match.end()
            yield match


def _user_start(text: str) -> int:
    """Where the characters an email's user part is made of start, before the first "@": no email starts before."""
    start = text.index("@")
    while start and text[start - 1] in USER_CHARACTERS:
        start -= 1
    return start


def _unit_start(text: str, start: int) -> int:
    """Where an address starting at start begins when a unit number comes first."""
    unit = UNIT_BEFORE.search(text, max(0, start - 24), start)
    return unit.start() if unit else start


def _is_sin(number: str) -> bool:
    digits = [int(char) for char in number if char.isdigit()]
    total = 0
    for index, digit in enumerate(digits):
        doubled = digit * 2 if index % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def _without_contained(hits: list[Hit]) -> list[Hit]:
    """Drop hits inside a longer one (the city in "CFB Petawawa", the name in an email)."""
    kept: list[Hit] = []
    for hit in hits:
        inside = any(
            other[2] <= hit[2] and hit[3] <= other[3] and other[3] - other[2] > hit[3] - hit[2] for other in hits
        )
        same_span = any(other[2:] == hit[2:] for other in kept)
        if not inside and not same_span:
            kept.append(hit)
    return kept
