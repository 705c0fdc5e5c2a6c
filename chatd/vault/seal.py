"""Sealing with the Senior Clinical team's public key (the service side of the vault).

Envelope encryption: each record gets a fresh AES-256-GCM data key; the data key is
wrapped with RSA-OAEP-SHA256 for the team's public key (3072 bits or more). Rotation
re-wraps data keys only: ciphertexts never change.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MIN_KEY_BITS = 3072
FORMAT = "chatd-vault-v1"


class VaultError(Exception):
    """A vault operation failed; the message says why (never what the record holds)."""


@dataclass(frozen=True, slots=True)
class Sealed:
    key_id: str  # which public key wrapped the data key
    wrapped_key: bytes
    nonce: bytes
    ciphertext: bytes


def oaep() -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def associated_data(realm: str, pseudonym: str, kind: str) -> bytes:
    """Binds a ciphertext to its member and kind: a record moved to another row fails to open."""
    return "\0".join((FORMAT, realm, pseudonym, kind)).encode()


def key_id(public_key: rsa.RSAPublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def checked_public_key(public_key: object) -> rsa.RSAPublicKey:
    if not isinstance(public_key, rsa.RSAPublicKey) or public_key.key_size < MIN_KEY_BITS:
        raise VaultError(f"the vault key must be an RSA public key of at least {MIN_KEY_BITS} bits")
    return public_key


def load_public_key(path: str | Path) -> rsa.RSAPublicKey:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise VaultError(f"cannot read the vault public key {path}: {exc.strerror}") from exc
    try:
        return checked_public_key(serialization.load_pem_public_key(data))
    except ValueError as exc:
        raise VaultError(f"{path} is not a PEM public key") from exc


def wrap(public_key: rsa.RSAPublicKey, data_key: bytes) -> bytes:
    return public_key.encrypt(data_key, oaep())


class Sealer:
    """Seals records for one public key. It holds no secret and cannot open anything."""

    def __init__(self, public_key: rsa.RSAPublicKey):
        self.public_key = checked_public_key(public_key)
        self.key_id = key_id(public_key)

    @classmethod
    def from_file(cls, path: str | Path) -> Sealer:
        return cls(load_public_key(path))

    def seal(self, record: dict[str, object], aad: bytes) -> Sealed:
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        plaintext = json.dumps(record, ensure_ascii=False, sort_keys=True).encode()
        ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, aad)
        return Sealed(self.key_id, wrap(self.public_key, data_key), nonce, ciphertext)
