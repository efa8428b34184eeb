"""The kit's guards on their own (no I/O): the client's address through trusted proxies
only, CSV cells no spreadsheet evaluates, upload handles that cannot be forged, moved or kept
past their time, and the headers every service answer carries."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from fastapi import FastAPI

from lapor_kit.limits import client_address, parse_networks
from lapor_kit.spreadsheet import csv_text, safe_cell
from lapor_kit.uploads import UploadHandles, staff_binding, web_binding
from lapor_kit.web import ResponseHeaders, SecretsNotInUrls

PROXIES = parse_networks("10.0.0.0/8, 192.0.2.1")


def test_the_client_address_comes_through_trusted_hops_only() -> None:
    # no proxy configured: the header is never read
    assert client_address("203.0.113.5", "198.51.100.1", ()) == "203.0.113.5"
    # a client that is not a proxy cannot claim an address
    assert client_address("203.0.113.5", "198.51.100.1", PROXIES) == "203.0.113.5"
    # through the ingress: the address it saw
    assert client_address("10.1.1.1", "198.51.100.1", PROXIES) == "198.51.100.1"
    # what the client wrote itself sits left of what the proxy appended: never reached
    assert client_address("10.1.1.1", "6.6.6.6, 198.51.100.1", PROXIES) == "198.51.100.1"
    # two trusted hops (a load balancer, then the ingress)
    assert client_address("10.1.1.1", "198.51.100.1, 192.0.2.1", PROXIES) == "198.51.100.1"
    # an IPv4-mapped IPv6 peer is the IPv4 proxy it is
    assert client_address("::ffff:10.1.1.1", "198.51.100.1", PROXIES) == "198.51.100.1"
    # garbage from a proxy ends the walk at the last trusted hop
    assert client_address("10.1.1.1", "bukan-alamat", PROXIES) == "10.1.1.1"
    assert client_address(None, "198.51.100.1", PROXIES) == "unknown"
    with pytest.raises(ValueError, match="not an address"):
        parse_networks("10.0.0.0/8, ingress")


def test_no_csv_cell_starts_a_formula() -> None:
    hostile = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx"]
    for text in hostile:
        assert str(safe_cell(text)).startswith("'")
    assert safe_cell("Kota Banjarmasin") == "Kota Banjarmasin"
    assert safe_cell(-3) == -3  # numbers stay numbers
    assert safe_cell(None) == ""
    rows = list(csv.reader(io.StringIO(csv_text(["who"], [[h] for h in hostile]), newline="")))
    assert all(not row[0].startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows)


def test_an_upload_handle_is_bound_signed_and_short_lived() -> None:
    now = [1_000_000.0]
    handles = UploadHandles(b"k" * 32, ttl_seconds=60, clock=lambda: now[0])
    mine = web_binding("formulir-saya-0001")
    handle = handles.issue(
        object_id="a" * 24,
        sha256="b" * 64,
        size=9,
        content_type="image/png",
        name="x.png",
        binding=mine,
    )
    ticket = handles.open(handle, mine)
    assert ticket is not None
    assert ticket.attachment().ref == "gridfs:" + "a" * 24
    assert handles.open(handle, web_binding("formulir-orang-lain")) is None
    assert handles.open(handle, staff_binding("pupr-1")) is None
    assert UploadHandles(b"z" * 32, clock=lambda: now[0]).open(handle, mine) is None
    payload, mac = handle.split(".")
    assert handles.open(f"{payload}x.{mac}", mine) is None
    assert handles.open(payload, mine) is None
    assert handles.open("", mine) is None
    now[0] += 61
    assert handles.open(handle, mine) is None  # expired
    # the key is what makes a handle: a key can't be short
    with pytest.raises(ValueError, match="16 bytes"):
        UploadHandles(b"pendek")


async def test_every_service_answer_is_uncached_and_secrets_stay_out_of_urls() -> None:
    app = FastAPI()

    @app.get("/x")
    async def x() -> dict[str, str]:
        return {"secret": "rahasia"}

    app.add_middleware(SecretsNotInUrls)
    app.add_middleware(ResponseHeaders, hsts=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as c:
        answer = await c.get("/x")
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["strict-transport-security"].startswith("max-age=31536000")
        assert answer.headers["x-content-type-options"] == "nosniff"
        for query in ({"secret": "abc"}, {"X-Lapor-Secret": "abc"}, {"a": "1", "SECRET": ""}):
            refused = await c.get("/x", params=query)
            assert refused.status_code == 400
            assert "X-Lapor-Secret" in refused.json()["detail"]


def test_the_reports_csv_evaluates_nothing() -> None:
    from lapor_metrics.api import _table

    meta = {"report": "ranking", "province": "63", "from": "2026-01-01", "to": "2026-12-31"}
    answer = _table([{"region_name": "=HYPERLINK(1)", "complaints": -1}], "csv", meta)
    text = bytes(answer.body).decode()
    assert "'=HYPERLINK(1)" in text
    assert text.rstrip().endswith(",-1")  # a number stays a number
