"""Working days: Monday to Friday minus national holidays, cuti bersama and a tenant's local
holidays, in the tenant's time zone. Pure. Shared reference: routing sets deadlines with it,
metrics measures speed in working days with it. The days are data
(``reference/holidays.json``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from importlib.resources import files
from zoneinfo import ZoneInfo


@cache
def national_days() -> frozenset[date]:
    raw = json.loads(
        files("lapor_schemas").joinpath("reference", "holidays.json").read_text(encoding="utf-8")
    )
    return frozenset(date.fromisoformat(d["date"]) for d in raw["days"])


@dataclass(frozen=True, slots=True)
class Calendar:
    holidays: frozenset[date]
    tz: ZoneInfo

    @classmethod
    def for_tenant(cls, timezone: str, local_holidays: Iterable[date] = ()) -> Calendar:
        return cls(national_days() | frozenset(local_holidays), ZoneInfo(timezone))

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The end (23:59:59 local) of the ``days``-th working day after ``start``'s day."""
        day = self.local_day(start)
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return datetime.combine(day, time(23, 59, 59), self.tz)

    def working_days_before(self, deadline: datetime, days: int) -> datetime:
        """08:00 local on the working day ``days`` working days before the deadline's day."""
        day = self.local_day(deadline)
        counted = 0
        while counted < days:
            day -= timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return datetime.combine(day, time(8, 0), self.tz)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Whole working days after ``start``'s day up to and including ``end``'s day."""
        day, last = self.local_day(start), self.local_day(end)
        count = 0
        while day < last:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


def province_calendar(province_code: str) -> Calendar:
    """The national calendar in the province's time zone (without local holidays, which are
    routing's tenant policy)."""
    from .reference import regions

    province = regions().get(province_code)
    return Calendar.for_tenant(province.timezone if province else "Asia/Jakarta")


def working_time_days(calendar: Calendar, start: datetime, end: datetime) -> float:
    """How much working time lies between two moments, in days of 24 hours: only the parts
    that fall on working days (local time) count. Friday 16:00 to Monday 10:00 is 0.75."""
    if end <= start:
        return 0.0
    local_start, local_end = start.astimezone(calendar.tz), end.astimezone(calendar.tz)
    total = 0.0
    day = local_start.date()
    while day <= local_end.date():
        if calendar.is_working_day(day):
            day_start = datetime.combine(day, time(0, 0), calendar.tz)
            day_end = day_start + timedelta(days=1)
            lo, hi = max(day_start, local_start), min(day_end, local_end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total / 86400.0
