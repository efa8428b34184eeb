"""Signed user tokens (JWT, EdDSA/Ed25519 with a ``kid``) with a role and a tenant.

Roles: ``national_admin`` (every tenant), ``province_coordinator``, ``regency_coordinator``,
``agency_staff``, ``ombudsman``. A token's ``tenant`` is a province code, or ``*`` for
national roles.

Only the identity owner (the portal) holds a private key: it signs short-lived tokens for
the signed-in user and publishes its public keys at ``/.well-known/jwks.json``. Every other
service verifies with public keys only (:class:`TokenVerifier`), so none of them can mint a
token. Rotation: a new key signs, the old one stays published (and verifying) until its
tokens have expired.

Scripts and tests sign with the public **development key** (:data:`DEV_SIGNING_KEY`), which
services trust only in development mode; production refuses to trust it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

log = logging.getLogger("lapor.auth")

Role = Literal[
    "national_admin", "province_coordinator", "regency_coordinator", "agency_staff", "ombudsman"
]
ROLES: frozenset[str] = frozenset(
    {"national_admin", "province_coordinator", "regency_coordinator", "agency_staff", "ombudsman"}
)
ISSUER = "lapor"
ALGORITHM = "EdDSA"
NATIONAL_ROLES: frozenset[str] = frozenset({"national_admin", "ombudsman"})
"""The only roles whose token may name every tenant (``*``)."""
COORDINATOR_ROLES: frozenset[str] = frozenset(
    {"national_admin", "province_coordinator", "regency_coordinator"}
)
"""Roles that verify, dispatch and oversee cases (and manage accounts) in their area."""
STAFF_ROLES: frozenset[str] = COORDINATOR_ROLES | {"agency_staff"}
"""Roles that handle cases and enter reports received offline (not the Ombudsman)."""


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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An Ed25519 private key and its key id (by default a digest of its public half, so
    the same key always has the same ``kid``)."""

    kid: str
    private: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        return cls.of(Ed25519PrivateKey.generate())

    @classmethod
    def of(cls, private: Ed25519PrivateKey, kid: str | None = None) -> SigningKey:
        return cls(kid or hashlib.sha256(_raw(private.public_key())).hexdigest()[:16], private)

    @classmethod
    def from_pem(cls, pem: bytes, kid: str | None = None) -> SigningKey:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("signing keys must be Ed25519 (EdDSA)")
        return cls.of(key, kid)

    def pem(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public_jwk(self) -> dict[str, str]:
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64(_raw(self.private.public_key())),
            "kid": self.kid,
            "use": "sig",
            "alg": ALGORITHM,
        }


DEV_SIGNING_KEY = SigningKey.from_pem(
    b"-----BEGIN PRIVATE KEY-----\n"
    b"MC4CAQAwBQYDK2VwBCIEIMmT0OEzHmoKItqLhts+WyqHCV3F5OR5QI77kAcrOPvk\n"
    b"-----END PRIVATE KEY-----\n",
    kid="lapor-dev",
)
"""Public on purpose (like every development secret here): ``lapor-stack token`` and the
tests sign with it. Services trust it only when ``LAPOR_ENV`` is development."""


@dataclass(frozen=True, slots=True)
class KeySet:
    """Public keys by ``kid``: what a service verifies with (it can mint nothing)."""

    keys: Mapping[str, Ed25519PublicKey]

    @classmethod
    def of(cls, *signing: SigningKey) -> KeySet:
        return cls({k.kid: k.private.public_key() for k in signing})

    @classmethod
    def from_jwks(cls, document: Any) -> KeySet:
        """The Ed25519 signing keys of a JWKS document; anything else in it is skipped (a
        malformed entry never takes the good ones down with it)."""
        found: dict[str, Ed25519PublicKey] = {}
        entries = document.get("keys") if isinstance(document, dict) else None
        for jwk in entries if isinstance(entries, list) else ():
            if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
                continue
            kid, x = jwk.get("kid"), jwk.get("x")
            if not isinstance(kid, str) or not isinstance(x, str) or jwk.get("use", "sig") != "sig":
                continue
            try:
                found[kid] = Ed25519PublicKey.from_public_bytes(_unb64(x))
            except ValueError:
                continue
        return cls(found)

    def merged(self, other: KeySet) -> KeySet:
        return KeySet({**self.keys, **other.keys})

    def without(self, refused: KeySet) -> KeySet:
        """These keys but any whose public half is one of ``refused``'s, whatever its ``kid``:
        a key is refused for what it is, not for what it is called."""
        banned = {_raw(k) for k in refused.keys.values()}
        return KeySet({kid: k for kid, k in self.keys.items() if _raw(k) not in banned})

    def holds(self, key: SigningKey) -> bool:
        """Whether ``key``'s public half is among these keys (under any ``kid``)."""
        mine = _raw(key.private.public_key())
        return any(_raw(k) == mine for k in self.keys.values())


