"""The provinces' evaluation, computed from the per-case projection. Pure: no I/O.

Speeds are in working days (only time on working days counts, in the province's time zone).
Service-level shares count what is decided and what is already overdue: a case still open
past its deadline is a miss now, not a case left out; a case still open within its deadline is
not counted yet.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lapor_schemas.calendar import province_calendar, working_time_days
from lapor_schemas.reference import Region, categories, regions

from .counters import OPEN_STATUSES, STAGE_OF, agency_level

LOW_VOLUME_PER_YEAR = 50


def is_open(case: Mapping[str, Any]) -> bool:
    return case.get("closed_at") is None and case.get("status") in OPEN_STATUSES


def overdue(case: Mapping[str, Any], now: datetime) -> bool:
    if not is_open(case):
        return False
    stage = STAGE_OF.get(case.get("status", ""))
    if stage == "verify":
        return case.get("screened_at") is None and now > case["verify_due"]
    if stage == "follow_up":
        due = case.get("follow_up_due")
        return case.get("followed_up_at") is None and due is not None and now > due
    return False


def backlog(
    cases: Iterable[Mapping[str, Any]], now: datetime
) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(province, regency, stage) -> (open, overdue) right now."""
    out: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for c in cases:
        if not is_open(c):
            continue
        key = (c["province"], c["regency"], STAGE_OF.get(c["status"], "other"))
        out[key][0] += 1
        out[key][1] += int(overdue(c, now))
    return {k: (v[0], v[1]) for k, v in out.items()}


@dataclass(slots=True)
class Sla:
    met: int = 0
    missed: int = 0
    pending: int = 0

    @property
    def share(self) -> float | None:
        decided = self.met + self.missed
        return round(self.met / decided, 4) if decided else None


def verify_sla(case: Mapping[str, Any], now: datetime, sla: Sla) -> None:
    screened = case.get("screened_at")
    if screened is not None:
        if screened <= case["verify_due"]:
            sla.met += 1
        else:
            sla.missed += 1
    elif not is_open(case) or now <= case["verify_due"] or case.get("status") == "needs_info":
        sla.pending += 1  # undecided: not late yet, or waiting for the reporter's details
    else:
        sla.missed += 1


def follow_up_sla(case: Mapping[str, Any], now: datetime, sla: Sla) -> None:
    if case.get("last_dispatched_at") is None:
        return  # never reached an agency
    done, due = case.get("followed_up_at"), case.get("follow_up_due")
    if done is not None:
        if due is None or done <= due:
            sla.met += 1
        else:
            sla.missed += 1
    elif due is not None and now > due and is_open(case):
        sla.missed += 1
    else:
        sla.pending += 1


def follow_up_days(case: Mapping[str, Any]) -> float | None:
    start, end = case.get("last_dispatched_at"), case.get("followed_up_at")
    if start is None or end is None:
        return None
    return working_time_days(province_calendar(case["province"]), start, end)


def verification_days(case: Mapping[str, Any]) -> float | None:
    start, end = case.get("submitted_at"), case.get("screened_at")
    if start is None or end is None:
        return None
    return working_time_days(province_calendar(case["province"]), start, end)


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def _regions_of(province: str) -> list[Region]:
    return [r for r in regions().values() if r.province_code == province and r.kind != "province"]


def ranking(
    cases: Sequence[Mapping[str, Any]], province: str, now: datetime
) -> list[dict[str, Any]]:
    """Regencies/cities of a province ranked by complaints received (more first), then by
    follow-up speed (faster first); every region appears, also with no complaints."""
    by_region: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for c in cases:
        by_region[c["regency"]].append(c)
    rows = []
    for region in _regions_of(province):
        mine = by_region.get(region.code, [])
        speeds = [d for c in mine if (d := follow_up_days(c)) is not None]
        screening = [d for c in mine if (d := verification_days(c)) is not None]
        verify, follow = Sla(), Sla()
        for c in mine:
            verify_sla(c, now, verify)
            follow_up_sla(c, now, follow)
        rows.append(
            {
                "region_code": region.code,
                "region_name": region.name,
                "complaints": len(mine),
                "followed_up": len(speeds),
                "avg_follow_up_working_days": _mean(speeds),
                "avg_verification_working_days": _mean(screening),
                "verified_within_3_working_days_share": verify.share,
                "followed_up_within_5_working_days_share": follow.share,
                "open": sum(1 for c in mine if is_open(c)),
                "overdue": sum(1 for c in mine if overdue(c, now)),
                "low_volume": len(mine) < LOW_VOLUME_PER_YEAR,
            }
        )

    def order(row: dict[str, Any]) -> tuple[int, float, str]:
        speed = row["avg_follow_up_working_days"]
        return (
            -int(row["complaints"]),
            float("inf") if speed is None else speed,
            row["region_code"],
        )

    rows.sort(key=order)
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
        if row["complaints"]:
            speed = row["avg_follow_up_working_days"]
            row["summary"] = f"{row['region_name']}: {row['complaints']} pengaduan" + (
                f", tindak lanjut rata-rata {speed:.1f} hari kerja" if speed is not None else ""
            )
    return rows


