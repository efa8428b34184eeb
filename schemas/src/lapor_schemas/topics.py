"""Topic names. Every topic name carries its major schema version (``.v1``)."""

from typing import Final

INTAKE: Final = "lapor.intake.v1"
"""External channels publish :class:`~lapor_schemas.intake.ExternalSubmission` here."""

INTAKE_RECEIPTS: Final = "lapor.intake.receipts.v1"
"""Intake answers every message from :data:`INTAKE` with an :class:`IntakeReceipt`."""

CASES: Final = "lapor.cases.v1"
"""One ordered lifecycle log per case, keyed by tracking id (:data:`CaseEvent`)."""

CONTACTS: Final = "lapor.contacts.v1"
"""Reporter contact details, keyed by tracking id; read by notify only (ACL in production)."""

NOTIFICATIONS: Final = "lapor.notifications.v1"
"""Notification outcomes (:class:`NotificationEvent`), keyed by tracking id."""

DLQ: Final = "lapor.dlq.v1"
"""Dead letters: the original bytes as value, the reason and origin in ``x-dlq-*`` headers."""

ALL: Final = (INTAKE, INTAKE_RECEIPTS, CASES, CONTACTS, NOTIFICATIONS, DLQ)

# Dead-letter header names (values are UTF-8 strings).
DLQ_REASON: Final = "x-dlq-reason"
DLQ_SOURCE_TOPIC: Final = "x-dlq-source-topic"
DLQ_SOURCE_PARTITION: Final = "x-dlq-source-partition"
DLQ_SOURCE_OFFSET: Final = "x-dlq-source-offset"
DLQ_SOURCE_KEY: Final = "x-dlq-source-key"
DLQ_SERVICE: Final = "x-dlq-service"
DLQ_TIME: Final = "x-dlq-time"
