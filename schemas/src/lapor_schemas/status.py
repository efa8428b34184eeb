"""The case-status vocabulary, in one place: every service reads its groups from here.

A case is *open* while someone still has to act on it (a verifier, an agency, the reporter),
*finished* once no one does. ``TERMINAL`` statuses accept no further transition at all;
``closed`` is finished but still accepts the reporter's rating (then ``rated``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class CaseStatus(StrEnum):
    SUBMITTED = "submitted"
    NEEDS_INFO = "needs_info"
    VERIFIED = "verified"
    DISPATCHED = "dispatched"
    DISPUTED = "disputed"
    FOLLOWED_UP = "followed_up"
    CLOSED = "closed"
    RATED = "rated"
    REJECTED = "rejected"
    MARKED_REPEAT = "marked_repeat"


ALL: Final = frozenset(s.value for s in CaseStatus)
OPEN: Final = frozenset(
    {"submitted", "needs_info", "verified", "dispatched", "disputed", "followed_up"}
)
FINISHED: Final = frozenset({"closed", "rated", "rejected", "marked_repeat"})
TERMINAL: Final = frozenset({"rejected", "marked_repeat", "rated"})
STAGE_OF: Final[dict[str, str]] = {
    # whose turn it is: verify (a coordinator), follow_up (the agency), reply (the reporter)
    "submitted": "verify",
    "verified": "verify",
    "needs_info": "reply",
    "dispatched": "follow_up",
    "disputed": "follow_up",
    "followed_up": "reply",
}

REPORTER_MAY: Final[dict[str, frozenset[str]]] = {
    # what the reporter may do, by case status (routing enforces it, intake refuses it before
    # publishing, the portal offers it). After a follow-up the reporter has three explicit
    # answers: accept (closes the case, then a rating), dispute (back to the agency), or a
    # message (a question or more information: the case stays open, its reply window runs
    # on). Before that a message informs the case (answering a question for details sends it
    # back to verification).
    "message": OPEN - {"verified"},
    "accept": frozenset({"followed_up"}),
    "dispute": frozenset({"followed_up"}),
    "rate": frozenset({"closed"}),
}

STAFF_MAY: Final[dict[str, frozenset[str]]] = {
    # what staff may do, by case status (routing enforces it, the workspace offers it)
    "verify": frozenset({"submitted"}),
    "request_info": frozenset({"submitted"}),
    "reject": frozenset({"submitted", "needs_info"}),
    "mark_repeat": frozenset({"submitted", "needs_info"}),
    "dispatch": frozenset({"verified", "dispatched", "disputed"}),
    "decline": frozenset({"dispatched", "disputed"}),
    "follow_up": frozenset({"dispatched", "disputed"}),
    "close": frozenset({"followed_up", "dispatched", "disputed"}),
    # a wrong category is where ping-pong between agencies starts: correct it before or
    # while an agency has it (routed again by the rules)
    "recategorise": frozenset({"submitted", "needs_info", "verified", "dispatched", "disputed"}),
}
COORDINATOR_ACTIONS: Final = frozenset(
    {"verify", "request_info", "reject", "mark_repeat", "dispatch", "close", "recategorise"}
)
AGENCY_ACTIONS: Final = frozenset({"decline", "follow_up"})

assert OPEN | FINISHED == ALL
assert not OPEN & FINISHED
assert TERMINAL <= FINISHED
assert set(STAGE_OF) == OPEN


def is_open(status: str) -> bool:
    return status in OPEN


def is_finished(status: str) -> bool:
    return status in FINISHED
