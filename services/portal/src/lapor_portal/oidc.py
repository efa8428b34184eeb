"""Sign-in through a province's own sign-on (OpenID Connect, with authlib).

Each provider is data (``LAPOR_OIDC_PROVIDERS``): which province it speaks for, and which of
its claims hold the role, the regency/city and the agency, with a table from its role values
to Lapor's. A provider can only ever grant roles in its own province: a national role, a
place outside the province or a role it has no mapping for is refused. The signed-in person
gets a federated account (no password here) whose claims are refreshed at every sign-in; a
coordinator can still disable it.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from starlette.middleware.sessions import SessionMiddleware

from lapor_kit.auth import NATIONAL_ROLES, AuthError, principal_of

from .identity import Account
from .settings import PortalSettings
from .store import PortalStore

log = logging.getLogger("lapor.portal")


class ClaimNames(BaseModel):
    role: str = "lapor_role"
    region_code: str = "lapor_region"
    agency_id: str = "lapor_agency"
    name: str = "name"


class Provider(BaseModel):
    name: str = Field(pattern=r"^[a-z0-9-]{2,32}$")
    label: str
    tenant: str = Field(pattern=r"^\d{2}$")
    metadata_url: str
    client_id: str
    client_secret: str = ""
    scope: str = "openid email profile"
    claims: ClaimNames = ClaimNames()
    roles: dict[str, str] = Field(description="The provider's role value -> a Lapor role.")

    def account(self, claims: dict[str, Any], now: datetime) -> Account:
        """The federated account these claims describe, or ``AuthError`` when they do not
        fit this province's mapping."""
        external = claims.get(self.claims.role)
        role = self.roles.get(str(external)) if isinstance(external, str) else None
        if role is None or role in NATIONAL_ROLES:
            raise AuthError(f"no Lapor role for {self.claims.role}={external!r}")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise AuthError("the identity token has no subject")

        def text(name: str) -> str | None:
            value = claims.get(name)
            return value if isinstance(value, str) and value else None

        account = Account(
            username=f"{self.name}:{sub}"[:160],
            name=(text(self.claims.name) or text("email") or sub)[:120],
            role=role,
            tenant=self.tenant,
            region_code=text(self.claims.region_code),
            agency_id=text(self.claims.agency_id),
            provider=f"oidc:{self.name}",
            created_by=f"oidc:{self.name}",
            created_at=now,
        )
        principal_of(account.claims() | {"sub": account.username})  # the kit's own checks
        return account


def providers_of(settings: PortalSettings) -> list[Provider]:
    raw = settings.oidc_providers.strip()
    if not raw:
        return []
    if not raw.startswith("["):
        raw = Path(raw).read_text()
    return [Provider.model_validate(p) for p in json.loads(raw)]


def install(app: FastAPI, settings: PortalSettings, store: PortalStore) -> None:
    providers = {p.name: p for p in providers_of(settings)}
    app.state.oidc_buttons = [{"name": p.name, "label": p.label} for p in providers.values()]
    if not providers:
        return
    from authlib.integrations.starlette_client import OAuth, OAuthError

    # authlib keeps the state, nonce and PKCE verifier of a sign-in in progress here
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.portal_secret,
        session_cookie="lapor_sso",
        max_age=600,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    oauth = OAuth()
    for p in providers.values():
        oauth.register(
            p.name,
            client_id=p.client_id,
            client_secret=p.client_secret,
            server_metadata_url=p.metadata_url,
            client_kwargs={"scope": p.scope, "code_challenge_method": "S256"},
        )

    @app.get("/masuk/sso/{name}")
    async def start(name: str, request: Request) -> Response:
        if name not in providers:
            return RedirectResponse("/masuk", status_code=303)
        client = oauth.create_client(name)
        back = str(request.url_for("sso_back", name=name))
        response: Response = await client.authorize_redirect(request, back)
        return response

    @app.get("/masuk/sso/{name}/kembali", name="sso_back")
    async def back(name: str, request: Request) -> Response:
        provider = providers.get(name)
        if provider is None:
            return RedirectResponse("/masuk", status_code=303)
        try:
            token = await oauth.create_client(name).authorize_access_token(request)
            claims = dict(token.get("userinfo") or {})
            account = provider.account(claims, datetime.now(UTC))
        except (OAuthError, AuthError, ValueError) as exc:  # a refusal, a bad state, a bad claim
            log.info("sign-on through %s refused: %s", name, exc)
            return HTMLResponse(
                "<!doctype html><title>LAPOR!</title><p>Masuk lewat sistem provinsi ditolak. / "
                "Sign-on refused.</p><p><a href='/masuk'>Kembali / Back</a></p>",
                status_code=403,
            )
        account = await store.upsert_federated(account)
        if account.disabled:
            return RedirectResponse("/masuk", status_code=303)
        open_session = app.state.open_staff_session
        result: Response = await open_session(request, account, "/kerja", f"oidc:{name}")
        return result
