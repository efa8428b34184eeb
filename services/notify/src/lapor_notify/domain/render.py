"""Message text from Jinja2 templates (one per event type, recipient role and channel).

Templates live in ``lapor_notify/templates/<lang>/<template>.j2``: the first line is the
subject, then a line ``---``, then the body. A province overrides one by putting a file of the
same name under ``<LAPOR_NOTIFY_TEMPLATE_DIR>/<tenant>/<lang>/``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateNotFound,
)

from lapor_schemas import reference, words
from lapor_schemas.reference import categories

TYPE_LABELS = {
    "pengaduan": "Pengaduan",
    "aspirasi": "Aspirasi",
    "permintaan_informasi": "Permintaan Informasi",
}
RULE_LABELS = {
    "region-category": "kewenangan wilayah dan kategori layanan",
    "region-coordinator": "admin koordinator wilayah (belum ada instansi teknis yang cocok)",
    "province-coordinator": "admin koordinator provinsi",
}


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    body: str


class Renderer:
    def __init__(self, override_dir: Path | None = None, portal_url: str = "") -> None:
        self._override = override_dir
        self._envs: dict[str, Environment] = {}
        self.portal_url = portal_url.rstrip("/")

    def _env(self, tenant: str) -> Environment:
        env = self._envs.get(tenant)
        if env is None:
            loaders: list[Any] = []
            if self._override is not None:
                loaders.append(FileSystemLoader(str(self._override / tenant)))
            loaders.append(PackageLoader("lapor_notify", "templates"))
            env = Environment(
                loader=ChoiceLoader(loaders),
                undefined=StrictUndefined,
                autoescape=False,  # noqa: S701 - plain-text mail and SMS, never HTML
                keep_trailing_newline=True,
            )
            env.filters["tanggal"] = tanggal
            env.filters["date_en"] = date_en
            self._envs[tenant] = env
        return env

    def render(
        self, template: str | Sequence[str], lang: str, tenant: str, context: Mapping[str, Any]
    ) -> Rendered:
        """Render the first of ``template`` (names tried in order) that exists, in ``lang``
        or else in Bahasa Indonesia; a province's own files win over the shipped ones."""
        env = self._env(tenant)
        names = [template] if isinstance(template, str) else list(template)
        candidates = [f"{lg}/{n}.j2" for lg in dict.fromkeys((lang, "id")) for n in names]
        try:
            tpl = env.select_template(candidates)
        except TemplateNotFound as exc:
            raise TemplateMissingError(", ".join(candidates)) from exc
        ctx = enrich(context)
        # what the message is about, in the one vocabulary's words (its subject line), and
        # the link back to the report: the follow page with the tracking id filled in
        event_type = names[0].rsplit(".", 2)[0] if names else ""
        ctx.setdefault("kabar", words.notice(event_type, lang))
        if self.portal_url and ctx.get("tracking_id"):
            ctx.setdefault("follow_url", f"{self.portal_url}/lacak?nomor={ctx['tracking_id']}")
            # the public page (for people who joined the report: they have no secret)
            ctx.setdefault("report_url", f"{self.portal_url}/laporan/{ctx['tracking_id']}")
            if ctx.get("stop_code"):  # someone who joined the report can stop hearing of it
                ctx.setdefault("stop_url", f"{self.portal_url}/berhenti#{ctx['stop_code']}")
        ctx.setdefault("follow_url", "")
        ctx.setdefault("report_url", "")
        text = tpl.render(**ctx)
        subject, _, body = text.partition("\n---\n")
        return Rendered(subject.strip(), body.strip() + "\n")


class TemplateMissingError(LookupError):
    """No template for this event, recipient and channel."""


def tanggal(value: Any) -> str:
    """A date in Bahasa Indonesia: '30 November 2026'."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return str(value)
    return f"{value.day} {words.BULAN[value.month - 1]} {value.year}"


def date_en(value: Any) -> str:
    """A date in English: '30 November 2026'."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return str(value)
    return f"{value.day} {value.strftime('%B')} {value.year}"


def enrich(context: Mapping[str, Any]) -> dict[str, Any]:
    ctx: dict[str, Any] = {"reporter_name": None, **context}
    category = categories().get(str(ctx.get("category")))
    region = reference.region(str(ctx.get("region_code")))  # former codes too
    ctx.setdefault("category_name", category.name if category else ctx.get("category"))
    ctx.setdefault("category_name_en", category.name_en if category else ctx.get("category"))
    ctx.setdefault("region_name", region.name if region else ctx.get("region_code"))
    ctx.setdefault("type_label", TYPE_LABELS.get(str(ctx.get("type")), ctx.get("type")))
    ctx.setdefault("rule_label", RULE_LABELS.get(str(ctx.get("rule")), ctx.get("rule")))
    return ctx
