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
NATIONAL_ROLES: frozenset[str] = frozenset({"national_admin", "ombudsman"})
"""The only roles whose token may name every tenant (``*``)."""


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
    return principal_of(claims)


def principal_of(claims: dict[str, Any]) -> Principal:
    """The principal a verified token's claims describe, refused unless it has everything
    its role needs: a signed token is still untrusted input (a ``role`` that is a list, a
    staff token without its agency, a province role claiming every tenant)."""
    role, tenant, sub = claims.get("role"), claims.get("tenant"), claims.get("sub")
    if not isinstance(role, str) or role not in ROLES:
        raise AuthError("token lacks a known role")
    if not isinstance(tenant, str) or not tenant or not isinstance(sub, str) or not sub:
        raise AuthError("token lacks a tenant or a subject")
    if tenant == "*" and role not in NATIONAL_ROLES:
        raise AuthError(f"only national roles may act in every tenant, not {role}")
    optional: dict[str, str | None] = {}
    for name in ("name", "agency_id", "region_code"):
        value = claims.get(name)
        if value is not None and not isinstance(value, str):
            raise AuthError(f"claim {name} must be a string")
        optional[name] = value
    agency_id, region_code = optional["agency_id"], optional["region_code"]
    if role == "agency_staff" and not agency_id:
        raise AuthError("an agency_staff token needs agency_id")
    if role == "regency_coordinator" and not region_code:
        raise AuthError("a regency_coordinator token needs region_code")
    for value in (agency_id, region_code):
        if value and tenant != "*" and value.split(".", 1)[0] != tenant:
            raise AuthError("agency_id and region_code must lie in the token's tenant")
    return Principal(
        subject=sub,
        role=role,
        tenant=tenant,
        name=optional["name"],
        agency_id=agency_id,
        region_code=region_code,
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
        """Constant-time; any text is an answer, never an error (``compare_digest`` raises
        on non-ASCII ``str``, so both sides are compared as UTF-8 bytes)."""
        given = secret.strip().encode("utf-8", "replace")
        return hmac.compare_digest(self.mint(tracking_id).encode(), given)
