"""Settings shared by every service. Environment variables use the prefix ``LAPOR_``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEV_STATUS_SECRET_KEY = "lapor-dev-status-key-change-me"  # noqa: S105 (public)
DEV_UPLOAD_KEY = "lapor-dev-upload-key-change-me"  # public on purpose, like every dev secret
MIN_SECRET_LENGTH = 32


def mongo_tls(ca_file: Path | None) -> dict[str, Any]:
    """The MongoDB client's TLS options for a replica set with a CA of its own."""
    return {"tls": True, "tlsCAFile": str(ca_file)} if ca_file else {}


class UnsafeSettingsError(RuntimeError):
    """Production mode refuses to start with a development secret, key or credentials file;
    the message names every setting to change."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("LAPOR_ENV=production refuses to start: " + "; ".join(problems) + ".")
        self.problems = problems


class FileValues(PydanticBaseSettingsSource):
    """``LAPOR_<SETTING>_FILE=/path``: the setting's value is that file's content (one trailing
    newline dropped). So a secret comes from a mounted file (a Kubernetes Secret, a Docker
    secret) and never sits in the environment, where a crash dump or ``/proc`` would show it.
    A value set directly in the environment wins."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # (unused: __call__ reads every field at once)

    def __call__(self) -> dict[str, Any]:
        prefix = str(self.config.get("env_prefix") or "")
        out: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            alias = field.validation_alias if isinstance(field.validation_alias, str) else None
            env = (alias or f"{prefix}{name}").upper()
            path = os.environ.get(f"{env}_FILE")
            if path and env not in os.environ:
                try:
                    text = Path(path).read_text(encoding="utf-8")
                except OSError as exc:
                    raise ValueError(f"{env}_FILE: cannot read {path}: {exc.strerror}") from exc
                out[alias or name] = text[:-1] if text.endswith("\n") else text
        return out


