"""Attacks on staff sign-in and sessions, each of which must fail: parallel guessing, a
stranger locking staff out, sessions that outlive a sign-in, a sign-out or a password
change, guesses on the password forms, a two-step key chosen by the form, and what the
audit log keeps of a failed sign-in. The portal runs in-process on the real store."""

from __future__ import annotations

import asyncio
import re
import time

import pyotp
import pytest

from lapor_devstack.settings import StackSettings
from lapor_portal.seed import DEV_PASSWORD
from tests.security.harness import form_token, hidden, portal, sign_in

pytestmark = [pytest.mark.integration]

WRONG = "bukan-sandinya-12"


async def test_parallel_wrong_passwords_all_count_and_the_right_one_then_waits(
    infra: object, stack_settings: StackSettings
) -> None:
    """Found: 12 parallel wrong passwords followed by the right one signed in (the failure
    counter was read, then overwritten), and the account never locked."""
    async with portal(stack_settings) as p:
        async with p.client() as attacker:
            csrf = await form_token(attacker)
            tried = await asyncio.gather(
                *(sign_in(attacker, "banjarmasin.pupr", WRONG, csrf=csrf) for _ in range(12))
            )
            checked = [r for r in tried if r.status_code == 401]
            waited = [r for r in tried if r.status_code == 429]
            assert len(checked) + len(waited) == 12
            assert len(checked) <= p.settings.lockout_failures  # a burst gets the free ones only
            right = await sign_in(attacker, "banjarmasin.pupr", DEV_PASSWORD, csrf=csrf)
            assert right.status_code == 429, right.text
            assert "Coba lagi dalam" in right.text
            assert "lapor_sesi" not in right.headers.get("set-cookie", "")
        # the store's counter saw every attempt, parallel ones included
        doc = await p.db()["signin_attempts"].find_one({"_id": "u:banjarmasin.pupr"})
        assert doc is not None
        assert doc["count"] == 13


async def test_a_stranger_cannot_lock_staff_out(
    infra: object, stack_settings: StackSettings
) -> None:
    """Found: 5 anonymous wrong passwords locked a guessable username for 15 minutes,
    repeatably. Now they only make the stranger wait; the owner signs in from the device
    they used before, and with a two-step code from anywhere."""
    async with portal(stack_settings) as p:
        async with p.client("198.51.100.7") as owner, p.client("203.0.113.66") as stranger:
            first = await sign_in(owner, "banjarmasin.pupr")  # the owner's usual PC
            assert first.status_code == 303
            await owner.post("/keluar")
            for _ in range(6):
                await sign_in(stranger, "banjarmasin.pupr", WRONG)
            blocked = await sign_in(stranger, "banjarmasin.pupr", DEV_PASSWORD)
            assert blocked.status_code == 429
            assert "dikunci" not in blocked.text  # it waits, it is not locked
            back = await sign_in(owner, "banjarmasin.pupr")
            assert back.status_code == 303, back.text
            # another device of the owner's, without the cookie: the username waits there,
            # unless the owner gives a two-step code (a stranger has none)
        async with p.client("198.51.100.8") as laptop:
            assert (await sign_in(laptop, "banjarmasin.pupr")).status_code == 429


