"""Reading and checking the registration forms (pure: no I/O). Errors are i18n keys per field."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import phonenumbers

from chatd.core import pseudonym as pseudonyms

MINIMUM_AGE = 16
OLDEST_AGE = 120
PASSWORD_MIN, PASSWORD_MAX = 12, 128
ANSWER_MAX = 1000
EMAIL = re.compile(r"^[^@\s]{1,64}@[a-z0-9-]+(\.[a-z0-9-]+)+$", re.IGNORECASE)
POSTAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$")
CANADIAN_POSTAL_CODE = re.compile(r"^([A-Za-z]\d[A-Za-z]) ?(\d[A-Za-z]\d)$")

SIGNUP_FIELDS = ("rules", "pseudonym", "email", "phone", "postal_code", "birth_date", "affiliation")


@dataclass
class Signup:
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    under_age: bool = False

    def record(self) -> dict[str, object]:
        """What is sealed in the vault."""
        return {k: self.values[k] for k in ("email", "phone", "postal_code", "birth_date", "affiliation")}


@dataclass
class Activation:
    answers: dict[str, str]
    password: str
    errors: dict[str, str] = field(default_factory=dict)


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def shares_email_words(pseudonym: str, email: str) -> bool:
    """A pseudonym word found in the email's local part (jane.doe@… and jane-otter) may name the person."""
    local = re.sub(r"[^a-z]", "", email.partition("@")[0].lower())
    return any(len(word) >= 3 and word in local for word in pseudonym.split("-"))


def read_signup(form: Mapping[str, str], affiliations: Sequence[str], today: date) -> Signup:
    values = {name: str(form.get(name, "")).strip() for name in SIGNUP_FIELDS}
    values["pseudonym"] = values["pseudonym"].lower()
    values["email"] = values["email"].lower()
    signup = Signup(values)
    errors = signup.errors
    if values["rules"] != "accepted":
        errors["rules"] = "registration.error.rules"
    if not values["pseudonym"]:
        errors["pseudonym"] = "registration.error.required"
    elif not pseudonyms.is_valid(values["pseudonym"]):
        errors["pseudonym"] = "registration.error.pseudonym_form"
    if not EMAIL.fullmatch(values["email"]) or len(values["email"]) > 254:
        errors["email"] = "registration.error.email"
    elif "pseudonym" not in errors and shares_email_words(values["pseudonym"], values["email"]):
        errors["pseudonym"] = "registration.error.pseudonym_email"
    try:
        number = phonenumbers.parse(values["phone"], "CA")
        if not phonenumbers.is_valid_number(number):
            raise phonenumbers.NumberParseException(0, "not valid")
        values["phone"] = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        errors["phone"] = "registration.error.phone"
    canadian = CANADIAN_POSTAL_CODE.fullmatch(values["postal_code"])
    if canadian:
        values["postal_code"] = f"{canadian[1]} {canadian[2]}".upper()
    elif not POSTAL_CODE.fullmatch(values["postal_code"]):
        errors["postal_code"] = "registration.error.postal_code"
    try:
        birth = date.fromisoformat(values["birth_date"])
        age = age_on(birth, today)
        if age < 0 or age > OLDEST_AGE:
            errors["birth_date"] = "registration.error.birth_date"
        signup.under_age = 0 <= age < MINIMUM_AGE
    except ValueError:
        errors["birth_date"] = "registration.error.birth_date"
    if values["affiliation"] not in affiliations:
        errors["affiliation"] = "registration.error.affiliation"
    return signup


def read_activation(form: Mapping[str, str], questions: Sequence[str]) -> Activation:
    answers = {q: str(form.get(f"answer_{q}", "")).strip() for q in questions}
    activation = Activation(answers, str(form.get("password", "")))
    for question, answer in answers.items():
        if len(answer) > ANSWER_MAX:
            activation.errors[f"answer_{question}"] = "registration.error.answer_too_long"
    if not PASSWORD_MIN <= len(activation.password) <= PASSWORD_MAX:
        activation.errors["password"] = "registration.error.password_length"
    elif activation.password != str(form.get("password_again", "")):
        activation.errors["password_again"] = "registration.error.password_again"
    return activation
