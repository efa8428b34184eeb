"""Upload handles: how a file uploaded to intake becomes an attachment of one report.

A stored file's own reference (``gridfs:<id>``) is never handed to a client: ids are
guessable (consecutive uploads differ by a few), and a report that could name any reference
could attach, and so read, another report's photo. The upload door answers a **handle**
instead: an HMAC-signed token naming the stored object, its hash, size, type and name, the
upload session it was issued to (its *binding*), and when it expires. A report may attach a
handle only

* if its signature verifies (nothing in it can be changed or made up),
* before it expires (a short time: long enough to finish a form, not long enough for a
  handle that leaked into a proxy log to be worth much), and
* when the report comes from the same upload session: the web door binds a handle to the
  client's own ``X-Lapor-Upload-Key`` (the portal uses its form's key), the staff doors to the
  staff member's token subject.

The key (``LAPOR_UPLOAD_KEY``) is shared by intake, which issues and checks handles for
reports and staff entries, and routing, which checks them for an agency's follow-up. No
handle is ever stored or shown: what a report keeps is the resolved attachment, and files
are downloaded through the report that owns them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from lapor_schemas import Attachment

HANDLE_TTL_SECONDS = 2 * 3600
_CONTEXT = b"lapor-upload-handle-v1|"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def web_binding(upload_key: str) -> str:
    """The binding of a handle uploaded with ``X-Lapor-Upload-Key: upload_key`` (a digest:
    the key itself never travels inside a handle)."""
    return "k:" + hashlib.sha256(upload_key.encode("utf-8", "replace")).hexdigest()[:32]


def staff_binding(subject: str) -> str:
    """The binding of a handle uploaded by a staff member (their token's subject)."""
    return "s:" + subject


@dataclass(frozen=True, slots=True)
class Ticket:
    """What a valid handle names: the stored object and its metadata."""

    object_id: str
    sha256: str
    size: int
    content_type: str
    name: str
    binding: str
    expires: int

    def attachment(self) -> Attachment:
        """The attachment a report keeps (its reference stays on the server)."""
        return Attachment(
            name=self.name,
            content_type=self.content_type,
            size=self.size,
            sha256=self.sha256,
            ref=f"gridfs:{self.object_id}",
        )


class UploadHandles:
    """Issues and opens handles with one key. ``open`` answers ``None`` alike for a forged,
    altered, expired or foreign handle: a client learns nothing by trying."""

    def __init__(
        self,
        key: bytes,
        *,
        ttl_seconds: int = HANDLE_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(key) < 16:
            raise ValueError("the upload handle key needs at least 16 bytes")
        self._key = hashlib.sha256(_CONTEXT + key).digest()
        self.ttl_seconds = ttl_seconds
        self.clock = clock

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def issue(
        self,
        *,
        object_id: str,
        sha256: str,
        size: int,
        content_type: str,
        name: str,
        binding: str,
    ) -> str:
        body = {
            "o": object_id,
            "h": sha256,
            "s": size,
            "t": content_type,
            "n": name,
            "b": binding,
            "e": int(self.clock()) + self.ttl_seconds,
        }
        payload = _b64(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
        return f"{payload}.{self._mac(payload)}"

    def open(self, handle: str, binding: str) -> Ticket | None:
        payload, dot, mac = handle.partition(".")
        if not dot or not payload or not mac:
            return None
        if not hmac.compare_digest(self._mac(payload).encode(), mac.encode("utf-8", "replace")):
            return None
        try:
            body = json.loads(_unb64(payload))
            ticket = Ticket(
                object_id=str(body["o"]),
                sha256=str(body["h"]),
                size=int(body["s"]),
                content_type=str(body["t"]),
                name=str(body["n"]),
                binding=str(body["b"]),
                expires=int(body["e"]),
            )
        except (ValueError, KeyError, TypeError):
            return None
        if ticket.expires < self.clock():
            return None
        if not hmac.compare_digest(ticket.binding.encode(), binding.encode()):
            return None
        return ticket
