"""Codes into words for the workspace's pages and CSVs: categories, regencies and
provinces by name (from the reference data), statuses, roles, events, channels, audit lines
and agencies from the one vocabulary, ``lapor_schemas.words``, in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lapor_schemas import words

if TYPE_CHECKING:
    from ..identity import Account
    from .deps import Workspace


@dataclass(frozen=True, slots=True)
class Names:
    lang: str
    categories: dict[str, str]
    regions: dict[str, dict[str, Any]]
    agencies: dict[str, str]

    @classmethod
    async def load(
        cls, ws: Workspace, lang: str, agencies: list[dict[str, Any]] | None = None
    ) -> Names:
        categories = {c["code"]: c["name"] for c in await ws.api.reference("categories")}
        regions = {r["code"]: r for r in await ws.api.reference("regions")}
        return cls(
            lang,
            categories,
            regions,
            {a["id"]: a["name"] for a in agencies or []},
        )

    def category(self, code: str | None) -> str:
        return self.categories.get(code or "", code or "—")

    def region(self, code: str | None) -> str:
        found = self.regions.get(code or "")
        return str(found["name"]) if found else (code or "—")

    def province(self, code: str | None) -> str:
        if code in (None, "", "*"):
            return words.pick(("Semua provinsi", "All provinces"), self.lang)
        return self.region(code)

    def agency(self, agency_id: str | None) -> str:
        if not agency_id:
            return "—"
        if agency_id in self.agencies:
            return self.agencies[agency_id]
        if agency_id == "00.ombudsman":
            return "Ombudsman RI"
        return words.pick(("instansi lain", "another agency"), self.lang)

    def scope(self, account: Account) -> str:
        """Where an account works, in words: its agency, regency or province (nothing for
        the national level)."""
        if account.agency_id:
            return self.agency(account.agency_id)
        if account.region_code:
            return self.region(account.region_code)
        if account.tenant != "*":
            return self.province(account.tenant)
        return words.pick(("Nasional", "National"), self.lang)

    def status(self, key: str) -> str:
        return words.status(key, self.lang)

    def status_short(self, key: str) -> str:
        return words.pick(words.STATUS_SHORT.get(key, ("Dalam proses", "In progress")), self.lang)

    def role(self, key: str) -> str:
        return words.role(key, self.lang)

    def event(self, key: str) -> str:
        return words.event(key, self.lang)

    def channel(self, key: str) -> str:
        return words.channel(key, self.lang)

    def report_channel(self, key: str) -> str:
        return words.report_channel(key, self.lang)

    def recipient(self, key: str) -> str:
        return words.recipient(key, self.lang)

    def delivery(self, key: str) -> str:
        return words.delivery(key, self.lang)

    def action(self, key: str) -> str:
        return words.pick(words.STAFF_ACTION.get(key, (key, key)), self.lang)

    def audit(self, key: str) -> str:
        return words.audit(key, self.lang)

    def audit_detail(self, detail: dict[str, Any]) -> str:
        """What an audit line notes beside its action, in words: names for agencies, roles
        and channels; a reason as typed."""
        parts = []
        for key, value in detail.items():
            label = words.pick(words.AUDIT_DETAIL.get(key, (key, key)), self.lang)
            if key == "agency_id":
                shown = self.agency(str(value))
            elif key == "role":
                shown = self.role(str(value))
            elif key == "channel":
                shown = self.report_channel(str(value))
            elif key == "method":
                shown = words.pick(
                    ("kata sandi", "password")
                    if value == "password"
                    else ("sistem provinsi", "the province's sign-on"),
                    self.lang,
                )
            elif isinstance(value, bool):
                shown = words.pick(("ya", "yes") if value else ("tidak", "no"), self.lang)
            else:
                shown = str(value)
            parts.append(f"{label}: {shown}")
        return " · ".join(parts)

    def category_list(self) -> list[tuple[str, str]]:
        return sorted(self.categories.items(), key=lambda kv: kv[1])

    def region_list(self, me: Account) -> list[tuple[str, str]]:
        """The regencies this person's inbox can hold, by name."""
        found = [
            (code, str(r["name"]))
            for code, r in self.regions.items()
            if r.get("kind") != "province"
            and (me.tenant == "*" or r.get("province_code") == me.tenant)
            and (me.role != "regency_coordinator" or code == me.region_code)
        ]
        return sorted(found, key=lambda kv: kv[1])
