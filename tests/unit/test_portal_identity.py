"""Staff identities without I/O: who may manage whom, passwords, lock-out, the province
sign-on's claim mapping, the workspace's buttons and SLA badges, the portal's keys, and what
intake lets staff read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lapor_kit.auth import AuthError, KeySet, Principal, SigningKey, verify
from lapor_portal.identity import (
    Account,
    AccountRefusedError,
    Backoff,
    Tries,
    check_new_account,
    may_manage,
    password_problem,
)

NATIONAL = Account("admin", "Admin", "national_admin", "*")
KALSEL = Account("k63", "Kominfo Kalsel", "province_coordinator", "63")
BANJARMASIN = Account("k6371", "Kominfo Bjm", "regency_coordinator", "63", region_code="63.71")
STAFF = Account("pupr", "PUPR", "agency_staff", "63", agency_id="63.71.pupr")


def test_each_manager_manages_only_below_itself_and_only_at_home() -> None:
    assert may_manage(NATIONAL, "province_coordinator", "73", None, None)
    assert may_manage(KALSEL, "regency_coordinator", "63", "63.71", None)
    assert may_manage(KALSEL, "agency_staff", "63", None, "63.02.dinkes")
    assert not may_manage(KALSEL, "province_coordinator", "63", None, None)  # no peer
    assert not may_manage(KALSEL, "national_admin", "*", None, None)
    assert not may_manage(KALSEL, "agency_staff", "73", None, "73.71.pupr")  # other province
    assert may_manage(BANJARMASIN, "agency_staff", "63", None, "63.71.pdam")
    assert not may_manage(BANJARMASIN, "agency_staff", "63", None, "63.02.pdam")  # other city
    assert not may_manage(BANJARMASIN, "regency_coordinator", "63", "63.71", None)
    assert not may_manage(STAFF, "agency_staff", "63", None, "63.71.pupr")
    disabled = Account("x", "X", "national_admin", "*", disabled=True)
    assert not may_manage(disabled, "agency_staff", "63", None, "63.71.pupr")


def test_a_new_account_is_refused_with_every_reason() -> None:
    known = {"regions": {"63.71", "63.02", "73.71"}, "agencies": {"63.71.pupr", "73.71.pupr"}}

    def create(actor: Account, **fields: str | None) -> None:
        values: dict[str, str | None] = {
            "username": "baru.satu",
            "name": "Baru",
            "role": "agency_staff",
            "tenant": "63",
            "region_code": None,
            "agency_id": "63.71.pupr",
            **fields,
        }
        check_new_account(
            actor,
            username=str(values["username"]),
            name=str(values["name"]),
            role=str(values["role"]),
            tenant=str(values["tenant"]),
            region_code=values["region_code"],
            agency_id=values["agency_id"],
            known_regions=known["regions"],
            known_agencies=known["agencies"],
        )

    create(KALSEL)
    create(BANJARMASIN)
    with pytest.raises(AccountRefusedError) as refused:
        create(KALSEL, username="A B", name="", agency_id="63.99.nope")
    assert set(refused.value.problems) == {"username", "name", "agency_id"}
    with pytest.raises(AccountRefusedError) as refused:
        create(KALSEL, agency_id="73.71.pupr")  # exists, but in another province
    assert set(refused.value.problems) == {"agency_id"}
    with pytest.raises(AccountRefusedError) as refused:
        create(KALSEL, role="province_coordinator", agency_id=None)
    assert set(refused.value.problems) == {"role"}
    with pytest.raises(AccountRefusedError) as refused:
        create(NATIONAL, role="ombudsman", agency_id=None)  # national roles are tenant *
    assert set(refused.value.problems) == {"tenant"}
    create(NATIONAL, role="ombudsman", tenant="*", agency_id=None)
    with pytest.raises(AccountRefusedError) as refused:
        create(KALSEL, role="regency_coordinator", region_code="73.71", agency_id=None)
    assert set(refused.value.problems) == {"region_code"}


def test_passwords_and_back_off() -> None:
    assert password_problem("pendek", "andi") is not None
    assert password_problem("andi-andi-andi-2026", "andi") is not None  # holds the username
    assert password_problem("password1234", "x") is not None
    assert password_problem("Kopi-Tubruk-Pagi-7", "andi") is None
    now = datetime(2026, 12, 1, tzinfo=UTC)
    backoff = Backoff(free=3, first_wait=timedelta(seconds=30), max_wait=timedelta(minutes=15))
    # the first attempts are checked at once; the third wrong one makes the next wait
    assert [backoff.wait_after(n) for n in (1, 2)] == [timedelta(0), timedelta(0)]
    assert backoff.wait_after(3) == timedelta(seconds=30)
    assert backoff.wait_after(4) == timedelta(seconds=60)
    assert backoff.wait_after(5) == timedelta(seconds=120)
    assert backoff.wait_after(40) == timedelta(minutes=15)  # waits, never locks for good
    assert backoff.admits(Tries(1), now)
    assert backoff.admits(Tries(3), now)
    # past the free ones, an attempt is checked only once a wait was set and is over: a
    # burst of parallel guesses (no wait written yet) is not checked beyond the free ones
    assert not backoff.admits(Tries(4), now)
    assert not backoff.admits(Tries(4, until=now + timedelta(seconds=1)), now)
    assert backoff.admits(Tries(4, until=now - timedelta(seconds=1)), now)
    assert backoff.retry_after(Tries(4, until=now + timedelta(seconds=90)), now) == timedelta(
        seconds=90
    )


def test_a_province_sign_on_grants_only_mapped_roles_in_its_own_province() -> None:
    from lapor_portal.oidc import Provider

    provider = Provider(
        name="sulsel",
        label="SSO Sulsel",
        tenant="73",
        metadata_url="http://sso/.well-known/openid-configuration",
        client_id="lapor",
        roles={
            "admin_opd": "agency_staff",
            "kominfo": "province_coordinator",
            "root": "national_admin",
        },
    )
    now = datetime(2026, 12, 1, tzinfo=UTC)
    andi = provider.account(
        {"sub": "andi", "name": "Andi", "lapor_role": "admin_opd", "lapor_agency": "73.71.pupr"},
        now,
    )
    assert (andi.username, andi.role, andi.tenant, andi.agency_id) == (
        "sulsel:andi",
        "agency_staff",
        "73",
        "73.71.pupr",
    )
    assert andi.provider == "oidc:sulsel"
    assert andi.password_hash is None
    for claims in (
        {"sub": "b", "lapor_role": "root"},  # a national role from a province: never
        {"sub": "c", "lapor_role": "admin_opd", "lapor_agency": "63.71.pupr"},  # elsewhere
        {"sub": "d", "lapor_role": "admin_opd"},  # staff without an agency
        {"sub": "e", "lapor_role": "unknown"},
        {"sub": "f", "lapor_role": ["admin_opd"]},
        {"lapor_role": "kominfo"},  # no subject
    ):
        with pytest.raises(AuthError):
            provider.account(claims, now)
    assert provider.account({"sub": "g", "lapor_role": "kominfo"}, now).role == (
        "province_coordinator"
    )


def test_the_workspace_offers_each_role_its_buttons_and_counts_working_days() -> None:
    from lapor_portal.staff.case import actions_for
    from lapor_portal.staff.deps import sla_badge

    submitted = {"status": "submitted", "tenant": "63", "agency": None}
    dispatched = {"status": "dispatched", "tenant": "63", "agency": {"id": "63.71.pupr"}}
    assert actions_for(KALSEL, submitted) == [
        "verify",
        "request_info",
        "reject",
        "mark_repeat",
        "recategorise",
    ]
    assert actions_for(STAFF, submitted) == []
    assert actions_for(STAFF, dispatched) == ["decline", "follow_up"]
    other = Account("pdam", "PDAM", "agency_staff", "63", agency_id="63.71.pdam")
    assert actions_for(other, dispatched) == []
    assert actions_for(Account("o", "O", "ombudsman", "*"), dispatched) == []
    assert actions_for(KALSEL, dispatched) == ["dispatch", "close", "recategorise"]
    # Tuesday 1 Dec 2026, due Friday 4 Dec: 3 working days left; from Tuesday 8 Dec: 2 late
    tuesday = datetime(2026, 12, 1, 3, tzinfo=UTC)
    case = {"status": "dispatched", "tenant": "63", "due_at": "2026-12-04T08:00:00+00:00"}
    left = sla_badge(case, tuesday)
    assert left is not None
    assert left["text"][0] == "sisa 3 hari kerja"
    assert not left["late"]
    late = sla_badge(case, tuesday + timedelta(days=7))
    assert late is not None
    assert late["text"][0] == "terlambat 2 hari kerja"
    assert late["late"]
    assert sla_badge({**case, "status": "closed"}, tuesday) is None


def test_the_portal_signs_with_its_first_key_and_publishes_all(tmp_path: Path) -> None:
    from lapor_portal.keys import Keys

    new, old = SigningKey.generate(), SigningKey.generate()
    (tmp_path / "new.pem").write_bytes(new.pem())
    (tmp_path / "old.pem").write_bytes(old.pem())
    keys = Keys.load(f"{tmp_path / 'new.pem'}, {tmp_path / 'old.pem'}", ttl_seconds=60)
    assert [k["kid"] for k in keys.jwks()["keys"]] == [new.kid, old.kid]
    assert all("d" not in k for k in keys.jwks()["keys"])  # never the private half
    token = keys.token_for(STAFF)
    who = verify(KeySet.from_jwks(keys.jwks()), token)
    assert (who.subject, who.role, who.agency_id) == ("pupr", "agency_staff", "63.71.pupr")
    with pytest.raises(AuthError):  # a service that knows only the old key: refused
        verify(KeySet.of(old), token)


def test_intake_lets_staff_read_what_routing_lets_them_handle_and_never_anonymous_identity() -> (
    None
):
    from lapor_intake.domain.staff import may_read, may_see_identity

    doc = {
        "tenant": "63",
        "region_code": "63.71",
        "anonymous": False,
        "agency": {"id": "63.pupr"},
        "history": [{"agency_id": "63.71.pupr"}, {"agency_id": "63.pupr"}],
    }

    def who(role: str, tenant: str = "63", **extra: str) -> Principal:
        return Principal(subject="s", role=role, tenant=tenant, **extra)

    assert may_read(who("province_coordinator"), doc)
    assert not may_read(who("province_coordinator", "73"), doc)
    assert may_read(who("regency_coordinator", region_code="63.71"), doc)
    assert not may_read(who("regency_coordinator", region_code="63.02"), doc)
    assert may_read(who("agency_staff", agency_id="63.71.pupr"), doc)  # held it before
    assert not may_read(who("agency_staff", agency_id="63.71.pdam"), doc)
    assert not may_read(who("ombudsman", "*"), doc)
    assert may_read(who("ombudsman", "*"), {**doc, "escalated_to": "00.ombudsman"})
    assert may_see_identity(who("agency_staff", agency_id="63.pupr"), doc)  # holds it now
    assert not may_see_identity(who("agency_staff", agency_id="63.71.pupr"), doc)  # left it
    assert may_see_identity(who("national_admin", "*"), doc)
    anonymous = {**doc, "anonymous": True}
    for role, extra in (
        ("national_admin", {}),
        ("province_coordinator", {}),
        ("agency_staff", {"agency_id": "63.pupr"}),
    ):
        assert not may_see_identity(
            who(role, "*" if role == "national_admin" else "63", **extra), anonymous
        )


def test_after_sign_in_only_a_local_path_is_followed() -> None:
    from lapor_portal.staff.deps import local_path as _local

    assert _local("/kerja/kasus/LPR-0000000001") == "/kerja/kasus/LPR-0000000001"
    for target in ("//evil.example", "/\\evil.example", "https://evil.example", "kerja", "/a\\b"):
        assert _local(target) == "/kerja", target


def test_totp_secrets_are_sealed_and_only_the_key_opens_them() -> None:
    from lapor_portal.keys import SecretBox

    box = SecretBox("k" * 40)
    sealed = box.seal("JBSWY3DPEHPK3PXP")
    assert "JBSWY3DPEHPK3PXP" not in sealed
    assert box.open(sealed) == "JBSWY3DPEHPK3PXP"
    assert SecretBox("x" * 40).open(sealed) is None  # another key
    assert box.open("JBSWY3DPEHPK3PXP") is None  # a value stored unsealed
