from __future__ import annotations

from datetime import UTC, date, datetime

from lapor_schemas.calendar import Calendar

WITA = Calendar.for_tenant("Asia/Makassar")


def local(dt: datetime) -> tuple[date, int]:
    moment = dt.astimezone(WITA.tz)
    return moment.date(), moment.hour


def test_weekends_are_not_working_days() -> None:
    friday = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # Friday 10:00 WITA
    due = WITA.add_working_days(friday, 3)
    assert local(due) == (date(2026, 11, 25), 23)  # Mon, Tue, Wed


def test_national_holidays_and_cuti_bersama_are_skipped() -> None:
    # 2026: 20-21 Mar Idul Fitri (Fri, Sat), 23-24 Mar cuti bersama (Mon, Tue)
    thursday = datetime(2026, 3, 19, 1, 0, tzinfo=UTC)  # Nyepi itself, a holiday
    due = WITA.add_working_days(thursday, 3)
    assert local(due)[0] == date(2026, 3, 27)  # Wed 25, Thu 26, Fri 27
    assert not WITA.is_working_day(date(2026, 3, 23))
    assert WITA.is_working_day(date(2026, 3, 25))


def test_the_day_is_the_tenants_local_day() -> None:
    # 23:30 UTC on Sunday is already Monday 07:30 in WITA
    late = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert WITA.local_day(late) == date(2026, 11, 23)
    wib = Calendar.for_tenant("Asia/Jakarta")
    assert wib.local_day(late) == date(2026, 11, 23)
    assert local(WITA.add_working_days(late, 1))[0] == date(2026, 11, 24)


def test_local_holidays_of_a_tenant_count_too() -> None:
    with_local = Calendar.for_tenant("Asia/Makassar", [date(2026, 11, 24)])
    monday = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert local(with_local.add_working_days(monday, 1))[0] == date(2026, 11, 25)
    assert local(WITA.add_working_days(monday, 1))[0] == date(2026, 11, 24)


def test_reminders_and_elapsed_working_days() -> None:
    due = WITA.add_working_days(datetime(2026, 11, 20, 2, 0, tzinfo=UTC), 5)  # Fri 27 Nov
    reminder = WITA.working_days_before(due, 1)
    assert local(reminder) == (date(2026, 11, 26), 8)
    start = datetime(2026, 12, 23, 2, 0, tzinfo=UTC)
    end = datetime(2026, 12, 30, 2, 0, tzinfo=UTC)
    # 24 (cuti bersama), 25 (Natal), weekend: 28, 29, 30 count
    assert WITA.working_days_between(start, end) == 3


def test_working_time_counts_only_working_days_in_local_time() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from lapor_schemas.calendar import province_calendar, working_time_days

    kalsel = province_calendar("63")
    assert kalsel.tz == ZoneInfo("Asia/Makassar")
    wita = ZoneInfo("Asia/Makassar")
    friday = datetime(2026, 11, 20, 16, 0, tzinfo=wita)
    monday = datetime(2026, 11, 23, 10, 0, tzinfo=wita)
    assert working_time_days(kalsel, friday, monday) == 0.75  # 8 h Friday + 10 h Monday
    # 17 August 2026 (Monday) is Independence Day: it does not count
    before = datetime(2026, 8, 14, 12, 0, tzinfo=wita)
    after = datetime(2026, 8, 18, 12, 0, tzinfo=wita)
    assert working_time_days(kalsel, before, after) == 1.0
    assert working_time_days(kalsel, monday, friday) == 0.0
    assert working_time_days(kalsel, monday.astimezone(UTC), monday.astimezone(UTC)) == 0.0
