"""Development accounts for the sample provinces (``make run`` prints them). Their password
is public, like every development secret here; production mode refuses to seed them."""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher

from .identity import Account
from .store import AccountExistsError, PortalStore

DEV_PASSWORD = "lapor-dev-sandi-2026"  # noqa: S105 (public on purpose)

DEV_ACCOUNTS: tuple[tuple[str, str, str, str, str | None, str | None], ...] = (
    # username, name, role, tenant, region_code, agency_id
    ("admin.nasional", "Admin Nasional", "national_admin", "*", None, None),
    ("ombudsman", "Ombudsman RI", "ombudsman", "*", None, None),
    ("kalsel.koordinator", "Diskominfo Kalsel", "province_coordinator", "63", None, "63.kominfo"),
    (
        "banjarmasin.koordinator",
        "Diskominfo Banjarmasin",
        "regency_coordinator",
        "63",
        "63.71",
        "63.71.kominfo",
    ),
    ("banjarmasin.pupr", "Admin PUPR Banjarmasin", "agency_staff", "63", None, "63.71.pupr"),
    ("banjarmasin.pdam", "Admin PDAM Banjarmasin", "agency_staff", "63", None, "63.71.pdam"),
    ("kalsel.pupr", "Admin PUPR Kalsel", "agency_staff", "63", None, "63.pupr"),
    ("sulsel.koordinator", "Diskominfo Sulsel", "province_coordinator", "73", None, "73.kominfo"),
    ("makassar.pupr", "Admin PUPR Makassar", "agency_staff", "73", None, "73.71.pupr"),
    ("kepri.koordinator", "Diskominfo Kepri", "province_coordinator", "21", None, "21.kominfo"),
)


async def seed_dev_accounts(store: PortalStore, now: datetime) -> list[str]:
    """Creates the development accounts that do not exist yet; returns their usernames."""
    hasher = PasswordHasher()
    digest = hasher.hash(DEV_PASSWORD)
    made = []
    for username, name, role, tenant, region, agency in DEV_ACCOUNTS:
        try:
            await store.create(
                Account(
                    username=username,
                    name=name,
                    role=role,
                    tenant=tenant,
                    region_code=region,
                    agency_id=agency,
                    password_hash=digest,
                    created_by="seed",
                    created_at=now,
                )
            )
        except AccountExistsError:
            continue
        made.append(username)
    return made
