"""``make bench-geo``: the boundary lookup's speed, against the nearest-seat lookup it
replaced, measured in the same run on the same points.

    python -m bench.geo [--points 20000]

Points are drawn over the three provinces' extent (land, coast and sea alike: a third of
them resolve to nothing), plus the fixed hard cases (borders, coasts, Tanjungpinang). Prints
p50, p99 and the maximum of each, then ``ratio_p99_vs_seat=<x>`` and
``boundary_p99_ms=<y>`` (the goal: at most 1 ms).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from collections.abc import Callable

from lapor_schemas import geo
from lapor_schemas.reference import regions

EARTH_KM = 6371.0088


def nearest_seat(lat: float, lon: float, max_km: float = 150.0) -> str | None:
    """The former lookup: the regency/city whose seat is nearest (the baseline)."""
    best: tuple[float, str] | None = None
    for region in regions().values():
        if region.kind == "province" or region.lat is None or region.lon is None:
            continue
        p1, p2 = math.radians(lat), math.radians(region.lat)
        dp, dl = p2 - p1, math.radians(region.lon - lon)
        a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        d = 2 * EARTH_KM * math.asin(math.sqrt(a))
        if best is None or d < best[0]:
            best = (d, region.code)
    return best[1] if best and best[0] <= max_km else None


def timings(
    lookup: Callable[[float, float], object], points: list[tuple[float, float]]
) -> list[float]:
    out = []
    for lat, lon in points:
        began = time.perf_counter()
        lookup(lat, lon)
        out.append((time.perf_counter() - began) * 1000)
    return sorted(out)


def quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=20_000)
    args = parser.parse_args()
    began = time.perf_counter()
    geo.boundaries()
    print(f"index built in {time.perf_counter() - began:.2f} s")
    rng = random.Random(17)
    boxes = [(-4.9, -1.3, 114.3, 116.6), (-0.4, 4.8, 103.2, 109.4), (-7.8, -1.8, 118.8, 122.0)]
    points = []
    for _ in range(args.points):
        s, n, w, e = rng.choice(boxes)
        points.append((rng.uniform(s, n), rng.uniform(w, e)))
    points += [(-3.34051, 114.62608), (-3.34051, 114.63408), (0.9186, 104.4554), (-4.198, 114.68)]
    resolved = sum(isinstance(geo.locate(lat, lon), geo.Found) for lat, lon in points)
    print(f"{len(points)} points, {resolved} in or near a served regency")
    for name, lookup in (("seat", nearest_seat), ("boundary", geo.locate)):
        timings(lookup, points[:500])  # warm
        ms = timings(lookup, points)
        print(
            f"{name:9s} p50 {quantile(ms, 0.5):.3f} ms  p99 {quantile(ms, 0.99):.3f} ms  "
            f"max {ms[-1]:.3f} ms  mean {statistics.fmean(ms):.3f} ms"
        )
        if name == "seat":
            seat_p99 = quantile(ms, 0.99)
        else:
            boundary_p99 = quantile(ms, 0.99)
    print(f"ratio_p99_vs_seat={boundary_p99 / seat_p99:.2f} boundary_p99_ms={boundary_p99:.3f}")


if __name__ == "__main__":
    main()
