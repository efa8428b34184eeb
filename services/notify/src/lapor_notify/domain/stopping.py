"""Stop codes: how someone who joined a report ("Ini masalah yang sama") stops hearing of
it, from the e-mail itself, without an account or the report's secret.

A code is the supporter's id (a digest per report and person, never the address) and a MAC
of it under the status key, so nothing is stored and a guessed or altered code is refused.
It travels in the link's fragment (``/berhenti#<code>``): browsers never send a fragment to
a server, so it stays out of access logs and proxies; without a script the person types it.
A code can only stop messages — it reads nothing and cannot restart them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

_CODE = re.compile(r"^([0-9a-f]{16})-([0-9A-Za-z_-]{16})$")


@dataclass(frozen=True, slots=True)
class StopCodes:
    key: bytes

    def _mac(self, supporter_id: str) -> str:
        mac = hmac.new(self.key, f"stop|{supporter_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:12]).decode()

    def mint(self, supporter_id: str) -> str:
        return f"{supporter_id}-{self._mac(supporter_id)}"

    def supporter_of(self, code: str) -> str | None:
        """The supporter a code names; ``None`` for anything that is not a code this key
        made (constant time on the MAC; any text is an answer, never an error)."""
        found = _CODE.match(code.strip())
        if found is None:
            return None
        supporter_id, mac = found.groups()
        if not hmac.compare_digest(self._mac(supporter_id).encode(), mac.encode()):
            return None
        return supporter_id
