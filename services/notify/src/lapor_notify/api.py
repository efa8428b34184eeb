"""HTTP API of notify: the in-app inboxes and the agencies' notification settings.

* ``GET /api/v1/notifications?tracking_id=…`` — the reporter's inbox, with the status secret
  in the ``X-Lapor-Secret`` header (a secret in a URL is refused with 400); staff with a
  token see every delivery of the case (statuses, no addresses).
* ``GET /api/v1/agencies/{id}/notifications`` — the agency's inbox (token).
* ``PUT|DELETE /api/v1/agencies/{id}/webhook``, ``PUT /api/v1/agencies/{id}/contacts``,
  ``GET /api/v1/agencies/{id}/channels`` — where the agency hears from Lapor.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, HttpUrl

from lapor_kit.auth import AuthError, Principal, SecretMinter
from lapor_kit.limits import per_client
from lapor_kit.web import Staff, error_response, principal_from
from lapor_schemas import Email, Line

from .domain.stopping import StopCodes
from .domain.targets import Resolver, TargetRefusedError, check_target, system_resolver
from .service import NotifyService

Secret = Annotated[str | None, Header(alias="X-Lapor-Secret")]
Authorization = Annotated[str | None, Header()]
AgencyId = Annotated[
    str,
    Path(pattern=r"^[0-9]{2}(\.[0-9]{2})?\.[a-z0-9_-]{2,40}$", description="e.g. 63.71.pupr"),
]


class NotificationOut(BaseModel):
    id: str
    tracking_id: str
    channel: str
    recipient_role: str
    agency_id: str | None
    status: str
    cause_event_type: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None = None
    subject: str | None = Field(default=None, description="Inbox entries only.")
    body: str | None = Field(default=None, description="Inbox entries only.")


class WebhookIn(BaseModel):
    url: HttpUrl = Field(description="Where Lapor POSTs the agency's notifications (JSON).")


class WebhookOut(BaseModel):
    url: str
    secret: str = Field(
        description="Shown once. Verify X-Lapor-Signature = 'sha256=' + HMAC-SHA256(secret, "
        "X-Lapor-Timestamp + '.' + body) and reject timestamps older than 5 minutes."
    )


class AgencyContact(BaseModel):
    role: Literal["operator", "pimpinan"] = Field(
        description="operator: the complaint desk; pimpinan: the head of the agency."
    )
    name: Line | None = Field(default=None, max_length=120)
    email: Email


class ContactsIn(BaseModel):
    contacts: list[AgencyContact] = Field(max_length=20)


class ChannelsOut(BaseModel):
    agency_id: str
    contacts: list[AgencyContact]
    webhook_url: str | None


class ForbiddenError(Exception):
    pass


_error = error_response  # the kit's one error body


def staff_may_see(who: Principal, doc: dict[str, Any]) -> bool:
    """A case's deliveries as staff see them: a national admin all, a province coordinator
    those of the province's cases, anyone else only what was sent to their own agency. A
    case one may not see and a case that does not exist both answer ``[]``."""
    if who.role == "national_admin":
        return True
    if who.role == "province_coordinator":
        return who.may_act_in(str(doc.get("tenant", "")))
    return who.agency_id is not None and doc.get("agency_id") == who.agency_id


def _out(doc: dict[str, Any], *, hide_body: bool = False) -> NotificationOut:
    inbox = doc["channel"] == "inbox" and not hide_body
    return NotificationOut(
        id=doc["_id"],
        tracking_id=doc["tracking_id"],
        channel=doc["channel"],
        recipient_role=doc["role"],
        agency_id=doc.get("agency_id"),
        status=doc["status"],
        cause_event_type=doc["cause_event_type"],
        attempts=doc.get("attempts", 0),
        created_at=doc["created_at"],
        sent_at=doc.get("sent_at"),
        last_error=doc.get("last_error"),
        subject=doc.get("subject") if inbox else None,
        body=doc.get("body") if inbox else None,
    )


class StopIn(BaseModel):
    code: str = Field(
        max_length=64, description="The stop code from a supporter's e-mail (its link's end)."
    )


class StopOut(BaseModel):
    tracking_id: str = Field(description="The report the person no longer hears of.")


@dataclass(frozen=True, slots=True)
class WebhookRule:
    production: bool = False
    allowed: Collection[str] = ()
    resolve: Resolver = system_resolver


def install(
    app: FastAPI,
    service: NotifyService,
    *,
    status_secret_key: str,
    webhook_rule: WebhookRule | None = None,
) -> None:
    rule = webhook_rule or WebhookRule()
    router = APIRouter(prefix="/api/v1")
    minter = SecretMinter(status_secret_key.encode())
    stop_codes = StopCodes(status_secret_key.encode())

    def may_manage(who: Principal, agency_id: str) -> None:
        tenant = agency_id.split(".", 1)[0]
        if who.role == "national_admin":
            return
        if who.role == "province_coordinator" and who.may_act_in(tenant):
            return
        if who.role == "regency_coordinator" and (
            agency_id == who.agency_id or agency_id.startswith(f"{who.region_code}.")
        ):
            return  # the agencies of its own regency/city
        if who.role == "agency_staff" and who.agency_id == agency_id:
            return
        raise ForbiddenError(f"{who.role} of {who.agency_id or who.tenant} for {agency_id}")

    @app.exception_handler(AuthError)
    async def on_auth(_: Request, exc: AuthError) -> JSONResponse:
        return _error(
            401,
            "unauthenticated",
            "Perlu kode rahasia laporan (X-Lapor-Secret) atau token petugas yang valid.",
            f"The report's secret (X-Lapor-Secret) or a valid staff token is needed: {exc}",
        )

    @app.exception_handler(ForbiddenError)
    async def on_forbidden(_: Request, exc: ForbiddenError) -> JSONResponse:
        return _error(
            403,
            "forbidden",
            "Anda tidak berwenang atas instansi ini.",
            f"You may not act for this agency ({exc}).",
        )

    @router.get(
        "/notifications",
        response_model=list[NotificationOut],
        tags=["inbox"],
        summary="The reporter's inbox for a report (with its secret), or the case's "
        "deliveries a staff token may see (its agency's; a coordinator's province)",
    )
    async def notifications(
        request: Request,
        tracking_id: Annotated[str, Query(pattern=r"^LPR-[0-9A-Z]{10}$")],
        x_lapor_secret: Secret = None,
        authorization: Authorization = None,
    ) -> list[NotificationOut]:
        given = x_lapor_secret
        if given is not None:
            if not minter.verify(tracking_id, given):
                raise AuthError("the secret does not match this report")
            docs = await service.for_case(tracking_id, reporter_only=True)
        else:
            who = await principal_from(request, authorization)
            docs = [
                d
                for d in await service.for_case(tracking_id, reporter_only=False)
                if staff_may_see(who, d)
            ]
            # the reporter's own inbox copies (their name, their case) are not for staff
            return [_out(d, hide_body=d["role"] == "reporter") for d in docs]
        return [_out(d) for d in docs]

    @router.get(
        "/agencies/{agency_id}/notifications",
        response_model=list[NotificationOut],
        tags=["inbox"],
        summary="The agency's inbox, newest first (token of the agency or a coordinator)",
    )
    async def agency_inbox(
        agency_id: AgencyId,
        who: Staff,
        limit: int = Query(200, ge=1, le=1000),
    ) -> list[NotificationOut]:
        may_manage(who, agency_id)
        return [_out(d) for d in await service.for_agency(agency_id, limit)]

    @router.get(
        "/agencies/{agency_id}/channels",
        response_model=ChannelsOut,
        tags=["agencies"],
        summary="Where the agency hears from Lapor",
    )
    async def channels(agency_id: AgencyId, who: Staff) -> ChannelsOut:
        may_manage(who, agency_id)
        entry = await service.agency_settings(agency_id)
        return ChannelsOut(
            agency_id=agency_id,
            contacts=[AgencyContact.model_validate(c) for c in entry.get("contacts") or ()],
            webhook_url=(entry.get("webhook") or {}).get("url"),
        )

    @router.put(
        "/agencies/{agency_id}/webhook",
        response_model=WebhookOut,
        tags=["agencies"],
        summary="Register the agency's webhook; answers its signing secret (once)",
    )
    async def put_webhook(agency_id: AgencyId, body: WebhookIn, who: Staff) -> WebhookOut:
        may_manage(who, agency_id)
        url = str(body.url)
        try:
            await check_target(
                url, production=rule.production, resolve=rule.resolve, allowed=rule.allowed
            )
        except TargetRefusedError as exc:
            return error_response(  # type: ignore[return-value]
                422,
                "invalid_request",
                f"Alamat webhook ditolak: {exc.reason_id}.",
                f"Webhook target refused: {exc}.",
                [
                    {
                        "field": "url",
                        "code": "webhook_target",
                        "message": exc.reason_id,
                        "message_en": str(exc),
                    }
                ],
            )
        return WebhookOut(url=url, secret=await service.register_webhook(agency_id, url))

    @router.delete("/agencies/{agency_id}/webhook", status_code=204, tags=["agencies"])
    async def delete_webhook(agency_id: AgencyId, who: Staff) -> None:
        may_manage(who, agency_id)
        await service.remove_webhook(agency_id)

    @router.put(
        "/agencies/{agency_id}/contacts",
        response_model=ChannelsOut,
        tags=["agencies"],
        summary="The agency's contact list by role (replaces the directory address)",
    )
    async def put_contacts(agency_id: AgencyId, body: ContactsIn, who: Staff) -> ChannelsOut:
        may_manage(who, agency_id)
        await service.set_contacts(agency_id, [c.model_dump() for c in body.contacts])
        entry = await service.agency_settings(agency_id)
        return ChannelsOut(
            agency_id=agency_id,
            contacts=body.contacts,
            webhook_url=(entry.get("webhook") or {}).get("url"),
        )

    @router.post(
        "/supporters/stop",
        response_model=StopOut,
        tags=["supporters"],
        summary="Someone who joined a report stops hearing of it (with the code of their "
        "e-mail; rate-limited per client)",
        responses={
            404: {"description": "Not a code of a known supporter."},
            429: {"description": "Too many tries from this address; see Retry-After."},
        },
        dependencies=[Depends(per_client("stop"))],
    )
    async def stop(body: StopIn) -> StopOut | JSONResponse:
        supporter_id = stop_codes.supporter_of(body.code)
        tracking_id = await service.store.stop_supporter(supporter_id) if supporter_id else None
        if tracking_id is None:  # an altered code and an unknown one look the same
            return error_response(
                404,
                "not_found",
                "Kode berhenti tidak dikenal. Periksa kode di e-mail Anda.",
                "Unknown stop code. Check the code in your e-mail.",
            )
        return StopOut(tracking_id=tracking_id)

    app.include_router(router)
