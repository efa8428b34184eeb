"""``POST /api/v1/complaints/suggest``: which category a report is about, from its words (the
portal's form suggests it while the citizen writes; the citizen's choice always wins)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from pydantic import BaseModel, Field

from lapor_kit.limits import per_client
from lapor_schemas import FieldError
from lapor_schemas.reference import categories

from .. import triage
from .errors import ErrorBody, failure, invalid

REFUSED = {
    "empty": ("Tulis judul atau isi laporan dulu.", "Write a title or a description first."),
    "too_long": (
        "Teks terlalu panjang untuk disarankan kategorinya (paling banyak 6.000 karakter).",
        "The text is too long for a suggestion (at most 6,000 characters).",
    ),
    "nul": (
        "Teks berisi karakter yang tidak sah.",
        "The text holds a character that is not allowed.",
    ),
}


class SuggestIn(BaseModel):
    title: str = Field(default="", max_length=10_000)
    description: str = Field(default="", max_length=10_000)
    region_code: str | None = Field(
        default=None,
        max_length=16,
        description="Where the report is: a province's own model answers when it has one.",
    )


class Score(BaseModel):
    code: str
    score: float = Field(ge=0, le=1)


class SuggestOut(BaseModel):
    categories: list[Score] = Field(
        description="Every catalogue category, best first; the scores sum to 1."
    )
    model: str = Field(description="Which model answered (for the agreement metrics).")


def install(app: FastAPI, choose: Callable[[str | None], triage.Suggester] | None = None) -> None:
    """``choose``: the model for a province (its accepted retrain, else the committed one)."""
    router = APIRouter(prefix="/api/v1")
    runtime = getattr(app.state, "runtime", None)
    counted = (
        Counter(
            "lapor_triage_suggestions",
            "Category suggestions answered, by the model that answered and the category it "
            "put first.",
            ["model", "category"],
            registry=runtime.registry,
        )
        if runtime is not None
        else None
    )
    if counted is not None:  # at 0 from the start: increase() sees the first
        for code in categories():
            counted.labels("committed", code)

    @router.post(
        "/complaints/suggest",
        dependencies=[Depends(per_client("read"))],
        response_model=SuggestOut,
        tags=["complaints"],
        summary="Suggest the category of a report from its words",
        responses={422: {"model": ErrorBody}, 429: {"model": ErrorBody}},
    )
    async def suggest(body: SuggestIn) -> SuggestOut | JSONResponse:
        try:
            triage.check(body.title, body.description)
        except triage.TextRefusedError as exc:
            message, message_en = REFUSED[str(exc)]
            field = "description" if str(exc) != "empty" else ""
            return invalid(
                [
                    FieldError(
                        field=field, code=f"text_{exc}", message=message, message_en=message_en
                    )
                ]
            )
        if not triage.ready():
            # still being trained at start (a few seconds): say so at once, never hang
            answer = failure(
                503,
                "Saran kategori sedang disiapkan; coba lagi sebentar.",
                "The category suggestion is being prepared; try again shortly.",
            )
            answer.headers["Retry-After"] = "5"
            return answer
        province = (body.region_code or "")[:2] or None
        model = await asyncio.to_thread(choose or (lambda _: triage.default()), province)
        ranked = model.suggest(body.title, body.description)
        if counted is not None:
            counted.labels(model.version, ranked[0][0]).inc()
        return SuggestOut(
            categories=[Score(code=c, score=round(s, 6)) for c, s in ranked], model=model.version
        )

    app.include_router(router)
