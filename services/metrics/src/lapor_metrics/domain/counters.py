"""Business counters: each event maps to increments of labelled counters.

Labels are bounded by construction: directory ids and codes, never tracking ids or free text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lapor_schemas import CaseDispatched, ComplaintSubmitted, NotificationEvent

# metric name -> (help text, label names)
COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "lapor_complaints_received": (
        "Reports received, by province, regency/city (Kemendagri code), channel and type.",
        ("province", "regency", "channel", "type"),
    ),
    "lapor_repeat_reports": (
        "Reports linked as a repeat of an open report with the same substance.",
        ("province", "regency", "category"),
    ),
    "lapor_dispatches": (
        "Cases dispatched to an agency (including re-dispatches).",
        ("province", "agency"),
    ),
    "lapor_notifications": (
        "Notification outcomes by channel, recipient role and status.",
        ("province", "channel", "recipient_role", "status"),
    ),
}


@dataclass(frozen=True, slots=True)
class Increment:
    metric: str
    labels: tuple[tuple[str, str], ...]
    amount: float = 1.0

    @property
    def key(self) -> str:
        return f"{self.metric}|{json.dumps(dict(self.labels), sort_keys=True)}"


def _inc(metric: str, **labels: str) -> Increment:
    names = COUNTERS[metric][1]
    assert set(labels) == set(names), (metric, labels)
    return Increment(metric, tuple((n, labels[n]) for n in names))


def increments(event: Any) -> list[Increment]:
    if isinstance(event, ComplaintSubmitted):
        d = event.data
        incs = [
            _inc(
                "lapor_complaints_received",
                province=d.province_code,
                regency=d.region_code,
                channel=d.channel.value,
                type=d.type.value,
            )
        ]
        if d.repeat_of is not None:
            incs.append(
                _inc(
                    "lapor_repeat_reports",
                    province=d.province_code,
                    regency=d.region_code,
                    category=d.category,
                )
            )
        return incs
    if isinstance(event, CaseDispatched):
        return [_inc("lapor_dispatches", province=event.tenant, agency=event.data.agency.id)]
    if isinstance(event, NotificationEvent):
        d2 = event.data
        return [
            _inc(
                "lapor_notifications",
                province=event.tenant,
                channel=d2.channel,
                recipient_role=d2.recipient_role,
                status=d2.status,
            )
        ]
    return []


def merge(incs: list[Increment]) -> dict[str, Increment]:
    """Sum increments by counter key (one store update per counter per batch)."""
    out: dict[str, Increment] = {}
    for inc in incs:
        prev = out.get(inc.key)
        out[inc.key] = (
            inc if prev is None else Increment(inc.metric, inc.labels, prev.amount + inc.amount)
        )
    return out


def family_samples(
    docs: Sequence[Mapping[str, Any]],
) -> dict[str, list[tuple[dict[str, str], float]]]:
    by_metric: dict[str, list[tuple[dict[str, str], float]]] = {m: [] for m in COUNTERS}
    for doc in docs:
        if doc.get("metric") in by_metric:
            by_metric[doc["metric"]].append((dict(doc["labels"]), float(doc["value"])))
    return by_metric
