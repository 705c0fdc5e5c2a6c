"""Build the labelled evaluation corpus for the policies, reproducibly from a seed.

Messages are assembled from templates whose slots are filled by Faker (en_CA and fr_CA
providers) and from hand-written lists in this file; some values are disguised the way
members evade filters (spelled digits, "at"/"dot", look-alike letters, spacing). The
hand-written hard cases in hard_cases.tsv are added as they are. Place names, units and
risk statements here are written independently of the detectors' lexicons; the places
list deliberately includes towns the gazetteer does not know.

Usage: python tests/eval/build_corpus.py [--seed 7] [--per-language 1000] > corpus.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from faker import Faker

HARD_CASES = Path(__file__).with_name("hard_cases.tsv")
MARKUP = re.compile(r"\[\[([\w.]+)\|(.*?)\]\]")


@dataclass
class Sample:
    language: str
    text: str
    pii: list[tuple[str, int, int]] = field(default_factory=list)  # kind, start, end
    risk: str | None = None  # risk category, or None
    safe_lookalike: bool = False
    origin: str = "generated"


PLACES = {
    "en": ["Halifax", "Kingston", "Petawawa", "Oromocto", "Moose Jaw", "Red Deer", "Nanaimo",
           "Comox", "Thunder Bay", "Sudbury", "Barrie", "Guelph", "Lethbridge", "Kelowna",
           "Brandon", "Cold Lake", "Yellowknife", "Whitehorse", "Iqaluit", "Saskatoon",
           "Fredericton", "Moncton", "Charlottetown", "Corner Brook", "Gander", "Truro",
           "Smiths Falls", "Carleton Place", "Rocky Mountain House", "Port Hawkesbury",
           "Sylvan Lake", "Gibsons", "Innisfil", "Lacombe", "Antigonish", "Pictou"],
    "fr": ["Québec", "Montréal", "Lévis", "Sherbrooke", "Trois-Rivières", "Saguenay",
           "Rimouski", "Gatineau", "Valcartier", "Shannon", "Saint-Jean-sur-Richelieu",
           "Drummondville", "Granby", "Joliette", "Sept-Îles", "Rouyn-Noranda", "Gaspé",
           "Baie-Saint-Paul", "Rivière-Rouge", "Saint-Raymond", "Matane", "Alma",
           "Victoriaville", "Magog", "Mont-Laurier", "Amqui", "Edmundston", "Caraquet"],
}  # fmt: skip
REGIONS = {
    "en": ["Ontario", "Nova Scotia", "British Columbia", "Alberta", "Manitoba", "Nunavut"],
    "fr": ["Québec", "Nouveau-Brunswick", "Ontario", "Gaspésie", "Abitibi", "Outaouais"],
}
MILITARY = {
    "en": ["CFB Petawawa", "CFB Gagetown", "CFB Esquimalt", "CFB Borden", "CFB Shilo",
           "CFB Wainwright", "8 Wing Trenton", "14 Wing Greenwood", "19 Wing Comox",
           "4 Wing Cold Lake", "HMCS Halifax", "HMCS Winnipeg", "HMCS Regina",
           "HMCS Charlottetown", "HMCS Victoria", "1 RCR", "2 PPCLI", "3 PPCLI", "the RCR",
           "Lord Strathcona's Horse", "the Royal Canadian Dragoons", "JTF2", "CSOR",
           "1 CMBG", "2 Service Battalion", "the Black Watch", "Seaforth Highlanders",
           "1 Field Ambulance", "Canadian Rangers", "RMC"],
    "fr": ["BFC Valcartier", "BFC Bagotville", "3 Escadre Bagotville", "le R22eR",
           "le 3e R22eR", "le 12e RBC", "le 5e RALC", "la 5e GBMC", "NCSM Ville de Québec",
           "NCSM Montréal", "les Voltigeurs de Québec", "le Régiment de la Chaudière",
           "les Fusiliers Mont-Royal", "le Royal 22e Régiment", "CMR Saint-Jean",
           "BFC Montréal", "5 Ambulance de campagne", "les Rangers canadiens"],
}  # fmt: skip
# English street addresses as Canada Post writes them (Faker's en_CA street suffixes are US
# ones: "Trafficway", "Knolls"). Street types are Canada Post's, in full or abbreviated,
# chosen without regard to what the detector knows.
STREET_TYPES_EN = [
    "Street",
    "St",
    "St.",
    "Avenue",
    "Ave",
    "Road",
    "Rd",
    "Drive",
    "Dr",
    "Boulevard",
    "Blvd",
    "Crescent",
    "Cres",
    "Court",
    "Crt",
    "Lane",
    "Ln",
    "Way",
    "Place",
    "Pl",
    "Terrace",
    "Terr",
    "Circle",
    "Trail",
    "Parkway",
    "Gate",
    "Grove",
    "Heights",
    "Square",
    "Close",
    "Row",
    "Path",
    "Ridge",
    "Gardens",
    "Private",
    "Mews",
]
NUMBERED_ROUTES_EN = ["Highway", "Hwy", "Route", "Concession", "Line", "Sideroad", "County Road"]
QUEBEC_TYPES = ["Rue", "rue", "Chemin", "Rang", "Montée", "boul."]  # in English messages too
STREET_NAMES_EN = [
    "Main",
    "King",
    "Queen",
    "Church",
    "Maple",
    "Oak",
    "Pine",
    "Elm",
    "Victoria",
    "Wellington",
    "Bank",
    "Yonge",
    "Dundas",
    "Bay",
    "Water",
    "Front",
    "Albert",
    "Princess",
    "Lakeshore",
    "Spring Garden",
    "Portage",
    "Jasper",
    "Granville",
    "Mill",
    "Cedar",
    "Birch",
    "First",
    "2nd",
    "5th",
    "10th",
    "Saint George",
]
DIRECTIONS_EN = ["", "", "", "", " West", " E", " W", " N", " South", " NW"]
UNITS_EN = ["apt {}", "Apt. {}", "unit {}", "Unit {}", "#{}", "suite {}"]
# First names from outside the Faker locales the detector's lists come from.
OTHER_FIRST_NAMES = ["Kwame", "Thandiwe", "Oluwaseun", "Chidi", "Anh", "Bao", "Yuki", "Hiroshi",
                     "Sione", "Mateus", "Ingrid", "Astrid", "Dariusz", "Zofia", "Tariq", "Noor",
                     "Elif", "Emre", "Kofi", "Ama", "Tenzin", "Pema", "Rangi", "Aroha"]  # fmt: skip

PII_TEMPLATES = {
    "en": [
        "Hi all, my name is {name} and this is my first time posting here.",
        "I'm {first_known} by the way, been lurking for a while.",
        "Sgt. {last} was in charge of our section back then.",
        "Capt. {last} told me to keep quiet about it.",
        "{name} was my supervisor when it started.",
        "my friend {first_known} says I should talk to someone here",
        "If anyone wants to talk outside the app, email me at {email}",
        "you can text me at {phone} any time",
        "my cell is {phone}, call after 6",
        "I'm not sure what postal code to use, mine is {postal}",
        "The VAC form asked for my SIN, {sin}, is that normal?",
        "check this out {url}",
        "I found this article {url} really helpful",
        "follow me on insta {handle}",
        "I live at {address} now, a small apartment.",
        "mail it to {address} please",
        "my DOB is {dob_en}, if it matters for the group",
        "I was born on {dob_en} so I'm older than most here",
        "I moved to {place} last year after my release.",
        "I'm from {place} originally, small place.",
        "things are hard here in {region}",
        "I was posted to {military} for four years.",
        "I served with {military} before my release.",
    ],
    "fr": [
        "Bonjour, je m'appelle {name} et c'est mon premier message.",
        "Moi c'est {first_known}, je lis le groupe depuis un bout.",
        "Sgt. {last} était responsable de notre section.",
        "L'Adj. {last} m'a dit de me taire.",
        "{name} était mon superviseur quand ça a commencé.",
        "mon amie {first_known} m'a conseillé de venir ici",
        "Si quelqu'un veut jaser hors de l'appli, écrivez-moi à {email}",
        "texte-moi au {phone} n'importe quand",
        "mon cell c'est le {phone}, appelle après 18 h",
        "Mon code postal c'est {postal}, je sais pas si ça compte",
        "Le formulaire d'ACC demande mon NAS, {sin}, c'est normal?",
        "regardez ça {url}",
        "j'ai trouvé cet article utile {url}",
        "suivez-moi sur insta {handle}",
        "J'habite au {address} maintenant, un petit appartement.",
        "envoie-le au {address} svp",
        "ma date de naissance est le {dob_fr}, si ça compte",
        "je suis né le {dob_fr}, donc plus vieux que vous autres",
        "J'ai déménagé à {place} l'an passé après ma libération.",
        "Je viens de {place} à l'origine, un petit coin.",
        "c'est dur ici en {region}",
        "J'ai été en poste à {military} pendant quatre ans.",
        "J'ai servi avec {military} avant ma libération.",
    ],
}
SLOT_KINDS = {
    "name": "pii.name", "first_known": "pii.name", "last": "pii.name", "email": "pii.email",
    "phone": "pii.phone", "postal": "pii.postal_code", "sin": "pii.sin", "url": "pii.url",
    "handle": "pii.handle", "address": "pii.address", "dob_en": "pii.birth_date",
    "dob_fr": "pii.birth_date", "place": "pii.place", "region": "pii.region",
    "military": "pii.military",
}  # fmt: skip

# Risk statements written as members write them, independently of the lexicon.
RISK_STATEMENTS = {
    "en": [
        ("suicide_passive", "I honestly wish I was dead most days"),
        ("suicide_passive", "some nights I want to die"),
        ("suicide_passive", "I don't want to live anymore"),
        ("suicide_passive", "everyone would be better off without me"),
        ("suicide_passive", "there's no reason to live since I got out"),
        ("suicide_passive", "I can't go on like this"),
        ("suicide_passive", "I'd rather not be alive"),
        ("suicide_passive", "I'm having suicidal thoughts again"),
        ("suicide_active", "I'm thinking about ending my life"),
        ("suicide_active", "I want to kill myself"),
        ("suicide_active", "I'm going to end it tonight"),
        ("suicide_active", "I've decided to take my own life"),
        ("suicide_active", "this is my goodbye to all of you"),
        ("suicide_active", "I keep planning to kill myself"),
        ("plan_or_means", "I bought the rope last week"),
        ("plan_or_means", "I have enough pills saved up"),
        ("plan_or_means", "I keep looking at my rifle, it's loaded"),
        ("plan_or_means", "I think about jumping off the bridge every drive home"),
        ("plan_or_means", "I'm going to hang myself in the garage"),
        ("self_harm", "I cut my arms again last night"),
        ("self_harm", "I've been hurting myself again"),
        ("self_harm", "I started cutting again after the hearing"),
        ("self_harm", "I keep hitting my head against the wall when it gets bad"),
        ("abuse_disclosure", "my section commander raped me on course"),
        ("abuse_disclosure", "I was sexually assaulted at my first unit"),
        ("abuse_disclosure", "he beats me when he's drunk"),
        ("abuse_disclosure", "I don't feel safe at home with him"),
        ("abuse_disclosure", "my husband chokes me when he's angry"),
        ("violence_to_others", "I'm going to kill him when I see him"),
        ("violence_to_others", "I want to hurt someone so bad"),
        ("violence_to_others", "I swear I'll shoot him"),
        ("overdose", "I took all my pills an hour ago"),
        ("overdose", "I swallowed the whole bottle of sleeping pills"),
        ("overdose", "I think I overdosed, I can't feel my hands"),
        ("overdose", "I've been mixing pills and booze all night"),
    ],
    "fr": [
        ("suicide_passive", "j'ai envie de mourir la plupart du temps"),
        ("suicide_passive", "je ne veux plus vivre"),
        ("suicide_passive", "tout le monde serait mieux sans moi"),
        ("suicide_passive", "j'ai plus aucune raison de vivre"),
        ("suicide_passive", "je voudrais être morte"),
        ("suicide_passive", "j'en peux plus de cette vie"),
        ("suicide_passive", "j'ai des pensées suicidaires encore"),
        ("suicide_active", "je pense à me suicider"),
        ("suicide_active", "je vais me tuer ce soir"),
        ("suicide_active", "je veux mettre fin à mes jours"),
        ("suicide_active", "c'est mon dernier message"),
        ("suicide_active", "je vais en finir cette fin de semaine"),
        ("plan_or_means", "j'ai acheté des pilules pour le faire"),
        ("plan_or_means", "mon arme est chargée à côté de moi"),
        ("plan_or_means", "je pense à me jeter du pont"),
        ("plan_or_means", "je vais me pendre dans le garage"),
        ("self_harm", "je me suis coupée encore hier"),
        ("self_harm", "j'ai recommencé à me scarifier"),
        ("self_harm", "je me fais du mal quand ça va pas"),
        ("abuse_disclosure", "mon caporal m'a violée pendant le cours"),
        ("abuse_disclosure", "j'ai été agressée sexuellement à ma première unité"),
        ("abuse_disclosure", "mon mari me frappe quand il boit"),
        ("abuse_disclosure", "je me sens pas en sécurité chez moi"),
        ("violence_to_others", "je vais le tuer si je le croise"),
        ("violence_to_others", "j'ai envie de tirer sur tout le monde au bureau"),
        ("overdose", "j'ai pris toutes mes pilules tantôt"),
        ("overdose", "j'ai avalé une poignée de somnifères"),
        ("overdose", "je pense que j'ai fait une surdose"),
    ],
}
SAFE_LOOKALIKES = {
    "en": [
        "I'm just killing time before group",
        "I'm dying to see that show",
        "how do I kill a process on my laptop",
        "this traffic is killing me",
        "my back is killing me after the move",
        "you killed it at the meeting",
        "I almost died laughing",
        "that poutine was to die for",
        "I overdosed on coffee today",
        "my phone is dying, brb",
        "I cut myself shaving, ouch",
        "I have hope for this week",
        "will you be there on Friday?",
        "I'm frank about my progress",
        "I finished the suicide prevention course",
        "we watched Suicide Squad again",
        "I don't want to hurt her feelings",
        "the pills my doctor prescribed are helping",
        "I took my meds on time today",
        "the old base is closed now",
        "I'm not going anywhere, I'm staying in the program",
        "I'd die for my kids, honestly",
        "the game killed the vibe lol",
        "my plants are dying, any tips?",
        "that exam killed me",
        "I'm so dead tired",
        "I could eat a horse",
        "I want to kill this cough",
        "it's a mission to get an appointment",
        "May is a hard month for me",
        "I'm hoping to see the grace period extended",
        "my dog Buddy is the best",
        "we read page 12 of the workbook",
        "I paid 45 dollars for the parking",
        "the wait was 3 to 4 hours",
    ],
    "fr": [
        "je suis mort de rire",
        "on tue le temps avant le groupe",
        "je meurs de faim",
        "ça me tue, ce trafic",
        "tu vas me tuer avec tes blagues",
        "ma batterie est morte",
        "je dois me couper les cheveux",
        "je veux en finir avec ce formulaire",
        "overdose de café ce matin",
        "je meurs d'envie de voir le show",
        "j'ai de l'espoir cette semaine",
        "la formation en prévention du suicide était bonne",
        "mes pilules du médecin m'aident",
        "j'ai pris mes médicaments à l'heure",
        "la base de données est lente",
        "je suis crevée après le déménagement",
        "mes plantes meurent, des conseils?",
        "cet examen m'a tuée",
        "je reste dans le programme, je lâche pas",
        "le rose me va bien",
        "un, deux, trois, on respire",
        "la séance coûte 40 dollars",
        "l'attente était de 3 à 4 heures",
        "Guy du dépanneur est gentil",
        "je suis crevé de fatigue",
        "la mission de la semaine : dormir",
    ],
}
FILLERS = {
    "en": (["", "", "Honestly, ", "Not sure if this is the place but ", "Update: ",
            "Sorry for the long post. ", "Hey everyone. "],
           ["", "", ".", "...", " and I don't know what to do.", " Thanks for listening.",
            " Anyway, that's where I'm at."]),
    "fr": (["", "", "Honnêtement, ", "Je sais pas si c'est la place mais ", "Mise à jour : ",
            "Désolée pour le long message. ", "Salut tout le monde. "],
           ["", "", ".", "...", " et je sais pas quoi faire.", " Merci de m'écouter.",
            " Bref, c'est là que j'en suis."]),
}  # fmt: skip
DIGIT_WORDS = {
    "en": "zero one two three four five six seven eight nine".split(),
    "fr": "zéro un deux trois quatre cinq six sept huit neuf".split(),
}
MONTHS_FR = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre"]  # fmt: skip
LOOKALIKE = str.maketrans({"a": "а", "e": "е", "o": "о", "c": "с", "p": "р"})


class Generator:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.fakers = {"en": Faker("en_CA"), "fr": Faker("fr_CA")}
        self.other = Faker("en")  # first names outside the detector's name lists
        for index, faker in enumerate((*self.fakers.values(), self.other)):
            faker.seed_instance(seed + index)
        # English addresses draw from their own streams, so the rest of the corpus does not
        # depend on how they are made.
        self.address_random = random.Random(seed + 10)
        self.address_faker = Faker("en_CA")
        self.address_faker.seed_instance(seed + 10)

    def sample_pii(self, language: str) -> Sample:
        template = self.random.choice(PII_TEMPLATES[language])
        return self._fill(language, self._wrap(language, template))

    def _wrap(self, language: str, core: str) -> str:
        before, after = FILLERS[language]
        text = self.random.choice(before) + core
        return text + self.random.choice(after) if text[-1] not in ".?!" else text

    def _fill(self, language: str, template: str) -> Sample:
        text, spans, position = "", [], 0
        for match in re.finditer(r"\{(\w+)\}", template):
            text += template[position : match.start()]
            value = self._value(language, match.group(1))
            spans.append((SLOT_KINDS[match.group(1)], len(text), len(text) + len(value)))
            text += value
            position = match.end()
        text += template[position:]
        return Sample(language, text, spans)

    def _value(self, language: str, slot: str) -> str:
        faker, pick = self.fakers[language], self.random.random()
        if slot in ("name", "first_known", "last"):
            first = faker.first_name() if pick < 0.8 else self.random.choice(OTHER_FIRST_NAMES)
            if slot == "first_known":
                return faker.first_name()
            return faker.last_name() if slot == "last" else f"{first} {faker.last_name()}"
        if slot == "email":
            email = faker.free_email() if pick < 0.5 else faker.email()
            return self._disguise_email(language, email) if self.random.random() < 0.4 else email
        if slot == "phone":
            digits = re.sub(r"\D", "", self.fakers["en"].numerify("%##-###-####"))
            if pick < 0.2:
                words = [DIGIT_WORDS[language][int(d)] for d in digits]
                return f"{' '.join(words[:3])}, {' '.join(words[3:6])}, {' '.join(words[6:])}"
            if language == "fr" and pick < 0.4:
                return (
                    "0"
                    + str(self.random.choice([1, 6, 7]))
                    + " "
                    + " ".join(f"{self.random.randint(0, 99):02d}" for _ in range(4))
                )
            formats = ("{}-{}-{}", "({}) {}-{}", "{}.{}.{}", "{} {} {}", "1-{}-{}-{}", "{}{}{}")
            return self.random.choice(formats).format(digits[:3], digits[3:6], digits[6:])
        if slot == "postal":
            code = self.fakers["en"].postcode()
            return code.replace(" ", "") if pick < 0.3 else (code.lower() if pick < 0.45 else code)
        if slot == "sin":
            sin = self.fakers["en"].ssn()
            return sin.replace(" ", "-") if pick < 0.3 else sin
        if slot == "url":
            if pick < 0.3:
                site = self.random.choice(["instagram.com", "facebook.com", "tiktok.com/@"])
                return f"{site}/{faker.user_name()}".replace("@/", "@")
            return faker.url() if pick < 0.7 else faker.domain_name()
        if slot == "handle":
            return "@" + faker.user_name()
        if slot == "address":
            if language == "en":
                return self._english_address()
            return f"{faker.building_number()} {faker.street_name()}"
        if slot in ("dob_en", "dob_fr"):
            return self._birth_date(slot, faker.date_of_birth(minimum_age=19, maximum_age=70))
        if slot == "place":
            return self.random.choice(PLACES[language])
        if slot == "region":
            return self.random.choice(REGIONS[language])
        return self.random.choice(MILITARY[language])

    def _english_address(self) -> str:
        """123 Main St W, 4-123 Main St, 55 King Street apt 4, 1234 Highway 7, 12 rue Principale."""
        draw, faker = self.address_random, self.address_faker
        choose, pick = draw.choice, draw.random()
        number = str(draw.randint(1, 9999))
        name = faker.last_name() if draw.random() < 0.5 else choose(STREET_NAMES_EN)
        if pick < 0.1:
            return f"{number} {choose(NUMBERED_ROUTES_EN)} {draw.randint(1, 150)}"
        if pick < 0.2:
            return f"{number} {choose(QUEBEC_TYPES)} {faker.last_name()}"
        street = f"{name} {choose(STREET_TYPES_EN)}{choose(DIRECTIONS_EN)}"
        if pick < 0.35:  # members often write in lowercase
            street = street.lower()
        unit = str(choose([draw.randint(1, 40), draw.randint(101, 1905)]))
        placing = draw.random()
        if placing < 0.15:
            return f"{unit}-{number} {street}"
        if placing < 0.3:
            separator = choose([", ", " "])
            return f"{number} {street}{separator}{choose(UNITS_EN).format(unit)}"
        return f"{number} {street}"

    def _disguise_email(self, language: str, email: str) -> str:
        user, domain = email.split("@")
        style = self.random.randrange(4)
        if style == 0:
            return f"{user} at {domain.replace('.', ' dot ')}"
        if style == 1:
            dot = "[point]" if language == "fr" else "[dot]"
            return f"{user} [at] {domain.replace('.', f' {dot} ')}"
        if style == 2:
            return email.translate(LOOKALIKE)
        return f"{user} @ {domain}"

    def _birth_date(self, slot: str, date: object) -> str:
        year, month, day = date.year, date.month, date.day  # type: ignore[attr-defined]
        if slot == "dob_fr":
            if self.random.random() < 0.6:
                return f"{day} {MONTHS_FR[month - 1]} {year}"
            return f"{day:02d}/{month:02d}/{year}"
        styles = (f"{date:%B} {day}, {year}", f"{month:02d}/{day:02d}/{year}",
                  f"{year}-{month:02d}-{day:02d}", f"{day} {date:%B} {year}")  # fmt: skip
        return self.random.choice(styles)

    def sample_risk(self, language: str) -> Sample:
        category, core = self.random.choice(RISK_STATEMENTS[language])
        if self.random.random() < 0.1:  # evasion: look-alike letters
            core = core.translate(LOOKALIKE)
        return Sample(language, self._wrap(language, core), risk=category)

    def sample_safe(self, language: str) -> Sample:
        core = self.random.choice(SAFE_LOOKALIKES[language])
        return Sample(language, self._wrap(language, core), safe_lookalike=True)


def hard_cases() -> list[Sample]:
    samples = []
    for line in HARD_CASES.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        language, risk, marked = line.split("\t")
        text, spans, position = "", [], 0
        for match in MARKUP.finditer(marked):
            text += marked[position : match.start()]
            spans.append((match.group(1), len(text), len(text) + len(match.group(2))))
            text += match.group(2)
            position = match.end()
        text += marked[position:]
        category = None if risk in ("none", "safe") else risk
        samples.append(Sample(language, text, spans, category, risk == "safe", "hard_case"))
    return samples


def build(seed: int = 7, per_language: int = 1000) -> list[Sample]:
    """per_language generated messages per language (60% PII, 20% risk, 20% safe)."""
    generator = Generator(seed)
    samples = hard_cases()
    for language in ("en", "fr"):
        for index in range(per_language):
            share = index / per_language
            if share < 0.6:
                samples.append(generator.sample_pii(language))
            elif share < 0.8:
                samples.append(generator.sample_risk(language))
            else:
                samples.append(generator.sample_safe(language))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-language", type=int, default=1000)
    arguments = parser.parse_args()
    for sample in build(arguments.seed, arguments.per_language):
        sys.stdout.write(json.dumps(asdict(sample), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
