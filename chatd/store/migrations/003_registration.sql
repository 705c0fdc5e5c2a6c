-- Self-registration and the vault. Contact details exist here only sealed (vault_entries);
-- a registration row holds no personal data, only the chosen pseudonym and link state.
CREATE TABLE registrations (
    id INTEGER PRIMARY KEY,
    realm TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    language TEXT NOT NULL,
    token_hash BLOB UNIQUE,       -- SHA-256 of the activation token; NULL once activated
    expires_at REAL,              -- NULL once activated
    claimed_at REAL,              -- set while an activation runs; a claimed link cannot be used again
    member_id INTEGER UNIQUE REFERENCES members(id),
    created_at REAL NOT NULL
);
CREATE INDEX registrations_by_pseudonym ON registrations (realm, pseudonym);

-- Sealed records: AES-256-GCM ciphertext, its data key wrapped for the clinicians' public key.
CREATE TABLE vault_entries (
    id INTEGER PRIMARY KEY,
    registration_id INTEGER NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('registration', 'onboarding', 'shared')),
    key_id TEXT NOT NULL,
    wrapped_key BLOB NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX vault_entries_by_registration ON vault_entries (registration_id);

-- Every unseal attempt: who, when, why, which member, and how it ended.
CREATE TABLE vault_audit (
    seq INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    who TEXT NOT NULL,
    realm TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    reason TEXT NOT NULL,
    outcome TEXT NOT NULL
);
