"""What citizens and channels submit, and what intake answers."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator
from pydantic_core import PydanticCustomError

from .envelope import RegionCode, TrackingId

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029\t]+\s*")


def _text(value: str) -> str:
    """Free text (several lines): NUL and other control characters are refused (they broke
    XML answers and downstream tools); line breaks and tabs are kept."""
    if _CONTROL.search(value):
        raise PydanticCustomError(
            "control_characters", "contains control characters such as NUL (U+0000)"
        )
    return value.replace("\r\n", "\n")


def _line(value: str) -> str:
    """One line (a title, a name): control characters refused, line breaks folded into a
    space, so the value can never break a header (an email subject) or a list."""
    return _LINE_BREAKS.sub(" ", _text(value)).strip()


def _ascii_email(value: str) -> str:
    """An address the email channel can deliver: the relays Lapor uses speak no SMTPUTF8."""
    if not value.isascii():
        raise PydanticCustomError(
            "email_not_ascii", "email addresses with non-ASCII characters cannot be delivered"
        )
    return value


Text = Annotated[str, AfterValidator(_text)]
"""Free text: no control characters but line breaks and tabs."""
Line = Annotated[str, AfterValidator(_line)]
"""One line of text: no control characters, line breaks folded into spaces."""
Email = Annotated[EmailStr, AfterValidator(_ascii_email)]
"""An email address the email channel can deliver (ASCII)."""


class ReportType(StrEnum):
    PENGADUAN = "pengaduan"
    ASPIRASI = "aspirasi"
    PERMINTAAN_INFORMASI = "permintaan_informasi"


class Channel(StrEnum):
    """How a report reached the platform."""

    WEB = "web"
    APP = "app"
    OPEN311 = "open311"
    SMS = "sms"
    SOCIAL_MEDIA = "social_media"
    WALK_IN = "walk_in"
    COMPLAINT_BOX = "complaint_box"
    LETTER = "letter"
    PHONE = "phone"
    EXTERNAL = "external"
    """A registered regional system publishing to ``lapor.intake.v1``."""


NotifyChannel = Literal["email", "sms", "whatsapp"]

PhoneNumber = Annotated[
    str,
    Field(pattern=r"^\+?[0-9][0-9 \-]{6,19}$", description="Phone number, e.g. +6281234567890"),
]


class Reporter(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Line | None = Field(default=None, min_length=1, max_length=120)
    email: Email | None = None
    phone: PhoneNumber | None = None
    language: Literal["id", "en"] = Field(
        default="id", description="Language of the messages the reporter gets (id or en)."
    )
    notify_via: list[NotifyChannel] | None = Field(
        default=None,
        max_length=3,
        description="Channels the reporter wants to hear on; default: email if given, SMS if a "
        "phone is given. WhatsApp only when asked for. Every message is also in the inbox.",
    )

    @model_validator(mode="after")
    def _channels_have_addresses(self) -> Reporter:
        for channel in self.notify_via or ():
            needed = self.email if channel == "email" else self.phone
            if needed is None:
                field = "email" if channel == "email" else "phone"
                raise PydanticCustomError(
                    "channel_without_address",
                    "notify_via {channel} needs reporter.{needed}",
                    {"channel": channel, "needed": field},
                )
        return self


MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ATTACHMENT_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "application/pdf",
        "video/mp4",
        "audio/mpeg",
    }
)


class Location(BaseModel):
    """Where the problem is. ``lat``/``lon`` (WGS84) are resolved to a region when no
    ``region_code`` is given."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    address: Line | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _both_or_neither(self) -> Location:
        if (self.lat is None) != (self.lon is None):
            raise PydanticCustomError("latlon_pair", "lat and lon must be given together")
        return self


