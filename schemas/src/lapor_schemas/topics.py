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

NOTIFY_SEND: Final = {
    "email": "lapor.notify.send.email.v1",
    "sms": "lapor.notify.send.sms.v1",
    "whatsapp": "lapor.notify.send.whatsapp.v1",
    "webhook": "lapor.notify.send.webhook.v1",
}
"""Notify's own work queues, one per channel (so that one provider's outage never delays
another's messages): a send job per delivery, keyed by tracking id."""

NOTIFY_RETRY: Final = (
    "lapor.notify.retry.0.v1",
    "lapor.notify.retry.1.v1",
    "lapor.notify.retry.2.v1",
)
"""Notify's retry tiers: a failed send waits in tier ``min(attempt - 1, 2)`` (delays are
settings, growing exponentially) before it goes back to its channel's queue."""

ALL: Final = (
    INTAKE,
    INTAKE_RECEIPTS,
    CASES,
    CONTACTS,
    NOTIFICATIONS,
    DLQ,
    *NOTIFY_SEND.values(),
    *NOTIFY_RETRY,
)

# Dead-letter header names (values are UTF-8 strings).
DLQ_REASON: Final = "x-dlq-reason"
DLQ_SOURCE_TOPIC: Final = "x-dlq-source-topic"
DLQ_SOURCE_PARTITION: Final = "x-dlq-source-partition"
DLQ_SOURCE_OFFSET: Final = "x-dlq-source-offset"
DLQ_SOURCE_KEY: Final = "x-dlq-source-key"
DLQ_SERVICE: Final = "x-dlq-service"
DLQ_TIME: Final = "x-dlq-time"
DLQ_TRUNCATED: Final = "x-dlq-truncated"
DLQ_ORIGINAL_BYTES: Final = "x-dlq-original-bytes"
DLQ_ORIGINAL_SHA256: Final = "x-dlq-original-sha256"
