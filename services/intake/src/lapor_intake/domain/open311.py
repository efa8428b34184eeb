"""Open311 GeoReport v2 mapping: pure functions from our catalogue and case views to the
spec's fields, and rendering as XML (required by the spec) or JSON (Spark convention)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from lapor_schemas.reference import Category
from lapor_schemas.status import is_finished

STATUS_NOTES = {
    "submitted": "Laporan diterima dan menunggu verifikasi (maksimal 3 hari kerja).",
    "verified": "Laporan telah diverifikasi.",
    "dispatched": "Laporan diteruskan kepada {agency}.",
    "needs_info": "Admin meminta informasi tambahan dari pelapor.",
    "followed_up": "{agency} telah menindaklanjuti laporan.",
    "closed": "Laporan selesai.",
    "rejected": "Laporan tidak dapat diproses.",
}
TYPE_VALUES = (
    ("pengaduan", "Pengaduan"),
    ("aspirasi", "Aspirasi"),
    ("permintaan_informasi", "Permintaan informasi"),
)
YES_NO = (("false", "Tidak"), ("true", "Ya"))


def service_list(categories: Iterable[Category]) -> list[dict[str, Any]]:
    return [
        {
            "service_code": c.code,
            "service_name": c.name,
            "description": c.description,
            "metadata": True,
            "type": "realtime",
            "keywords": ", ".join([c.name_en, *c.description.split(", ")[:4]]),
            "group": c.name_en.split(" ")[0].lower(),
        }
        for c in categories
    ]


def service_definition(category: Category) -> dict[str, Any]:
    def attr(
        order: int, code: str, description: str, values: Sequence[tuple[str, str]]
    ) -> dict[str, Any]:
        return {
            "variable": True,
            "code": code,
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": None,
            "order": order,
            "description": description,
            "values": [{"key": k, "name": n} for k, n in values],
        }

    return {
        "service_code": category.code,
        "attributes": [
            attr(1, "jenis", "Jenis laporan / report type (default: pengaduan)", TYPE_VALUES),
            attr(
                2,
                "anonim",
                "Sembunyikan identitas dari instansi? / Hide your identity from the agency?",
                YES_NO,
            ),
            attr(
                3,
                "rahasia",
                "Rahasiakan laporan dari publik? / Keep the report out of public view?",
                YES_NO,
            ),
        ],
    }


def public_status(status: str) -> str:
    return "closed" if is_finished(status) else "open"


def request_view(doc: Mapping[str, Any], categories: Mapping[str, Category]) -> dict[str, Any]:
    """One service request as GET requests returns it. Never identity; the caller filters out
    confidential reports."""
    agency = (doc.get("agency") or {}).get("name")
    category = categories.get(doc["category"])
    location = doc.get("location") or {}
    notes = STATUS_NOTES.get(doc["status"], "").format(agency=agency or "instansi berwenang")
    return {
        "service_request_id": doc["_id"],
        "status": public_status(doc["status"]),
        "status_notes": notes or None,
        "service_name": category.name if category else doc["category"],
        "service_code": doc["category"],
        "description": doc.get("description"),
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": w3(doc["submitted_at"]),
        "updated_datetime": w3(doc.get("updated_at") or doc["submitted_at"]),
        "expected_datetime": w3(doc["due_at"]) if doc.get("due_at") else None,
        "address": location.get("address"),
        "address_id": None,
        "zipcode": None,
        "lat": location.get("lat"),
        "long": location.get("lon"),
        # never a file's link: files are reached through their report only, and a link a
        # client chose would publish whatever it points at
        "media_url": None,
    }


def w3(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def to_xml(root: str, item: str, items: Iterable[Mapping[str, Any]]) -> bytes:
    top = ET.Element(root)
    for entry in items:
        _append(top, item, entry)
    body: bytes = ET.tostring(top, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def _append(parent: ET.Element, tag: str, value: Any) -> None:
    node = ET.SubElement(parent, tag)
    if isinstance(value, Mapping):
        for key, child in value.items():
            if key == "attributes":
                holder = ET.SubElement(node, "attributes")
                for a in child:
                    _append(holder, "attribute", a)
            elif key == "values":
                holder = ET.SubElement(node, "values")
                for v in child:
                    _append(holder, "value", v)
            else:
                _append(node, key, child)
    elif value is None:
        return
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    else:
        # XML 1.0 cannot carry most control characters at all, escaped or not
        node.text = _NOT_XML.sub("\ufffd", str(value))
