"""Export the message contracts as JSON Schema files, or check the checked-in files.

lapor-schemas export [DIR]   # write schemas/json/*.schema.json
lapor-schemas check  [DIR]   # exit 1 if a checked-in file differs from the models
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from . import topics
from .events import CaseEvent, NotificationEvent, ReporterContact, SupporterContact
from .intake import ComplaintSubmission, ExternalSubmission, IntakeReceipt

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "json"

# file stem -> (topic or purpose, model)
CONTRACTS: dict[str, tuple[str, Any]] = {
    "complaint-submission.v1": ("POST /api/v1/complaints body", ComplaintSubmission),
    "external-submission.v1": (topics.INTAKE, ExternalSubmission),
    "intake-receipt.v1": (topics.INTAKE_RECEIPTS, IntakeReceipt),
    "case-event.v1": (topics.CASES, CaseEvent),
    "reporter-contact.v1": (topics.CONTACTS, ReporterContact),
    "supporter-contact.v1": (topics.CONTACTS, SupporterContact),
    "notification-event.v1": (topics.NOTIFICATIONS, NotificationEvent),
}


def render(stem: str) -> str:
    purpose, model = CONTRACTS[stem]
    if isinstance(model, type) and issubclass(model, BaseModel):
        schema = model.model_json_schema(mode="validation")
    else:
        schema = TypeAdapter(model).json_schema(mode="validation")
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"lapor:{stem}",
        "x-lapor-topic": purpose,
        **schema,
    }
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def export(target: Path) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for stem in CONTRACTS:
        path = target / f"{stem}.schema.json"
        path.write_text(render(stem), encoding="utf-8")
        written.append(path)
    return written


def check(target: Path) -> list[str]:
    """Return the problems found (empty when the files match the models)."""
    problems = []
    for stem in CONTRACTS:
        path = target / f"{stem}.schema.json"
        if not path.exists():
            problems.append(f"missing: {path}")
        elif path.read_text(encoding="utf-8") != render(stem):
            problems.append(f"out of date: {path} (run `lapor-schemas export`)")
    known = {f"{stem}.schema.json" for stem in CONTRACTS}
    if target.exists():
        problems += [
            f"stale file: {p}" for p in target.glob("*.schema.json") if p.name not in known
        ]
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "check"
    target = Path(args[1]) if len(args) > 1 else DEFAULT_DIR
    if command == "export":
        for path in export(target):
            print(path)
        return 0
    if command == "check":
        problems = check(target)
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{len(CONTRACTS)} contracts, {len(problems)} problems")
        return 1 if problems else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
