"""A report's story as its reader understands it (pure, no I/O): who said what in plain words,
the notices sent and how, what the reporter can answer now, what happens next with dates in
working days, and every problem of a report form at once, in words.

The words come from the one vocabulary, ``lapor_schemas.words``: no event type, status key or
field name reaches a page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from lapor_schemas import words
from lapor_schemas.calendar import province_calendar
from lapor_schemas.status import REPORTER_MAY

from .i18n import t

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{6,19}$")


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


def day(value: Any, tenant: str, lang: str) -> str:
    """ "Senin, 8 Desember 2026" / "Monday 8 December 2026", in the province's time zone."""
    when = _when(value)
    if when is None:
        return ""
    local = when.astimezone(province_calendar(tenant).tz)
    if lang == "en":
        return f"{local:%A} {local.day} {local:%B} {local.year}"
    return f"{words.HARI[local.weekday()]}, {local.day} {words.BULAN[local.month - 1]} {local.year}"


def history(case: Mapping[str, Any], viewer: words.Viewer, lang: str) -> list[dict[str, Any]]:
    """Each entry of a report's history: when, who (in words), what happened, its text, and
    a rating's score or a closing's reason in words."""
    lines = []
    entries = list(case.get("history") or ())
    kinds = {str(e.get("type") or "") for e in entries}
    for entry in entries:
        kind = str(entry.get("type") or "")
        if kind == "case.rated" and "case.reporter_rated" in kinds:
            continue  # the rating itself is the reporter's own entry
        echo = (
            words.actor_kind(entry)[0] == "reporter"
            and kind not in words.REPORTER_EVENTS
            and kind != "complaint.submitted"
        )
        if echo:
            # what the reporter's answer caused (closed, back to the agency): the system's
            # record of it, without repeating the reporter's words
            entry = {k: v for k, v in entry.items() if k not in ("actor", "text")}
            entry["actor"] = {"kind": "system"}
        what = words.event(kind, lang)
        if kind in ("case.dispatched", "case.escalated") and entry.get("agency_name"):
            what = f"{what}: {entry['agency_name']}"
        line: dict[str, Any] = {
            "at": entry.get("at"),
            "who": words.actor(entry, viewer, lang),
            "what": what,
            "text": entry.get("text"),
            "reason": words.reason(entry.get("reason"), lang),
            "mine": words.actor_kind(entry)[0] == "reporter",
        }
        if entry.get("score"):
            line["score"] = t("score_n", lang).replace("{n}", str(entry["score"]))
        lines.append(line)
    return lines


def notices(items: Iterable[Mapping[str, Any]], lang: str) -> list[dict[str, Any]]:
    """The notices sent to the reporter, one line per event with every way it was sent
    ("Laporan Anda diterima — Email, SMS, Kotak masuk LAPOR!")."""
    by_event: dict[str, dict[str, Any]] = {}
    for item in items:
        # a delivery's id is "<event id>:<recipient>:<channel>": one line per event
        key = str(item.get("cause_event_id") or str(item.get("id") or "").rsplit(":", 2)[0])
        line = by_event.setdefault(
            key,
            {
                "at": item.get("created_at"),
                "what": words.notice(str(item.get("cause_event_type") or ""), lang),
                "how": [],
            },
        )
        how = words.channel(str(item.get("channel") or ""), lang)
        if how not in line["how"]:
            line["how"].append(how)
    return sorted(by_event.values(), key=lambda n: str(n["at"] or ""))


def answers(case: Mapping[str, Any], owner: bool) -> dict[str, bool]:
    """What the reporter may answer now (the status decides; routing decides in the end)."""
    status = str(case.get("status"))
    return {action: owner and status in allowed for action, allowed in REPORTER_MAY.items()}


def question(case: Mapping[str, Any]) -> str | None:
    """The officer's question while details are asked for."""
    if case.get("status") != "needs_info":
        return None
    for entry in reversed(case.get("history") or ()):
        if entry.get("type") == "case.info_requested":
            return str(entry.get("text") or "") or None
    return None


def next_steps(case: Mapping[str, Any], channels: Sequence[str], lang: str) -> list[str]:
    """What happens after filing, with the verification date in the province's working days."""
    tenant = str(case.get("region_code") or "63")[:2]
    submitted = _when(case.get("submitted_at"))
    lines = []
    if submitted is not None:
        verify_by = province_calendar(tenant).add_working_days(submitted, 3)
        lines.append(t("next_verify", lang).replace("{date}", day(verify_by, tenant, lang)))
    lines.append(t("next_dispatch", lang))
    how = ""
    if channels:
        named = ", ".join(words.channel(c, lang) for c in channels)
        how = t("next_how", lang).replace("{channels}", named)
    lines.append(t("next_told", lang).replace("{how}", how))
    return lines


def form_problems(
    values: Mapping[str, Any], categories: Sequence[str], lang: str
) -> dict[str, str]:
    """Every problem of a report form at once, in words, in the order of the form (intake
    checks everything again; this spares the citizen rounds of errors)."""
    problems: dict[str, str] = {}
    title = str(values.get("title") or "").strip()
    description = str(values.get("description") or "").strip()
    if not 5 <= len(title) <= 200:
        problems["title"] = t("need_title", lang)
    if not 10 <= len(description) <= 5000:
        problems["description"] = t("need_description", lang)
    if values.get("category") not in categories:
        problems["category"] = t("need_category", lang)
    lat, lon = str(values.get("lat") or "").strip(), str(values.get("lon") or "").strip()
    located = False
    if lat or lon:
        try:
            located = -90 <= float(lat) <= 90 and -180 <= float(lon) <= 180
        except ValueError:
            located = False
        if not located:
            problems["location"] = t("bad_location", lang)
    if not values.get("region_code") and not located and "location" not in problems:
        problems["region_code"] = t("need_region", lang)
    name = str(values.get("name") or "").strip()
    email = str(values.get("email") or "").strip()
    phone = str(values.get("phone") or "").strip()
    if not values.get("anonymous"):
        if not name:
            problems["name"] = t("need_name", lang)
        if not email and not phone:
            problems["email"] = t("need_contact", lang)
    if email and not EMAIL.match(email):
        problems["email"] = t("bad_email", lang)
    if phone and not PHONE.match(phone):
        problems["phone"] = t("bad_phone", lang)
    via = set(values.get("notify_via") or ())
    if "email" in via and not email:
        problems.setdefault("email", t("need_email_for", lang))
    if via & {"sms", "whatsapp"} and not phone:
        problems.setdefault("phone", t("need_phone_for", lang))
    return problems
