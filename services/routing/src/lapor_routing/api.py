"""HTTP API of routing, for admins and agency staff (signed tokens; tenant-scoped).

Errors: 401 no or bad token; 403 the role may not do this; 404 unknown case or one of
another province (the same answer, so nothing leaks); 409 the case's status does not allow
the action (with the reason in Bahasa Indonesia and English); 422 invalid input.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from lapor_kit.auth import Principal
from lapor_kit.uploads import UploadHandles, staff_binding
from lapor_kit.web import Staff, error_response
from lapor_schemas import Attachment, AttachmentClaim, Text
from lapor_schemas.reference import categories

from .domain.access import may_edit_directory
from .domain.directory import Agency, DirectoryFile
from .domain.inbox import InboxFilter, Sort, scope_of
from .domain.lifecycle import IllegalTransitionError, UnknownAgencyError
from .service import ForbiddenError, InvalidDirectoryError, NotVisibleError, RoutingService


class CaseHistoryEntry(BaseModel):
    event_id: str
    type: str
    status: str
    at: datetime
    agency_id: str | None = None
    rule: str | None = None
    reason: str | None = None
    text: str | None = None
    score: int | None = None
    level: int | None = None
    category: str | None = None


class ParkedOut(BaseModel):
    reason: str
    at: datetime
    label: str = "perlu penanganan manual / needs manual handling"


class Assignee(BaseModel):
    username: str
    name: str


class NoteOut(BaseModel):
    at: datetime
    by: str
    name: str
    role: str
    text: str


class NoteIn(BaseModel):
    text: Text = Field(min_length=2, max_length=2000)


class AssignIn(BaseModel):
    username: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")
    name: str | None = Field(default=None, max_length=120)


class CaseOut(BaseModel):
    tracking_id: str
    tenant: str
    status: str
    type: str
    category: str
    region_code: str
    title: str
    agency: Agency | None
    transfers: int
    escalation_level: int
    escalated_to: str | None
    due_at: datetime | None
    submitted_at: datetime | None = None
    overdue_since: datetime | None = None
    stage: str | None
    repeat_of: str | None
    suggested_category: str | None = Field(
        default=None,
        description="The category the report's words point to, when it is not the case's "
        "(flagged for the verifier).",
    )
    supporters: int = Field(
        default=0, description="People who joined the report with the same problem."
    )
    assignee: Assignee | None = Field(
        default=None, description="The officer of the agency who handles it."
    )
    notes: list[NoteOut] = Field(
        default_factory=list,
        description="Internal notes: for the staff of the case only, never published.",
    )
    parked: ParkedOut | None = Field(
        default=None,
        description="Set when the rules could not decide (perlu penanganan manual): a "
        "coordinator dispatches it by hand.",
    )
    history: list[CaseHistoryEntry] = Field(default_factory=list)


class Note(BaseModel):
    note: Text | None = Field(default=None, max_length=2000)
    agency_id: str | None = Field(default=None, description="Dispatch to this agency instead.")


class DirectoryVersionOut(BaseModel):
    revision: int
    version: int
    by: str
    at: datetime
    note: str | None = None
    agencies: int


class Rollback(BaseModel):
    revision: int = Field(ge=1, le=1_000_000)


class Reason(BaseModel):
    reason: Text = Field(min_length=3, max_length=2000)


class Question(BaseModel):
    question: Text = Field(min_length=3, max_length=2000)


class RepeatOf(BaseModel):
    repeat_of: str = Field(pattern=r"^LPR-[0-9A-Z]{10}$")


class DispatchTo(BaseModel):
    agency_id: str | None = None


class Decline(BaseModel):
    reason: Text = Field(min_length=3, max_length=2000)
    suggested_agency_id: str | None = None
    to_coordinator: bool = Field(
        default=False,
        description="Leave the choice of the next agency to the coordinator (the regency's, "
        "else the province's) instead of the rules or a suggestion.",
    )


class Recategorise(BaseModel):
    category: str = Field(min_length=1, max_length=64)


class FollowUp(BaseModel):
    text: Text = Field(min_length=3, max_length=5000)
    attachments: list[AttachmentClaim] = Field(
        default_factory=list,
        max_length=5,
        description="Files this staff member uploaded to intake (POST "
        "/api/v1/staff/attachments), by their handles.",
    )


Who = Staff  # the signed-in user, from the bearer token (the kit's one dependency)


_error = error_response  # the kit's one error body


def install(app: FastAPI, service: RoutingService, handles: UploadHandles) -> None:
    router = APIRouter(prefix="/api/v1")

    def uploaded(who: Principal, claims: list[AttachmentClaim]) -> list[Attachment] | JSONResponse:
        """A follow-up's files: handles of this staff member's own uploads only (a reference
        to any other stored file cannot be named)."""
        found: list[Attachment] = []
        errors = []
        for index, claim in enumerate(claims):
            ticket = handles.open(claim.handle, staff_binding(who.subject))
            if ticket is None:
                errors.append(
                    {
                        "field": f"attachments.{index}",
                        "code": "attachment_unknown",
                        "message": "berkas lampiran tidak dikenal atau sudah kedaluwarsa; "
                        "unggah ulang berkasnya",
                        "message_en": "the attached upload is unknown or has expired; upload "
                        "the file again",
                    }
                )
            else:
                found.append(ticket.attachment())
        if errors:
            return error_response(
                422,
                "invalid_request",
                "Lampiran tidak dapat dipakai.",
                "An attachment cannot be used.",
                errors,
            )
        return found

    def view(case: dict[str, Any]) -> CaseOut:
        return CaseOut.model_validate(
            {
                **case,
                "tracking_id": case["_id"],
                "agency": service.directory.by_id.get(case.get("agency_id") or ""),
                "history": case.get("history", []),
            }
        )

    @app.exception_handler(ForbiddenError)
    async def on_forbidden(_: Request, exc: ForbiddenError) -> JSONResponse:
        return _error(
            403,
            "forbidden",
            "Peran Anda tidak boleh melakukan tindakan ini.",
            f"Your role may not do this ({exc}).",
        )

    @app.exception_handler(NotVisibleError)
    async def on_missing(_: Request, exc: NotVisibleError) -> JSONResponse:
        return _error(404, "not_found", "Laporan tidak ditemukan.", "Case not found.")

    @app.exception_handler(IllegalTransitionError)
    async def on_illegal(_: Request, exc: IllegalTransitionError) -> JSONResponse:
        return _error(409, exc.code, exc.message, exc.message_en)

    @app.exception_handler(InvalidDirectoryError)
    async def on_directory(_: Request, exc: InvalidDirectoryError) -> JSONResponse:
        errors = [
            {
                "field": p.field,
                "code": "directory",
                "message": p.message,
                "message_en": p.message_en,
            }
            for p in exc.problems
        ]
        return error_response(
            422,
            "invalid_directory",
            "Direktori ditolak: " + "; ".join(p.message for p in exc.problems[:5]),
            "Directory refused: " + "; ".join(p.message_en for p in exc.problems[:5]),
            errors,
        )

    @app.exception_handler(UnknownAgencyError)
    async def on_agency(_: Request, exc: UnknownAgencyError) -> JSONResponse:
        return _error(
            422,
            "unknown_agency",
            f"Instansi {exc} tidak dikenal di provinsi ini.",
            f"Agency {exc} is not known in this province.",
        )

    @router.get(
        "/agencies",
        response_model=list[Agency],
        tags=["directory"],
        summary="Agency directory of a tenant (province)",
    )
    async def agencies(tenant: str) -> list[Agency]:
        await service.refresh_directory()
        return service.directory.of_tenant(tenant)

    @router.get(
        "/directory/{tenant}",
        response_model=DirectoryFile,
        tags=["directory"],
        summary="A tenant's whole directory: policy, routing rules, agencies",
    )
    async def get_directory(tenant: str) -> Any:
        for f in await service.store.directory_files():
            if f.tenant == tenant:
                return f
        return _error(404, "not_found", "Provinsi tidak dikenal.", "Unknown tenant.")

    @router.put(
        "/directory/{tenant}",
        response_model=DirectoryFile,
        tags=["directory"],
        summary="Load or replace a tenant's directory (national admin, or the province's own "
        "coordinator)",
    )
    async def put_directory(tenant: str, body: DirectoryFile, who: Who) -> Any:
        if not may_edit_directory(who, tenant):
            raise ForbiddenError("directory")
        if body.tenant != tenant:
            return _error(
                422,
                "tenant_mismatch",
                "Kode provinsi tidak cocok.",
                "The body's tenant differs from the path.",
            )
        await service.replace_directory(body, who.subject)
        return body

    @router.get(
        "/directory/{tenant}/versions",
        response_model=list[DirectoryVersionOut],
        tags=["directory"],
        summary="Every stored revision of a tenant's directory: who changed it, when (newest "
        "first)",
    )
    async def directory_versions(tenant: str, who: Who) -> list[DirectoryVersionOut]:
        if who.role not in ("national_admin", "province_coordinator") or not who.may_act_in(tenant):
            raise ForbiddenError("directory")
        return [
            DirectoryVersionOut.model_validate(r, from_attributes=True)
            for r in await service.directory_history(tenant)
        ]

    @router.post(
        "/directory/{tenant}/rollback",
        response_model=DirectoryVersionOut,
        tags=["directory"],
        summary="Make an earlier revision current again (national admin or the province's "
        "coordinator; stored as a new revision)",
    )
    async def directory_rollback(tenant: str, body: Rollback, who: Who) -> Any:
        if not may_edit_directory(who, tenant):
            raise ForbiddenError("directory")
        try:
            revision = await service.roll_back_directory(tenant, body.revision, who.subject)
        except LookupError:
            return _error(404, "not_found", "Revisi tidak ditemukan.", "Revision not found.")
        latest = next(r for r in await service.directory_history(tenant) if r.revision == revision)
        return DirectoryVersionOut.model_validate(latest, from_attributes=True)

    @router.get(
        "/inbox",
        response_model=list[CaseOut],
        tags=["cases"],
        summary="The cases you may handle: filters (status, category, regency, agency, "
        "overdue, parked, possible repeats, words in the title or description), a sort, and "
        "the number of cases the filters list in all in the X-Total-Count header",
    )
    async def inbox(
        who: Who,
        response: Response,
        status: str | None = None,
        overdue: bool | None = None,
        agency_id: str | None = None,
        category: str | None = None,
        region_code: str | None = None,
        tenant: str | None = None,
        parked: bool | None = None,
        possible_repeat: bool = False,
        assignee: Annotated[str | None, Query(max_length=64)] = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
        sort: Sort = "urgency",
        limit: Annotated[int, Query(ge=1, le=200)] = 200,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    ) -> list[CaseOut]:
        found = await service.inbox(
            InboxFilter(
                scope=scope_of(who, tenant=tenant),
                statuses=tuple(s for s in (status or "").split(",") if s),
                category=category or None,
                region_code=region_code or None,
                agency_id=agency_id or None,
                parked=parked,
                overdue=overdue,
                possible_repeat=possible_repeat,
                assignee=assignee or None,
                words=InboxFilter.query_words(q),
                sort=sort,
            ),
            limit=limit,
            skip=offset,
        )
        response.headers["X-Total-Count"] = str(found.total)
        return [view(c) for c in found.cases]

    @router.get(
        "/cases/{tracking_id}",
        response_model=CaseOut,
        tags=["cases"],
        summary="A case with its whole history (every hop)",
    )
    async def case(tracking_id: str, who: Who) -> CaseOut:
        return view(await service.visible_case(who, tracking_id))

    @router.post(
        "/cases/{tracking_id}/notes",
        response_model=CaseOut,
        tags=["cases"],
        summary="Add an internal note (staff of the case only; never published)",
    )
    async def add_note(tracking_id: str, who: Who, body: NoteIn) -> CaseOut:
        return view(await service.add_note(who, tracking_id, body.text))

    @router.put(
        "/cases/{tracking_id}/assignee",
        response_model=CaseOut,
        tags=["cases"],
        summary="Hand the case to a named officer of its agency (or to nobody)",
    )
    async def assign(tracking_id: str, who: Who, body: AssignIn) -> CaseOut:
        return view(await service.assign(who, tracking_id, body.username, body.name))

    async def act(tracking_id: str, who: Principal, name: str, **args: Any) -> CaseOut:
        return view(await service.act(who, tracking_id, name, **args))

    @router.post(
        "/cases/{tracking_id}/verify",
        response_model=CaseOut,
        tags=["cases"],
        summary="Verify (and dispatch to the routed agency, or to agency_id)",
    )
    async def verify_case(tracking_id: str, who: Who, body: Note) -> CaseOut:
        return await act(tracking_id, who, "verify", note=body.note, agency_id=body.agency_id)

    @router.post(
        "/cases/{tracking_id}/request-info",
        response_model=CaseOut,
        tags=["cases"],
        summary="Ask the reporter for missing details",
    )
    async def request_info(tracking_id: str, who: Who, body: Question) -> CaseOut:
        return await act(tracking_id, who, "request_info", question=body.question)

    @router.post(
        "/cases/{tracking_id}/reject",
        response_model=CaseOut,
        tags=["cases"],
        summary="Reject (spam, out of scope)",
    )
    async def reject(tracking_id: str, who: Who, body: Reason) -> CaseOut:
        return await act(tracking_id, who, "reject", reason=body.reason)

    @router.post(
        "/cases/{tracking_id}/mark-repeat",
        response_model=CaseOut,
        tags=["cases"],
        summary="Mark as a repeat of another report",
    )
    async def mark_repeat(tracking_id: str, who: Who, body: RepeatOf) -> CaseOut:
        return await act(tracking_id, who, "mark_repeat", repeat_of=body.repeat_of)

    @router.post(
        "/cases/{tracking_id}/dispatch",
        response_model=CaseOut,
        tags=["cases"],
        summary="Dispatch or re-dispatch (coordinators)",
    )
    async def dispatch(tracking_id: str, who: Who, body: DispatchTo) -> CaseOut:
        return await act(tracking_id, who, "dispatch", agency_id=body.agency_id)

    @router.post(
        "/cases/{tracking_id}/decline",
        response_model=CaseOut,
        tags=["cases"],
        summary="Not within our authority (bukan wewenang): re-routed, history kept",
    )
    async def decline(tracking_id: str, who: Who, body: Decline) -> CaseOut:
        return await act(
            tracking_id,
            who,
            "decline",
            reason=body.reason,
            suggested_agency_id=body.suggested_agency_id,
            to_coordinator=body.to_coordinator,
        )

    @router.post(
        "/cases/{tracking_id}/recategorise",
        response_model=CaseOut,
        tags=["cases"],
        summary="Correct the category (coordinators); a case an agency has is routed again",
    )
    async def recategorise(tracking_id: str, who: Who, body: Recategorise) -> Any:
        if body.category not in categories():
            return _error(
                422,
                "unknown_category",
                "Kategori tidak dikenal.",
                "Unknown category.",
            )
        return await act(tracking_id, who, "recategorise", category=body.category)

    @router.post(
        "/cases/{tracking_id}/follow-up",
        response_model=CaseOut,
        tags=["cases"],
        summary="The agency's follow-up (tindak lanjut)",
    )
    async def follow_up(tracking_id: str, who: Who, body: FollowUp) -> CaseOut | JSONResponse:
        files = uploaded(who, body.attachments)
        if isinstance(files, JSONResponse):
            return files
        return await act(tracking_id, who, "follow_up", text=body.text, attachments=files)

    @router.post(
        "/cases/{tracking_id}/close",
        response_model=CaseOut,
        tags=["cases"],
        summary="Close the case",
    )
    async def close(tracking_id: str, who: Who, body: Reason) -> CaseOut:
        return await act(tracking_id, who, "close", reason=body.reason)

    app.include_router(router)