async def test_a_two_step_code_gets_the_owner_past_a_strangers_guessing(
    infra: object, stack_settings: StackSettings
) -> None:
    async with portal(stack_settings) as p:
        async with p.client("198.51.100.9") as owner:
            assert (await sign_in(owner, "kalsel.pupr")).status_code == 303
            me = await owner.get("/kerja/akun/saya")
            start = await owner.post(
                "/kerja/akun/saya/2fa",
                data={"csrf": hidden(me.text, "csrf"), "step": "mulai", "password": DEV_PASSWORD},
            )
            key = re.search(r'id="kunci-totp">([A-Z2-7]+)<', start.text)
            assert key, start.text
            totp = pyotp.TOTP(key.group(1))
            on = await owner.post(
                "/kerja/akun/saya/2fa", data={"csrf": hidden(me.text, "csrf"), "code": totp.now()}
            )
            assert "Verifikasi dua langkah aktif" in on.text
        async with p.client("203.0.113.67") as stranger:
            for _ in range(7):
                await sign_in(stranger, "kalsel.pupr", WRONG)
        async with p.client("198.51.100.10") as elsewhere:  # a device never used before
            code = totp.at((int(time.time()) // 30 + 1) * 30)  # not used yet
            done = await sign_in(elsewhere, "kalsel.pupr", DEV_PASSWORD, code)
            assert done.status_code == 303, done.text


async def test_sessions_end_at_sign_in_sign_out_and_password_change(
    infra: object, stack_settings: StackSettings
) -> None:
    """Found: signing in again left the older session valid; a password change left other
    sessions alive; POST /keluar without a valid form token left the session valid."""
    async with (
        portal(stack_settings) as p,
        p.client() as office,
        p.client() as home,
        p.client() as thief,
    ):
        assert (await sign_in(office, "banjarmasin.koordinator")).status_code == 303
        old = office.cookies["lapor_sesi"]
        assert (await sign_in(office, "banjarmasin.koordinator")).status_code == 303
        assert office.cookies["lapor_sesi"] != old
        thief.cookies.set("lapor_sesi", old)  # a copy of the earlier token
        assert (await thief.get("/kerja")).status_code == 303  # back to sign-in
        # a sign-out without any form token still ends the server's session
        stolen = office.cookies["lapor_sesi"]
        assert (await office.post("/keluar")).status_code == 303
        thief.cookies.set("lapor_sesi", stolen)
        assert (await thief.get("/kerja")).headers["location"].startswith("/masuk")
        # a password change ends every other session, keeps this one
        assert (await sign_in(office, "banjarmasin.koordinator")).status_code == 303
        assert (await sign_in(home, "banjarmasin.koordinator")).status_code == 303
        me = await office.get("/kerja/akun/saya")
        changed = await office.post(
            "/kerja/akun/saya/sandi",
            data={
                "csrf": hidden(me.text, "csrf"),
                "current": DEV_PASSWORD,
                "new": "Kopi-Tubruk-Pagi-77",
                "again": "Kopi-Tubruk-Pagi-77",
            },
        )
        assert changed.status_code == 303
        assert (await office.get("/kerja")).status_code == 200
        assert (await home.get("/kerja")).headers["location"].startswith("/masuk")


async def test_the_password_forms_ask_again_and_stop_guessing(
    infra: object, stack_settings: StackSettings
) -> None:
    """Found: unlimited guesses of the current password on the change form; two-step on and
    off without the password; an enrolment key chosen by the client."""
    async with (
        portal(stack_settings) as p,
        p.client() as session,
    ):  # a session left open on a shared PC
        assert (await sign_in(session, "kalsel.koordinator")).status_code == 303
        me = await session.get("/kerja/akun/saya")
        csrf = hidden(me.text, "csrf")
        answers = []
        for n in range(8):
            answers.append(
                await session.post(
                    "/kerja/akun/saya/sandi",
                    data={
                        "csrf": csrf,
                        "current": f"tebakan-{n}-0000",
                        "new": "Kopi-Tubruk-Pagi-77",
                        "again": "Kopi-Tubruk-Pagi-77",
                    },
                )
            )
        assert "Kata sandi sekarang salah" in answers[0].text
        assert "Coba lagi dalam" in answers[-1].text
        # even the right one waits now
        right = await session.post(
            "/kerja/akun/saya/sandi",
            data={
                "csrf": csrf,
                "current": DEV_PASSWORD,
                "new": "Kopi-Tubruk-Pagi-77",
                "again": "Kopi-Tubruk-Pagi-77",
            },
        )
        assert "Coba lagi dalam" in right.text
        # two-step: no password, no enrolment; a key chosen by the form is never used
        unasked = await session.post("/kerja/akun/saya/2fa", data={"csrf": csrf, "step": "mulai"})
        assert unasked.status_code == 401
        chosen = pyotp.random_base32()
        forged = await session.post(
            "/kerja/akun/saya/2fa",
            data={"csrf": csrf, "secret": chosen, "code": pyotp.TOTP(chosen).now()},
        )
        assert forged.status_code == 422
        assert "Verifikasi dua langkah aktif" not in forged.text


async def test_a_failed_sign_in_keeps_no_typed_secret_in_the_audit_log(
    infra: object, stack_settings: StackSettings
) -> None:
    """Found: a password typed into the username field was kept in the audit log."""
    async with portal(stack_settings) as p, p.client() as typo, p.client() as admin:
        await sign_in(typo, "Kopi-Tubruk-Pagi-77", "")
        await sign_in(typo, "kopi.tubruk.pagi.77", "x")  # a valid shape, no such account
        await sign_in(typo, "banjarmasin.pdam", WRONG)
        assert (await sign_in(admin, "admin.nasional")).status_code == 303
        log = (await admin.get("/kerja/audit.csv")).text
        assert "kopi" not in log.lower()
        assert "banjarmasin.pdam" in log  # a real account's failed sign-in is kept


async def test_the_portal_counts_sign_ins_for_prometheus(
    infra: object, stack_settings: StackSettings
) -> None:
    async with portal(stack_settings) as p, p.client() as browser:
        start = (await browser.get("/metrics")).text
        assert 'lapor_signin_attempts_total{outcome="wrong"} 0.0' in start
        await sign_in(browser, "banjarmasin.pupr", WRONG)
        await sign_in(browser, "banjarmasin.pupr")
        scraped = (await browser.get("/metrics")).text
        assert 'lapor_signin_attempts_total{outcome="wrong"} 1.0' in scraped
        assert 'lapor_signin_attempts_total{outcome="success"} 1.0' in scraped
        # through the ingress (a forwarded request) the public portal has no metrics
        hidden_metrics = await browser.get("/metrics", headers={"X-Forwarded-For": "1.2.3.4"})
        assert hidden_metrics.status_code == 404
