"""HTTP entry points of intake: one module per door, all calling the same service layer."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from lapor_kit.uploads import UploadHandles

from ..adapters.attachments import AttachmentStore
from ..domain.credentials import Registry
from ..service import IntakeService
from . import errors, open311, public, sms, staff, triage


@dataclass(frozen=True)
class Deps:
    service: IntakeService
    registry: Registry
    attachments: AttachmentStore
    jurisdictions: dict[str, str]
    handles: UploadHandles


def install(app: FastAPI, deps: Deps) -> None:
    errors.install(app)
    public.install(app, deps.service, deps.attachments, deps.handles)
    staff.install(app, deps.service, deps.attachments, deps.handles)
    open311.install(app, deps.service, deps.registry, deps.jurisdictions)
    sms.install(app, deps.service, deps.registry)
    triage.install(app, deps.service.triage_model)