def low_volume(
    cases: Sequence[Mapping[str, Any]], province: str, threshold: int = LOW_VOLUME_PER_YEAR
) -> list[dict[str, Any]]:
    """Regions with fewer than ``threshold`` complaints in the range (they need outreach)."""
    counts = Counter(c["regency"] for c in cases)
    return [
        {
            "region_code": r.code,
            "region_name": r.name,
            "complaints": counts.get(r.code, 0),
            "threshold": threshold,
        }
        for r in _regions_of(province)
        if counts.get(r.code, 0) < threshold
    ]


def category_map(cases: Sequence[Mapping[str, Any]], province: str) -> list[dict[str, Any]]:
    """Per region: where it is and what people complain about most there."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for c in cases:
        counts[c["regency"]][c["category"]] += 1
    catalogue = categories()
    out = []
    for r in _regions_of(province):
        ranked = counts.get(r.code, Counter()).most_common()
        out.append(
            {
                "region_code": r.code,
                "region_name": r.name,
                "lat": r.lat,
                "lon": r.lon,
                "complaints": sum(n for _, n in ranked),
                "top_category": ranked[0][0] if ranked else None,
                "categories": [
                    {
                        "category": code,
                        "name": catalogue[code].name if code in catalogue else code,
                        "complaints": n,
                    }
                    for code, n in ranked
                ],
            }
        )
    return out


def speed_by_level(cases: Sequence[Mapping[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Province-level agencies against regency/city-level ones: how fast they follow up."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for c in cases:
        if c.get("last_dispatched_at") is not None:
            groups[agency_level(c.get("followed_up_by") or c.get("agency_id"))].append(c)
    out = []
    for level in ("province", "regency", "national"):
        mine = groups.get(level, [])
        if not mine:
            continue
        speeds = [d for c in mine if (d := follow_up_days(c)) is not None]
        sla = Sla()
        for c in mine:
            follow_up_sla(c, now, sla)
        out.append(
            {
                "level": level,
                "dispatched": len(mine),
                "followed_up": len(speeds),
                "avg_follow_up_working_days": _mean(speeds),
                "followed_up_within_5_working_days_share": sla.share,
            }
        )
    return out


HOTSPOT_FACTOR = 3.0
HOTSPOT_WEEKS = 8
HOTSPOT_MINIMUM = 3
"""A hotspot: one category's complaints in one region in the last 7 days reach 3× its weekly
average over the 8 weeks before (and at least 3, so one complaint after a quiet spell is not
a wave). The Prometheus alert ``LaporComplaintHotspot`` states the same rule."""


def category_weeks(
    cases: Sequence[Mapping[str, Any]], now: datetime, weeks: int = HOTSPOT_WEEKS
) -> dict[tuple[str, str, str], tuple[int, float]]:
    """(province, regency, category) -> (complaints in the last 7 days, weekly average over
    the ``weeks`` weeks before them), for every combination seen in that time."""
    this_week: Counter[tuple[str, str, str]] = Counter()
    before: Counter[tuple[str, str, str]] = Counter()
    start = now - timedelta(days=7)
    earliest = start - timedelta(days=7 * weeks)
    for c in cases:
        at = c["submitted_at"]
        key = (c["province"], c["regency"], c["category"])
        if start <= at <= now:
            this_week[key] += 1
        elif earliest <= at < start:
            before[key] += 1
    return {
        key: (this_week.get(key, 0), round(before.get(key, 0) / weeks, 3))
        for key in set(this_week) | set(before)
    }


def hotspots(
    cases: Sequence[Mapping[str, Any]],
    province: str,
    now: datetime,
    factor: float = HOTSPOT_FACTOR,
    minimum: int = HOTSPOT_MINIMUM,
) -> list[dict[str, Any]]:
    """The hotspots of a province now, the sharpest rise first."""
    catalogue = categories()
    names = {r.code: r.name for r in regions().values()}
    rows: list[dict[str, Any]] = []
    for (prov, regency, category), (week, average) in category_weeks(cases, now).items():
        if prov != province or week < minimum or week < factor * average:
            continue
        rows.append(
            {
                "region_code": regency,
                "region_name": names.get(regency, regency),
                "category_code": category,
                "category": catalogue[category].name if category in catalogue else category,
                "this_week": week,
                "weekly_average": average,
                "ratio": round(week / average, 2) if average else None,
            }
        )
    # a rise from nothing first, then by how many times the usual week
    rows.sort(key=lambda r: (r["ratio"] is not None, -(r["ratio"] or 0), -r["this_week"]))
    return rows
