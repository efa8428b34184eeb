"""The staff workspace (``/kerja``): one router module per area, each guarded by
``deps.current_staff`` and calling the services through ``clients`` (typed, with fakes in the
unit tests).

The portal is the identity owner: it checks passwords (Argon2id) and one-time codes (TOTP),
keeps sessions, and signs a short-lived token for the signed-in person on every call to a
service, which authorizes from that token alone. Every look at a reporter's identity and
every action is appended to the audit log.

A new staff page is one router module here (added to ``ROUTERS``), one template under
``templates/staff/`` and one test in ``tests/unit/test_staff_routes.py``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, Response

from ..identity import Account
from . import accounts, audit, case, dashboard, directory, entry, inbox, signin, templates
from .clients import StaffClients
from .deps import Workspace, install_handlers

__all__ = ["ROUTERS", "StaffClients", "Workspace", "install"]

ROUTERS = (
    signin.router,
    inbox.router,
    case.router,
    entry.router,
    dashboard.router,
    directory.router,
    accounts.router,
    audit.router,
    templates.router,
)


def install(app: FastAPI, ws: Workspace) -> None:
    app.state.workspace = ws

    async def open_session(request: Request, account: Account, target: str, method: str) -> Any:
        response: Response = await signin.open_session(ws, request, account, target, method)
        return response

    app.state.open_staff_session = open_session  # for a province's own sign-on (oidc)
    install_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
