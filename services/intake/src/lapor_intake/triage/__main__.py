"""``python -m lapor_intake.triage eval`` (``make triage-eval``): accuracy of the suggester on
the held-out fifth of the committed labelled set (text the model never saw), top-1 and
top-3, the confusion between categories, and the same text through keywords alone (each
category's catalogue words, stemmed) for comparison; ``bench``: time per suggestion."""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable

from . import (
    STOPWORDS,
    Suggester,
    catalogue_examples,
    labelled,
    normalise,
    sastrawi,
    split,
    stems,
)


def keyword_guess(text: str, keywords: dict[str, set[str]]) -> str:
    words = set(stems(text).split())
    best = max(keywords, key=lambda c: len(words & keywords[c]))
    return best if words & keywords[best] else "lainnya"


def directory_rules() -> list[tuple[tuple[str, ...], str]]:
    """Routing's keyword rules as (keywords, category): a rule names an office ("pdam"), and
    the office's agencies in the same directory say which category it handles. Read from the
    repository (a development tool: services never import each other)."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[5]
    folder = root / "services/routing/src/lapor_routing/data/directory"
    out: list[tuple[tuple[str, ...], str]] = []
    for path in sorted(folder.glob("*.json")):
        directory = json.loads(path.read_text())
        agencies = directory.get("agencies", [])
        for rule in directory.get("rules", []):
            target = rule.get("opd") or str(rule.get("agency", "")).rsplit(".", 1)[-1]
            handled = Counter(
                c
                for a in agencies
                if str(a["id"]).rsplit(".", 1)[-1] == target
                for c in a.get("categories", [])
            )
            if handled:
                out.append(
                    (tuple(k.lower() for k in rule["keywords"]), handled.most_common(1)[0][0])
                )
    return out


def rule_guess(text: str, rules: list[tuple[tuple[str, ...], str]]) -> str:
    words = f" {normalise(text)} "
    for keywords, category in rules:
        if any(f" {normalise(k)} " in words for k in keywords):
            return category
    return "lainnya"


def evaluate() -> dict[str, float]:
    train, held = split(labelled())
    started = time.perf_counter()
    model = Suggester([*train, *catalogue_examples()])
    trained = time.perf_counter() - started
    keywords = {e.category: set(stems(e.text).split()) for e in catalogue_examples()}
    rules = directory_rules()
    top1 = top3 = by_keywords = by_rules = 0
    confusion: Counter[tuple[str, str]] = Counter()
    for ex in held:
        ranked = [c for c, _ in model.suggest(ex.text)]
        top1 += ranked[0] == ex.category
        top3 += ex.category in ranked[:3]
        by_keywords += keyword_guess(ex.text, keywords) == ex.category
        by_rules += rule_guess(ex.text, rules) == ex.category
        if ranked[0] != ex.category:
            confusion[(ex.category, ranked[0])] += 1
    n = len(held)
    print(f"trained on {len(train)} examples + the catalogue in {trained:.2f} s")
    print(f"held out: {n} examples the model never saw")
    print(f"top-1 accuracy  {top1 / n:.3f}")
    print(f"top-3 accuracy  {top3 / n:.3f}")
    print(f"routing's rules {by_rules / n:.3f}  (the directories' {len(rules)} keyword rules)")
    print(f"keywords alone  {by_keywords / n:.3f}  (catalogue words, stemmed)")
    print("confusion (expected -> suggested):")
    for (want, got), count in confusion.most_common():
        print(f"  {want:>14} -> {got:<14} {count}")
    return {
        "top1": top1 / n,
        "top3": top3 / n,
        "keywords": by_keywords / n,
        "rules": by_rules / n,
    }


def bench(rounds: int = 500) -> None:
    """p50/p99 of a suggestion, against the keyword guess on the same texts measured in the
    same run (the cheapest thing that reads the words)."""
    model = Suggester([*labelled(), *catalogue_examples()])
    keywords = {e.category: set(stems(e.text).split()) for e in catalogue_examples()}
    texts = [e.text for e in labelled()]

    def timed(work: Callable[[str], object]) -> list[float]:
        times = []
        for i in range(rounds):
            started = time.perf_counter()
            work(texts[i % len(texts)])
            times.append(time.perf_counter() - started)
        return sorted(times)

    ours = timed(lambda t: model.suggest(t, ""))
    base = timed(lambda t: keyword_guess(t, keywords))

    def p(times: list[float], q: float) -> float:
        return times[min(len(times) - 1, int(len(times) * q))] * 1000

    print(
        f"suggest  p50 {statistics.median(ours) * 1000:.2f} ms  p99 {p(ours, 0.99):.2f} ms "
        f"(goal 20 ms)\nkeywords p50 {statistics.median(base) * 1000:.2f} ms  "
        f"p99 {p(base, 0.99):.2f} ms\nratio p99 {p(ours, 0.99) / max(p(base, 0.99), 1e-6):.1f}x"
    )


def words_to_stem() -> list[str]:
    texts = [e.text for e in (*labelled(), *catalogue_examples())]
    return sorted(
        {w for t in texts for w in normalise(t).split() if w not in STOPWORDS and len(w) > 1}
    )


def build_stems(path: str) -> None:
    """Sastrawi's stem of every word of the committed texts, as ``stems.json``."""
    import json

    stemmer = sastrawi()
    found = {w: str(stemmer.stem(w)) or w for w in words_to_stem()}
    with open(path, "w", encoding="utf-8") as out:
        json.dump(found, out, ensure_ascii=False, indent=0, sort_keys=True)
        out.write("\n")
    print(f"{len(found)} words stemmed into {path}")


if __name__ == "__main__":
    if sys.argv[1:] == ["bench"]:
        bench()
    elif sys.argv[1:2] == ["stems"]:
        build_stems(sys.argv[2])
    else:
        evaluate()
