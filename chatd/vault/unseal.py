"""The Senior Clinical team's side of the vault: key pairs, opening records, rotation.

Only the clinicians' command line imports this module; the running service never does.
"""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chatd.vault.seal import MIN_KEY_BITS, Sealed, VaultError, checked_public_key, key_id, oaep, wrap

MIN_PASSPHRASE = 12


def generate(private_path: Path, public_path: Path, passphrase: str, bits: int = MIN_KEY_BITS) -> str:
    """Writes a new key pair (the private key encrypted with the passphrase); returns its key id."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise VaultError(f"the passphrase must have at least {MIN_PASSPHRASE} characters")
    for path in (private_path, public_path):
        if path.exists():
            raise VaultError(f"{path} exists already: not overwriting a key")
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=max(bits, MIN_KEY_BITS))
    encrypted = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    )
    private_path.parent.mkdir(parents=True, exist_ok=True)
    private_path.touch(mode=0o600)
    private_path.write_bytes(encrypted)
    public_key = private_key.public_key()
    public_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.write_bytes(
        public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return key_id(public_key)


def load_private_key(path: Path, passphrase: str) -> rsa.RSAPrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise VaultError(f"cannot read the private key {path}: {exc.strerror}") from exc
    try:
        private_key = serialization.load_pem_private_key(data, password=passphrase.encode())
    except (ValueError, TypeError) as exc:
        raise VaultError("the private key could not be opened: wrong passphrase or not a private key") from exc
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise VaultError("the private key is not an RSA key")
    checked_public_key(private_key.public_key())
    return private_key


def data_key(private_key: rsa.RSAPrivateKey, sealed: Sealed) -> bytes:
    if sealed.key_id != key_id(private_key.public_key()):
        raise VaultError(f"this record was sealed for key {sealed.key_id}, not for the key given")
    try:
        return private_key.decrypt(sealed.wrapped_key, oaep())
    except ValueError as exc:
        raise VaultError("the data key could not be unwrapped with the key given") from exc


def open_sealed(private_key: rsa.RSAPrivateKey, sealed: Sealed, aad: bytes) -> dict[str, object]:
    try:
        plaintext = AESGCM(data_key(private_key, sealed)).decrypt(sealed.nonce, sealed.ciphertext, aad)
    except InvalidTag as exc:
        raise VaultError("the record does not belong to this member or was altered") from exc
    record: dict[str, object] = json.loads(plaintext)
    return record


def rewrap(private_key: rsa.RSAPrivateKey, new_public_key: rsa.RSAPublicKey, sealed: Sealed) -> Sealed:
    """The same ciphertext with its data key wrapped for the new key."""
    new_public_key = checked_public_key(new_public_key)
    return Sealed(
        key_id(new_public_key), wrap(new_public_key, data_key(private_key, sealed)), sealed.nonce, sealed.ciphertext
    )