class FileValuesMixin(BaseSettings):
    """Adds :class:`FileValues` after the environment (and before ``.env`` files)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            FileValues(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )


class KitSettings(FileValuesMixin):
    """Connection and tuning settings common to all services.

    ``LAPOR_KAFKA_BOOTSTRAP``  Kafka bootstrap servers (comma-separated)
    ``LAPOR_MONGO_URL``        MongoDB connection string (replica set required: transactions)
    """

    model_config = SettingsConfigDict(env_prefix="LAPOR_", extra="ignore", populate_by_name=True)

    uses_status_secret: ClassVar[bool] = False
    """Whether this service hands out or checks reporters' status secrets (intake, notify):
    only those must be given a real ``LAPOR_STATUS_SECRET_KEY`` in production."""
    uses_upload_key: ClassVar[bool] = False
    """Whether this service issues or checks upload handles (intake, routing)."""

    env: Literal["development", "production"] = Field(
        default="development",
        description="production: refuse to start with any development secret, key or "
        "credentials file (the production deployment sets it).",
    )
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_SSL", "SASL_PLAINTEXT"] = Field(
        default="PLAINTEXT",
        description="SASL_SSL in production (Strimzi's TLS listener with SCRAM users).",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_username: str | None = None
    kafka_password: str | None = Field(
        default=None, description="Best from a file: LAPOR_KAFKA_PASSWORD_FILE.", repr=False
    )
    kafka_ca_file: Path | None = Field(
        default=None, description="The brokers' CA (PEM); empty: the system's CAs."
    )
    kafka_create_topics: bool = Field(
        default=True,
        description="Create missing topics at start. Off where topics are declared (Strimzi's "
        "KafkaTopic): the services' Kafka users may not create topics there.",
    )
    mongo_ca_file: Path | None = Field(
        default=None, description="The replica set's CA (PEM) when it speaks TLS."
    )
    mongo_url: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    mongo_db_prefix: str = Field(
        default="lapor", description="Databases are <prefix>_<service>, e.g. lapor_intake."
    )
    kafka_group_suffix: str = Field(
        default="",
        description="Appended to every consumer group id: a second instance with its own "
        "database prefix and suffix replays every topic from the start (a rebuild).",
    )
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 1_000
    kafka_max_records: int = 500
    kafka_fetch_max_wait_ms: int = Field(
        default=500,
        description="How long the broker may hold a fetch that found nothing, for the "
        "consumers on the path from a report to its agency and reporter. Kafka answers as "
        "soon as a record arrives, so its default costs no latency there; Tansu holds the "
        "fetch (about 120 ms a hop measured), so the local stack sets 50.",
    )
    kafka_batch_timeout_ms: int = 50
    kafka_background_linger_ms: int = Field(
        default=1000,
        description="Consumers off the path from a report to its agency and reporter (metrics, "
        "the reporter-facing views) wait this long after a batch that was not full, so that "
        "the next one carries more: one store transaction for a second's events instead of "
        "one per event at low load. At full load batches are full and nothing waits.",
    )
    kafka_linger_ms: int = 5
    topic_partitions: int = 6
    topic_replication_factor: int = 1
    log_level: str = "INFO"
    max_body_bytes: int = Field(
        default=256 * 1024,
        description="Largest request body a service reads (413 before parsing); a service "
        "may allow more on a path (intake's attachments, routing's directory).",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or CIDRs of the proxies in front of this "
        "service (an ingress controller, the portal). The client's address is taken from "
        "X-Forwarded-For only through these hops; empty: the connection's own address.",
    )
    host: str = "127.0.0.1"
    outbox_batch: int = 500
    outbox_idle_seconds: float = 1.0
    outbox_sweep_seconds: float = Field(
        default=5.0,
        description="How often the relay reads the outbox for documents no relay published "
        "(what was just committed is published from memory).",
    )
    outbox_sweep_grace_seconds: float = Field(
        default=10.0,
        description="A document is swept (published by any process) once it is this old.",
    )
    outbox_delete_delay_seconds: float = Field(
        default=3.0,
        description="Published outbox documents are deleted together, in one command, this "
        "long after the first of them was published (or sooner, once a batch is full). Keep "
        "it well under the sweep grace: another process's sweep would publish them again.",
    )
    mongo_timeout_ms: int = Field(
        default=5000,
        description="Server selection timeout: how long a request waits for the "
        "store before answering 503.",
    )
    shutdown_step_seconds: float = Field(
        default=8.0,
        gt=0.0,
        description="At shutdown, each step (outbox relay, hooks, consumers, store client) "
        "gets this long before the process stops without it: the whole stop stays inside "
        "Kubernetes's 30 s grace period.",
    )
    scrape_wait_seconds: float = Field(
        default=0.5,
        ge=0.0,
        description="How long a /metrics scrape waits for numbers read from the broker "
        "(consumer lag, dead letters); past it the scrape answers with the last reading and "
        "the read lands for the next one, so a slow broker never outlasts Prometheus's "
        "scrape timeout and reads as the service being down.",
    )
    request_deadline_seconds: float = Field(
        default=4.0,
        description="Every HTTP request's store operations share this deadline; past it "
        "the answer is 503 + Retry-After (a frozen store never hangs a client).",
    )
    outbox_exit_after_publish: bool = Field(
        default=False,
        description="Test hook: exit the process right after publishing an outbox batch, before "
        "removing it (so it is published again on restart).",
    )
    outbox_hold_seconds: float = Field(
        default=0.0,
        description="Test hook: leave outbox entries unpublished for this long (crash tests).",
    )
    status_secret_key: str = Field(
        default=DEV_STATUS_SECRET_KEY,
        description="Key of the reporters' status secrets (HMAC of the tracking id); intake "
        "hands them out, notify checks them for the reporter's inbox. Set a real one.",
    )
    upload_key: str = Field(
        default=DEV_UPLOAD_KEY,
        description="Signs the handles intake's upload doors answer (lapor_kit.uploads); "
        "shared by intake, which issues them, and routing, which checks a follow-up's. Set "
        "a real one.",
    )
    auth_jwks_url: str = Field(
        default="http://127.0.0.1:8000/.well-known/jwks.json",
        description="Where the identity owner (the portal) publishes the public keys of staff "
        "tokens; services verify with these only and can mint nothing.",
    )
    auth_trust_dev_key: bool | None = Field(
        default=None,
        description="Also accept tokens signed by the public development key (scripts, "
        "tests). Default: only in development; production refuses it.",
    )

    @property
    def trusts_dev_key(self) -> bool:
        return (
            self.env == "development"
            if self.auth_trust_dev_key is None
            else bool(self.auth_trust_dev_key)
        )

    @model_validator(mode="after")
    def _proxies_are_networks(self) -> KitSettings:
        from .limits import parse_networks

        try:
            parse_networks(self.trusted_proxies)
        except ValueError as exc:
            raise ValueError(f"LAPOR_TRUSTED_PROXIES: {exc}") from exc
        return self

    @model_validator(mode="after")
    def _sasl_has_a_user(self) -> KitSettings:
        if self.kafka_security_protocol.startswith("SASL") and not (
            self.kafka_username and self.kafka_password
        ):
            raise ValueError(
                "LAPOR_KAFKA_SECURITY_PROTOCOL=SASL_* needs LAPOR_KAFKA_USERNAME and "
                "LAPOR_KAFKA_PASSWORD (or LAPOR_KAFKA_PASSWORD_FILE)"
            )
        return self

    @model_validator(mode="after")
    def _deleted_before_swept(self) -> KitSettings:
        if self.outbox_delete_delay_seconds >= self.outbox_sweep_grace_seconds:
            raise ValueError(
                "LAPOR_OUTBOX_DELETE_DELAY_SECONDS must be under "
                "LAPOR_OUTBOX_SWEEP_GRACE_SECONDS (published documents would be swept again)"
            )
        return self

    def production_problems(self) -> list[str]:
        """What would make this process unsafe in production (services add their own)."""
        problems = []
        secrets = []
        if self.uses_status_secret:
            secrets.append(
                ("LAPOR_STATUS_SECRET_KEY", self.status_secret_key, DEV_STATUS_SECRET_KEY)
            )
        if self.uses_upload_key:
            secrets.append(("LAPOR_UPLOAD_KEY", self.upload_key, DEV_UPLOAD_KEY))
        for name, value, dev in secrets:
            if value == dev:
                problems.append(f"{name} is the public development value")
            elif len(value) < MIN_SECRET_LENGTH:
                problems.append(f"{name} is shorter than {MIN_SECRET_LENGTH} characters")
        if self.auth_trust_dev_key:
            problems.append("LAPOR_AUTH_TRUST_DEV_KEY: the development signing key is public")
        if not self.auth_jwks_url:
            problems.append("LAPOR_AUTH_JWKS_URL is empty: no staff token could be verified")
        if self.outbox_exit_after_publish or self.outbox_hold_seconds:
            problems.append("LAPOR_OUTBOX_EXIT_AFTER_PUBLISH/HOLD_SECONDS are test hooks")
        return problems

    def refuse_unsafe_production(self) -> None:
        if self.env == "production":
            problems = self.production_problems()
            if problems:
                raise UnsafeSettingsError(problems)
