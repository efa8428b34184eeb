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
