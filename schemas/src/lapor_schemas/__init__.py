"""Lapor's message contracts, shared by every service (the only code services share besides
``lapor_kit``)."""

from . import topics
from .envelope import Envelope, new_event_id, utcnow
from .events import (
    AgencyRef,
    CaseDispatched,
    CaseEvent,
    ComplaintSubmitted,
    ContactData,
    DispatchedData,
    NotificationData,
    NotificationEvent,
    ReporterContact,
    SubmittedData,
    case_event_adapter,
    parse_case_event,
)
from .intake import (
    Channel,
    ComplaintSubmission,
    ExternalSubmission,
    FieldError,
    IntakeReceipt,
    Reporter,
    ReportType,
)

__all__ = [
    "AgencyRef",
    "CaseDispatched",
    "CaseEvent",
    "Channel",
    "ComplaintSubmission",
    "ComplaintSubmitted",
    "ContactData",
    "DispatchedData",
    "Envelope",
    "ExternalSubmission",
    "FieldError",
    "IntakeReceipt",
    "NotificationData",
    "NotificationEvent",
    "ReportType",
    "Reporter",
    "ReporterContact",
    "SubmittedData",
    "case_event_adapter",
    "new_event_id",
    "parse_case_event",
    "topics",
    "utcnow",
]
