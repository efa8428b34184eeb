"""Who may submit through which door: registered external channels (HMAC-signed Kafka
messages), Open311 client API keys and SMS gateways. Loaded from a JSON file (data)."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from lapor_schemas import FieldError

from .errors import field_error

SIGNATURE_HEADER = "x-lapor-signature"


class ChannelCredential(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str = ""
    tenants: tuple[str, ...] = Field(description="Province codes the channel may submit for.")
    secret: str = Field(min_length=16, repr=False)


class ApiClient(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    api_key_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", repr=False)
    tenants: tuple[str, ...]


class SmsGateway(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    token_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", repr=False)
    default_region: str


class Registry(BaseModel):
    model_config = ConfigDict(frozen=True)

    channels: tuple[ChannelCredential, ...] = ()
    open311_clients: tuple[ApiClient, ...] = ()
    sms_gateways: tuple[SmsGateway, ...] = ()

    @classmethod
    def load(cls, path: Path) -> Registry:
        return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))

    def channel(self, channel_id: str) -> ChannelCredential | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    def open311_client(self, api_key: str) -> ApiClient | None:
        digest = sha256_hex(api_key)
        return next(
            (c for c in self.open311_clients if hmac.compare_digest(c.api_key_sha256, digest)),
            None,
        )

    def sms_gateway(self, token: str) -> SmsGateway | None:
        digest = sha256_hex(token)
        return next(
            (g for g in self.sms_gateways if hmac.compare_digest(g.token_sha256, digest)), None
        )


def authenticate(
    registry: Registry, channel_id: str | None, body: bytes, signature: str | None
) -> FieldError | None:
    """Why a channel message may not be accepted, or ``None`` when its sender is proven."""
    credential = registry.channel(channel_id) if channel_id else None
    if credential is None:
        return field_error("channel", "unknown_channel", value=channel_id or "")
    if not signature_valid(credential.secret, body, signature):
        return field_error("", "bad_signature")
    return None


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def sign(secret: str, body: bytes) -> str:
    """The value of the ``x-lapor-signature`` header for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    return header is not None and hmac.compare_digest(sign(secret, body), header.strip())
