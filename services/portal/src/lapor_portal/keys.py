"""The portal is the identity owner: it alone holds private keys. The first key signs the
short-lived tokens of signed-in staff; every configured key is published at
``/.well-known/jwks.json`` so services can verify a token until it expires (rotation)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lapor_kit.auth import KeySet, SigningKey, issue

from .identity import Account

log = logging.getLogger("lapor.portal")


@dataclass(frozen=True, slots=True)
class Keys:
    signing: tuple[SigningKey, ...]
    ttl_seconds: int = 300

    @classmethod
    def load(cls, paths: str, ttl_seconds: int = 300) -> Keys:
        files = [p.strip() for p in paths.split(",") if p.strip()]
        if not files:
            log.warning("no LAPOR_SIGNING_KEYS: signing with a key made at start (development)")
            return cls((SigningKey.generate(),), ttl_seconds)
        return cls(tuple(SigningKey.from_pem(Path(f).read_bytes()) for f in files), ttl_seconds)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk() for k in self.signing]}

    def public(self) -> KeySet:
        return KeySet.of(*self.signing)

    def token_for(self, account: Account) -> str:
        return issue(self.signing[0], ttl_seconds=self.ttl_seconds, **account.claims())


class SecretBox:
    """Seals the TOTP secrets kept in ``lapor_portal`` (Fernet: AES with an HMAC, the key
    derived from ``LAPOR_TOTP_KEY`` by HKDF): a copy of the database alone gives nobody the
    second factor. Changing the key voids every enrolment (users enrol again)."""

    def __init__(self, key: str) -> None:
        import base64

        from cryptography.fernet import Fernet
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        raw = HKDF(hashes.SHA256(), 32, salt=None, info=b"lapor-totp").derive(key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(raw))

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str | None:
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except (InvalidToken, ValueError):
            return None  # another key (or tampered): the code cannot be checked
