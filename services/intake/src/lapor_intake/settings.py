from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from lapor_kit.settings import KitSettings

DEV_CREDENTIALS = Path(__file__).parent / "data" / "credentials.dev.json"


class IntakeSettings(KitSettings):
    uses_status_secret: ClassVar[bool] = True
    uses_upload_key: ClassVar[bool] = True
    port: int = Field(default=8001, validation_alias="LAPOR_INTAKE_PORT")
    triage_retrain_hours: float = Field(
        default=24.0,
        ge=0,
        validation_alias="LAPOR_TRIAGE_RETRAIN_HOURS",
        description="How often corrections of categories are folded into each province's "
        "model (0: only at start and by lapor-intake-retrain).",
    )
    credentials_file: Path = Field(
        default=DEV_CREDENTIALS,
        validation_alias="LAPOR_INTAKE_CREDENTIALS_FILE",
        description="Registered channels, Open311 API keys and SMS gateways (JSON).",
    )
    rate_limits: str = Field(
        default="submit=10/60,read=300/60,upload=20/3600,sms=10/3600,open311=600/60",
        description="Per-client limits, door=count/seconds: submit (reports per IP), read "
        "(status, replies, lists per IP), upload (attachments per IP), sms (messages per "
        "sender number), open311 (requests per API key). 0 turns a door's limit off.",
    )

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if self.credentials_file.resolve() == DEV_CREDENTIALS.resolve():
            problems.append(
                "LAPOR_INTAKE_CREDENTIALS_FILE is unset or names the development credentials "
                "(public channel secrets, Open311 key and SMS tokens)"
            )
        elif self.credentials_file.exists() and _shares_dev_secrets(self.credentials_file):
            problems.append(
                f"LAPOR_INTAKE_CREDENTIALS_FILE ({self.credentials_file}) contains a "
                "development secret, API key or SMS token"
            )
        return problems


def _shares_dev_secrets(path: Path) -> bool:
    import json

    def values(data: dict[str, list[dict[str, str]]]) -> set[str]:
        out = set()
        for kind, field in (
            ("channels", "secret"),
            ("open311_clients", "api_key_sha256"),
            ("sms_gateways", "token_sha256"),
        ):
            out |= {str(item.get(field)) for item in data.get(kind, [])}
        return out - {"None"}

    dev = values(json.loads(DEV_CREDENTIALS.read_text(encoding="utf-8")))
    return bool(dev & values(json.loads(path.read_text(encoding="utf-8"))))
