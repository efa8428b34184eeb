"""Staff accounts (pure policy, no I/O): who may manage whom, what a password must be, when
an account locks, and the claims a signed-in account's tokens carry.

LAPOR! owns its admin accounts: a national admin creates province coordinators (and other
national accounts); a province coordinator creates and disables the regency coordinators
and agency staff of its own province; a regency coordinator those of the agencies of its own
regency/city. Agency staff are bound to one agency. Nobody manages an account of another
province, and nobody hands out a role above their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lapor_kit.auth import NATIONAL_ROLES, ROLES

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD = 12
COMMON = frozenset(
    {"password1234", "123456789012", "qwertyuiop12", "lapor1708lapor", "passwordpassword"}
)
ROLE_LABELS = {
    "national_admin": ("Admin nasional", "National admin"),
    "province_coordinator": ("Koordinator provinsi", "Province coordinator"),
    "regency_coordinator": ("Koordinator kabupaten/kota", "Regency/city coordinator"),
    "agency_staff": ("Admin instansi", "Agency staff"),
    "ombudsman": ("Ombudsman", "Ombudsman"),
}


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    name: str
    role: str
    tenant: str
    region_code: str | None = None
    agency_id: str | None = None
    password_hash: str | None = None
    totp_secret: str | None = None
    totp_last_step: int = 0
    disabled: bool = False
    must_change_password: bool = False
    provider: str | None = None  # "oidc:<name>" for a province's own sign-on
    created_by: str | None = None
    created_at: datetime | None = None

    def claims(self) -> dict[str, Any]:
        """What this account's tokens say about it (services authorize from these alone)."""
        return {
            "subject": self.username,
            "role": self.role,
            "tenant": self.tenant,
            "name": self.name,
            "agency_id": self.agency_id,
            "region_code": self.region_code,
        }

    @property
    def scope(self) -> str:
        """Where the account works, for lists: its agency, regency, province or ``*``."""
        return self.agency_id or self.region_code or self.tenant


class AccountRefusedError(ValueError):
    """An account change that is not allowed or not valid: field -> (Indonesian, English)."""

    def __init__(self, problems: dict[str, tuple[str, str]]) -> None:
        super().__init__("; ".join(en for _, en in problems.values()))
        self.problems = problems


def may_manage(
    actor: Account, role: str, tenant: str, region_code: str | None, agency_id: str | None
) -> bool:
    """Whether ``actor`` may create, disable or reset an account with these claims."""
    if actor.disabled:
        return False
    if actor.role == "national_admin":
        return True
    if actor.role == "province_coordinator":
        return tenant == actor.tenant and role in ("regency_coordinator", "agency_staff")
    if actor.role == "regency_coordinator":
        return (
            tenant == actor.tenant
            and role == "agency_staff"
            and agency_id is not None
            and agency_id.startswith(f"{actor.region_code}.")
        )
    return False


def check_new_account(
    actor: Account,
    *,
    username: str,
    name: str,
    role: str,
    tenant: str,
    region_code: str | None,
    agency_id: str | None,
    known_regions: set[str],
    known_agencies: set[str],
) -> None:
    """Refuses (with every reason) an account ``actor`` may not or cannot create."""
    problems: dict[str, tuple[str, str]] = {}
    if not USERNAME.match(username):
        problems["username"] = (
            "Nama pengguna 3-64 huruf kecil, angka, titik, garis bawah atau tanda hubung.",
            "Username: 3-64 lower-case letters, digits, dots, underscores or hyphens.",
        )
    if not name.strip() or len(name) > 120:
        problems["name"] = ("Nama wajib diisi (paling banyak 120).", "Name is required (≤ 120).")
    if role not in ROLES:
        problems["role"] = ("Peran tidak dikenal.", "Unknown role.")
    elif role in NATIONAL_ROLES:
        if tenant != "*":
            problems["tenant"] = (
                "Peran nasional berlaku untuk semua provinsi.",
                "National roles apply to every province.",
            )
    elif not re.match(r"^\d{2}$", tenant):
        problems["tenant"] = ("Provinsi wajib dipilih.", "Choose a province.")
    if role == "regency_coordinator" and (
        not region_code
        or region_code not in known_regions
        or not region_code.startswith(f"{tenant}.")
    ):
        problems["region_code"] = (
            "Kabupaten/kota tidak dikenal di provinsi ini.",
            "Unknown regency/city in this province.",
        )
    if role == "agency_staff" and (
        not agency_id or agency_id not in known_agencies or not agency_id.startswith(f"{tenant}.")
    ):
        problems["agency_id"] = (
            "Instansi tidak dikenal di provinsi ini.",
            "Unknown agency in this province.",
        )
    if not problems and not may_manage(actor, role, tenant, region_code, agency_id):
        problems["role"] = (
            "Anda tidak boleh membuat akun dengan peran atau wilayah ini.",
            "You may not create an account with this role or place.",
        )
    if problems:
        raise AccountRefusedError(problems)


def password_problem(password: str, username: str) -> tuple[str, str] | None:
    if len(password) < MIN_PASSWORD:
        return (
            f"Kata sandi paling sedikit {MIN_PASSWORD} karakter.",
            f"Passwords have at least {MIN_PASSWORD} characters.",
        )
    if len(password) > 256:
        return ("Kata sandi terlalu panjang.", "The password is too long.")
    if password.lower() in COMMON or username.lower() in password.lower():
        return ("Kata sandi terlalu mudah ditebak.", "The password is too easy to guess.")
    return None


@dataclass(slots=True)
class Attempts:
    """Wrong sign-ins in a row under one username (kept for unknown usernames as well, so a
    locked account and one that does not exist answer the same)."""

    failures: int = 0
    locked_until: datetime | None = None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


@dataclass(frozen=True, slots=True)
class Lockout:
    failures: int = 5
    minutes: float = 15.0

    def after_failure(self, attempts: Attempts, now: datetime) -> Attempts:
        failures = attempts.failures + 1
        if failures >= self.failures:
            return Attempts(0, now + timedelta(minutes=self.minutes))
        return Attempts(failures, attempts.locked_until)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log: who did what to which case, when. Insert-only."""

    at: datetime
    who: str
    role: str
    tenant: str  # the province the entry belongs to (the case's, or the account's)
    action: str
    case: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