class Attachment(BaseModel):
    """Metadata of a file attached to a report, as the report and the case log keep it; the
    bytes live where ``ref`` points (``gridfs:<id>`` for a file uploaded to intake, or an https
    URL of a registered regional system's own store). ``ref`` is internal: no API answer
    shows it, and no client names one (web, app and staff clients attach an upload's handle,
    :class:`AttachmentClaim`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    name: Line = Field(min_length=1, max_length=200)
    content_type: str = Field(description="One of: " + ", ".join(sorted(ATTACHMENT_TYPES)))
    size: int = Field(gt=0, le=MAX_ATTACHMENT_BYTES, description="Bytes (at most 10 MiB).")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    ref: str = Field(min_length=1, max_length=500, pattern=r"^(gridfs:[0-9a-f]{24}|https://\S+)$")

    @model_validator(mode="after")
    def _known_type(self) -> Attachment:
        if self.content_type not in ATTACHMENT_TYPES:
            raise PydanticCustomError(
                "attachment_type",
                "content type {content_type} is not accepted",
                {"content_type": self.content_type},
            )
        return self


class LinkedAttachment(Attachment):
    """A file in a registered regional system's own store, named by its https URL (what
    ``lapor.intake.v1`` carries). Never a file stored by Lapor: only uploads' handles attach
    those."""

    ref: str = Field(min_length=9, max_length=500, pattern=r"^https://\S+$")


class AttachmentClaim(BaseModel):
    """A file uploaded to intake's upload door, attached by the handle the upload answered.
    The handle is signed, expires after a while and works only for the upload session it was
    issued to (``X-Lapor-Upload-Key``, or the staff member who uploaded it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    handle: str = Field(
        min_length=16,
        max_length=2000,
        pattern=r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+$",
        description="The `handle` of the upload's answer.",
    )


class SubmissionCore(BaseModel):
    """What every report carries, whatever its door (attachments differ by door)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: ReportType = ReportType.PENGADUAN
    title: Line = Field(min_length=5, max_length=200)
    description: Text = Field(min_length=10, max_length=5000)
    category: str = Field(
        min_length=2, max_length=40, description="A code from the service catalogue."
    )
    region_code: RegionCode | None = Field(
        default=None, description="Kemendagri code; may be omitted when location has lat/lon."
    )
    location: Location | None = None
    reporter: Reporter | None = None
    anonymous: bool = False
    confidential: bool = False

    @model_validator(mode="after")
    def _reporter_reachable(self) -> SubmissionCore:
        if self.region_code is None and (self.location is None or self.location.lat is None):
            raise PydanticCustomError(
                "location_required", "region_code or location.lat/lon is required"
            )
        if self.anonymous:
            return self
        if self.reporter is None or self.reporter.name is None:
            raise PydanticCustomError(
                "reporter_name_required",
                "reporter.name is required unless the report is anonymous",
            )
        if self.reporter.email is None and self.reporter.phone is None:
            raise PydanticCustomError(
                "reporter_contact_required",
                "reporter.email or reporter.phone is required unless the report is anonymous",
            )
        return self


class ComplaintSubmission(SubmissionCore):
    """A report as the reporter sends it (JSON API body, staff entry, SMS, Open311)."""

    public_replies: bool = Field(
        default=False,
        description="Show the reporter's later words (messages, a dispute, a rating's comment) "
        "on the public page of a public report. Never a name or a contact.",
    )
    attachments: list[AttachmentClaim] = Field(
        default_factory=list,
        max_length=MAX_ATTACHMENTS,
        description="Files uploaded first to POST /api/v1/attachments, by their handles.",
    )


class ExternalSubmission(SubmissionCore):
    """What a registered regional system publishes to ``lapor.intake.v1`` (JSON)."""

    attachments: list[LinkedAttachment] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    channel: str = Field(
        min_length=2,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_.\-]*$",
        description="Registered channel id, e.g. 'baruga-sulsel'.",
    )
    external_id: Line = Field(
        min_length=1, max_length=128, description="The channel's own id for this report."
    )


class FieldError(BaseModel):
    """One reason an input was refused, in Bahasa Indonesia and English."""

    model_config = ConfigDict(frozen=True)

    field: str = Field(description="Dotted path of the offending field, or '' for the whole body.")
    code: str = Field(description="Machine-readable reason, e.g. 'missing', 'unknown_category'.")
    message: str = Field(description="Reason in Bahasa Indonesia.")
    message_en: str = Field(description="Reason in English.")


class IntakeReceipt(BaseModel):
    """Intake's answer on ``lapor.intake.receipts.v1`` to every message on ``lapor.intake.v1``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str | None = Field(description="The channel id, when it could be read.")
    external_id: str | None = Field(description="The channel's own id, when it could be read.")
    status: Literal["accepted", "rejected"]
    tracking_id: TrackingId | None = None
    duplicate: bool = Field(
        default=False, description="True when this (channel, external_id) was already accepted."
    )
    errors: list[FieldError] = Field(default_factory=list)
    received_at: datetime
