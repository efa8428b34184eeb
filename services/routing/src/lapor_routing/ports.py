"""What routing's service layer needs from its store, and the errors it shares with it."""

from __future__ import annotations


class ConflictError(Exception):
    """The case changed since it was read; the caller reads it again and retries."""
