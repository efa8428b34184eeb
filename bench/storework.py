"""The store work per complaint, from the services' ``lapor_store_*`` counters."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from collections import defaultdict

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

STORE_METRICS = ("lapor_store_commands", "lapor_store_documents", "lapor_store_command_seconds")
Key = tuple[str, str, str, str]  # metric, service, command, collection


def _families(url: str) -> list[Metric]:
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (our http URLs)
        return list(text_string_to_metric_families(answer.read().decode()))


def scrape(urls: list[str]) -> dict[Key, float]:
    totals: dict[Key, float] = defaultdict(float)
    for url in urls:
        for family in _families(url):
            if family.name not in STORE_METRICS:
                continue
            for sample in family.samples:
                if not sample.name.endswith("_total"):
                    continue
                labels = sample.labels
                key = (family.name, labels["service"], labels["command"], labels["collection"])
                totals[key] += sample.value
    return totals


def consumer_lag(metrics_url: str) -> float:
    """The records no consumer group has processed yet (metrics service's gauge)."""
    return sum(
        sample.value
        for family in _families(metrics_url)
        if family.name == "lapor_consumer_lag_records"
        for sample in family.samples
    )


async def until_quiet(metrics_url: str, timeout: float = 900.0) -> float:
    """Wait until every consumer group has caught up (twice in a row); returns the seconds
    waited. Measurements after a full-speed run would otherwise share the store with its
    leftovers (notify and metrics run behind routing)."""
    start = time.monotonic()
    calm = 0
    while calm < 2:
        if time.monotonic() - start > timeout:
            raise TimeoutError("the services did not catch up")
        await asyncio.sleep(1.0)
        try:
            lag = consumer_lag(metrics_url)
        except OSError:  # (urllib's errors are OSErrors) a scrape past its deadline: again
            calm = 0
            continue
        calm = calm + 1 if lag == 0 else 0
    return round(time.monotonic() - start, 1)


def per_complaint(
    before: dict[Key, float], after: dict[Key, float], n: int, seconds: float
) -> dict[str, object]:
    """Commands, documents and client-side seconds per complaint, by service and in all, the
    busiest (service, command, collection) triples of each, and the documents written per
    second over ``seconds``."""
    delta = {k: after[k] - before.get(k, 0.0) for k in after}
    written = sum(v for k, v in delta.items() if k[0] == "lapor_store_documents")
    out: dict[str, object] = {"documents_per_second": round(written / seconds, 1)}
    for metric, label in zip(STORE_METRICS, ("commands", "documents", "seconds"), strict=True):
        digits = 5 if label == "seconds" else 2
        by_service: dict[str, float] = defaultdict(float)
        for (m, service, _, _), v in delta.items():
            if m == metric:
                by_service[service] += v
        out[f"{label}_per_complaint"] = {
            "all": round(sum(by_service.values()) / n, digits),
            **{s: round(v / n, digits) for s, v in sorted(by_service.items())},
        }
        busiest = sorted(((v, k) for k, v in delta.items() if k[0] == metric), reverse=True)
        out[f"busiest_{label}_per_complaint"] = {
            f"{s}:{c}:{coll}": round(v / n, digits) for v, (_, s, c, coll) in busiest[:40]
        }
    return out
