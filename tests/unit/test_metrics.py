from __future__ import annotations

from datetime import UTC, datetime

from lapor_metrics.domain.counters import COUNTERS, family_samples, increments, merge
from lapor_schemas import (
    ComplaintSubmitted,
)
from tests.factories import dispatched, submitted

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _submitted(region: str, channel: str = "web") -> ComplaintSubmitted:
    return submitted(region=region, channel=channel, type="aspirasi", category="lainnya")


def test_submission_counts_by_province_regency_channel_and_type() -> None:
    [inc] = increments(_submitted("63.71", "sms"))
    assert inc.metric == "lapor_complaints_received"
    assert dict(inc.labels) == {
        "province": "63",
        "regency": "63.71",
        "channel": "sms",
        "type": "aspirasi",
    }


def test_dispatch_counts_per_agency() -> None:
    event = dispatched(agency_id="63.71.kominfo", rule="region-coordinator", category="lainnya")
    [inc] = increments(event)
    assert dict(inc.labels) == {"province": "63", "agency": "63.71.kominfo"}


def test_merge_sums_increments_of_the_same_series() -> None:
    incs = [i for r in ["63.71", "63.71", "63.72"] for i in increments(_submitted(r))]
    merged = merge(incs)
    assert sorted(i.amount for i in merged.values()) == [1.0, 2.0]


def test_labels_never_include_tracking_ids_or_free_text() -> None:
    for _, labels in COUNTERS.values():
        assert not {"tracking_id", "title", "description", "name"} & set(labels)
    samples = family_samples(
        [{"metric": "lapor_dispatches", "labels": {"agency": "a"}, "value": 3}]
    )
    assert samples["lapor_dispatches"] == [({"agency": "a"}, 3.0)]


def test_repeats_are_counted_by_region_and_category() -> None:
    event = _submitted("63.71")
    repeat = event.model_copy(
        update={
            "data": event.data.model_copy(
                update={"repeat_of": "LPR-0000000009", "repeat_score": 0.7}
            )
        }
    )
    assert [i.metric for i in increments(event)] == ["lapor_complaints_received"]
    incs = increments(repeat)
    assert [i.metric for i in incs] == ["lapor_complaints_received", "lapor_repeat_reports"]
    assert dict(incs[1].labels) == {"province": "63", "regency": "63.71", "category": "lainnya"}