def is_development_key(key: SigningKey) -> bool:
    """Whether ``key`` is the public development key, however it was supplied (a PEM file of
    it has another ``kid`` but the same public half)."""
    return _raw(key.private.public_key()) == _raw(DEV_SIGNING_KEY.private.public_key())


def issue(
    key: SigningKey,
    *,
    subject: str,
    role: str,
    tenant: str,
    ttl_seconds: int = 900,
    **extra: Any,
) -> str:
    """A token for one user, signed by ``key`` (its ``kid`` in the header). Short-lived by
    default: the portal mints a fresh one for its calls; scripts ask for longer."""
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
        **{k: v for k, v in extra.items() if v is not None},
    }
    return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})


def kid_of(token: str) -> str:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise AuthError(str(exc)) from exc
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM or not isinstance(kid, str):
        raise AuthError(f"tokens are {ALGORITHM} with a kid")
    return kid


def verify(keys: KeySet, token: str) -> Principal:
    public = keys.keys.get(kid_of(token))
    if public is None:
        raise AuthError("token signed by an unknown key")
    try:
        claims = jwt.decode(
            token,
            public,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["sub", "exp", "iss", "iat"]},
        )
    except jwt.PyJWTError as exc:
        raise AuthError(str(exc)) from exc
    return principal_of(claims)


class TokenVerifier:
    """Verifies tokens with the identity owner's published public keys, fetched from
    ``jwks_url`` and cached. An unknown ``kid`` refetches (a key was added: rotation), at
    most every ``min_refresh`` seconds, so random ``kid`` values cannot make a service hammer
    the portal; the cache is refreshed anyway after ``max_age`` seconds (a key was
    withdrawn). When the portal cannot be reached the cached keys keep verifying.

    ``refused`` keys are never trusted, even when the JWKS document publishes them: in
    production that is the public development key, so a portal misconfigured to sign with a
    copy of it (a PEM file) cannot make a service accept tokens anyone can mint."""

    def __init__(
        self,
        jwks_url: str | None,
        *,
        trusted: KeySet | None = None,
        refused: KeySet | None = None,
        min_refresh: float = 10.0,
        max_age: float = 300.0,
        timeout: float = 2.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.jwks_url = jwks_url
        self.trusted = trusted or KeySet({})
        self.refused = refused or KeySet({})
        self.min_refresh = min_refresh
        self.max_age = max_age
        self.timeout = timeout
        self._client = client
        self._fetched = KeySet({})
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def keys(self, kid: str | None = None) -> KeySet:
        now = time.monotonic()
        stale = now - self._fetched_at > self.max_age
        missing = kid is not None and kid not in self._fetched.keys and kid not in self.trusted.keys
        if self.jwks_url and (stale or (missing and now - self._fetched_at > self.min_refresh)):
            async with self._lock:
                if time.monotonic() - self._fetched_at > self.min_refresh or stale:
                    await self._refresh()
        return self.trusted.merged(self._fetched)

    async def _refresh(self) -> None:
        assert self.jwks_url
        try:
            if self._client is None:
                self._client = httpx.AsyncClient(timeout=self.timeout)
            resp = await self._client.get(self.jwks_url)
            resp.raise_for_status()
            fetched = KeySet.from_jwks(resp.json())
            kept = fetched.without(self.refused)
            if len(kept.keys) < len(fetched.keys):
                log.error(
                    "the identity owner publishes the development signing key: tokens it "
                    "signs with that key are refused (%s)",
                    self.jwks_url,
                )
            self._fetched = kept
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("could not fetch signing keys from %s: %s", self.jwks_url, exc)
        finally:
            self._fetched_at = time.monotonic()

    async def verify(self, token: str) -> Principal:
        return verify(await self.keys(kid_of(token)), token)

    async def principal(self, authorization: str | None) -> Principal:
        return await self.verify(bearer(authorization))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


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
