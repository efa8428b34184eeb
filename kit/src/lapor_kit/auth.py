"""Signed user tokens (JWT, HS256) with a role and a tenant.

Roles: ``national_admin`` (every tenant), ``province_coordinator``, ``regency_coordinator``,
``agency_staff``, ``ombudsman``. A token's ``tenant`` is a province code, or ``*`` for
national roles. Every service verifies tokens with the shared ``LAPOR_AUTH_SECRET``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any, Literal

import jwt

Role = Literal[
    "national_admin", "province_coordinator", "regency_coordinator", "agency_staff", "ombudsman"
]
ROLES: frozenset[str] = frozenset(
    {"national_admin", "province_coordinator", "regency_coordinator", "agency_staff", "ombudsman"}
)
ISSUER = "lapor"


class AuthError(Exception):
    """The token is missing, malformed, expired or not allowed here."""


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    role: str
    tenant: str
    name: str | None = None
    agency_id: str | None = None
    region_code: str | None = None

    def may_act_in(self, tenant: str) -> bool:
        return self.tenant == "*" or self.tenant == tenant


def issue(
    secret: str, *, subject: str, role: str, tenant: str, ttl_seconds: int = 8 * 3600, **extra: Any
) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role}")
    now = int(time.time())
    claims = {
        "sub": subject,
        "role": role,
        "tenant": tenant,
        "iss": ISSUER,
        "iat": now,
        "exp": now + ttl_seconds,
        **extra,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def verify(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            issuer=ISSUER,
            options={"require": ["sub", "exp", "iss"]},
        )
    except jwt.PyJWTError as exc:
        raise AuthError(str(exc)) from exc
    role, tenant = claims.get("role"), claims.get("tenant")
    if role not in ROLES or not isinstance(tenant, str):
        raise AuthError("token lacks a known role or a tenant")
    return Principal(
        subject=str(claims["sub"]),
        role=role,
        tenant=tenant,
        name=claims.get("name"),
        agency_id=claims.get("agency_id"),
        region_code=claims.get("region_code"),
    )


def bearer(header: str | None) -> str:
    if not header or not header.lower().startswith("bearer "):
        raise AuthError("missing bearer token")
    return header.split(" ", 1)[1].strip()


@dataclass(frozen=True, slots=True)
class SecretMinter:
    """The reporter's status secret is a MAC of the tracking id under a server key
    (``LAPOR_STATUS_SECRET_KEY``, shared by intake, which hands it out, and notify, which
    shows the reporter's inbox): nothing to store, and a retried submission gets the same
    secret back. Rotating the key invalidates the secrets already handed out."""

    key: bytes

    def mint(self, tracking_id: str) -> str:
        mac = hmac.new(self.key, tracking_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:16]).decode().rstrip("=")

    def verify(self, tracking_id: str, secret: str) -> bool:
        return hmac.compare_digest(self.mint(tracking_id), secret.strip())
