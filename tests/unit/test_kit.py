from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from lapor_kit import outbox
from lapor_kit.kafka import decode_batch, decode_case_events, encode
from lapor_kit.logging import redact
from lapor_kit.outbox import OutMessage
from lapor_schemas import ExternalSubmission


def _rec(value: bytes) -> SimpleNamespace:
    return SimpleNamespace(value=value, topic="t", partition=0, offset=1, key=None, headers=[])


def test_decode_batch_splits_good_from_bad_and_keeps_order() -> None:
    good_raw = (
        b'{"channel":"baruga-sulsel","external_id":"1","title":"Sampah menumpuk",'
        b'"description":"Sampah tidak diangkut seminggu.","category":"persampahan",'
        b'"region_code":"73.71","anonymous":true}'
    )
    records = [_rec(b"not json"), _rec(good_raw), _rec(b'{"channel": 5}')]
    good, bad = decode_batch(records, ExternalSubmission.model_validate_json)
    assert [g.value.external_id for g in good] == ["1"]
    assert [b.record for b in bad] == [records[0], records[2]]
    assert bad[0].reason.startswith("invalid message")
    assert "channel" in bad[1].reason


def test_decode_case_events_skips_unknown_types() -> None:
    events, bad = decode_case_events([_rec(b'{"type":"case.later","id":"1"}')])
    assert events == []
    assert bad == []


def test_redaction_masks_personal_fields() -> None:
    out = redact(None, "info", {"event": "x", "email": "a@b.c", "phone": "0812", "tenant": "63"})
    assert out["email"] == "[redacted]"
    assert out["phone"] == "[redacted]"
    assert out["tenant"] == "63"


def test_encode_uses_pydantic_json_and_plain_json() -> None:
    assert encode({"a": 1}) == b'{"a":1}'


def test_a_batch_processes_each_unseen_event_once() -> None:
    from lapor_kit.idempotency import first_unseen

    a, b, a_again, c = (SimpleNamespace(id=i) for i in ("a", "b", "a", "c"))
    assert [e.id for e in first_unseen([a, b, a_again, c], {"a", "c"})] == ["a", "c"]


def test_outbox_keeps_a_transactions_messages_together_in_order_split_only_when_large() -> None:
    small = [OutMessage("t", f"k{i}", b"x" * 10) for i in range(2500)]
    chunks = outbox._chunks(small)
    assert [len(c) for c in chunks] == [1000, 1000, 500]
    assert [m for c in chunks for m in c] == small
    big = [OutMessage("t", "k", b"x" * (1024 * 1024)) for _ in range(9)]
    assert [len(c) for c in outbox._chunks(big)] == [3, 3, 3]  # 4 MB per document at most
    assert outbox._chunks([OutMessage("t", "k", b"x" * (5 * 1024 * 1024))]) != []


# -- poison records -------------------------------------------------------------------------


def test_decoding_is_bounded_in_size_and_depth_and_total() -> None:
    from lapor_kit.kafka import MAX_RECORD_BYTES, bounds_problem

    assert bounds_problem(b"[" * 40 + b"]" * 40) is not None
    # brackets inside strings are not nesting
    assert bounds_problem(b'{"t": "' + b"[" * 100 + b'"}') is None
    assert bounds_problem(b"x" * (MAX_RECORD_BYTES + 1)) is not None

    def explode(_: bytes) -> None:
        raise RecursionError("deep")

    records = [_rec(b"[" * 100_000 + b"]" * 100_000), _rec(b"{}")]
    good, bad = decode_batch(records, explode)
    assert good == []
    assert "too deeply nested" in bad[0].reason
    assert "RecursionError" in bad[1].reason


def test_a_dead_letter_always_fits_and_names_the_original() -> None:
    import hashlib

    from lapor_kit.kafka import DLQ_MAX_VALUE_BYTES, dead_letter_parts
    from lapor_schemas import topics

    huge = b"z" * (3 * 1024 * 1024)
    rec = SimpleNamespace(
        value=huge,
        topic="t",
        partition=1,
        offset=9,
        key=b"k" * 5000,
        headers=[(f"h{i}", b"v" * 5000) for i in range(100)],
    )
    value, key, headers = dead_letter_parts(rec, "r" * 5000, "intake")
    assert len(value) == DLQ_MAX_VALUE_BYTES
    assert key is not None
    assert len(key) <= 1024
    assert headers[topics.DLQ_ORIGINAL_SHA256] == hashlib.sha256(huge).hexdigest()
    assert headers[topics.DLQ_ORIGINAL_BYTES] == str(len(huge))
    assert sum(len(k) + len(v) for k, v in headers.items()) < 64 * 1024
    small = SimpleNamespace(value=b"{}", topic="t", partition=0, offset=1, key=None, headers=[])
    value, _, headers = dead_letter_parts(small, "bad", "intake")
    assert value == b"{}"
    assert topics.DLQ_TRUNCATED not in headers


class _Letters:
    def __init__(self) -> None:
        self.sent: list[tuple[object, str, str]] = []

    async def send(self, bad: list[object], *, reason_class: str = "invalid") -> None:
        self.sent.extend((b.record, b.reason, reason_class) for b in bad)  # type: ignore[attr-defined]


async def test_a_poison_record_is_isolated_and_the_rest_of_the_batch_goes_on() -> None:
    from lapor_kit.kafka import process_isolated

    handled: list[int] = []

    async def work(records: list[int]) -> None:
        if 13 in records:
            raise KeyError("no coordinator for 63.99")
        handled.extend(records)

    letters = _Letters()
    await process_isolated([11, 12, 13, 14], work, letters)  # type: ignore[arg-type]
    assert handled == [11, 12, 14]
    assert [(r, c) for r, _, c in letters.sent] == [(13, "unprocessable")]
    assert "no coordinator" in letters.sent[0][1]


async def test_an_infrastructure_error_redelivers_the_batch() -> None:
    import pytest
    from pymongo.errors import ServerSelectionTimeoutError

    from lapor_kit.kafka import process_isolated

    async def work(records: list[int]) -> None:
        raise ServerSelectionTimeoutError("store down")

    letters = _Letters()
    with pytest.raises(ServerSelectionTimeoutError):
        await process_isolated([1, 2], work, letters)  # type: ignore[arg-type]
    assert letters.sent == []


def test_a_signed_token_is_still_checked_for_what_its_role_needs() -> None:
    import jwt
    import pytest

    from lapor_kit.auth import DEV_SIGNING_KEY, AuthError, KeySet, SecretMinter, verify

    keys = KeySet.of(DEV_SIGNING_KEY)

    def token(**claims: object) -> str:
        body = {"sub": "u", "iss": "lapor", "iat": 1, "exp": 4_000_000_000, **claims}
        return jwt.encode(body, DEV_SIGNING_KEY.private, "EdDSA", headers={"kid": "lapor-dev"})

    for claims in (
        {"role": ["national_admin"], "tenant": "*"},
        {"role": "province_coordinator", "tenant": "*"},
        {"role": "agency_staff", "tenant": "63"},
        {"role": "regency_coordinator", "tenant": "63"},
        {"role": "agency_staff", "tenant": "63", "agency_id": "73.71.pupr"},
        {"role": "agency_staff", "tenant": "63", "agency_id": {"$ne": 1}},
        {"role": "national_admin", "tenant": ["*"]},
    ):
        with pytest.raises(AuthError):
            verify(keys, token(**claims))
    ok = verify(keys, token(role="agency_staff", tenant="63", agency_id="63.71.pupr"))
    assert ok.agency_id == "63.71.pupr"
    assert verify(keys, token(role="ombudsman", tenant="*")).tenant == "*"
    minter = SecretMinter(b"k")
    assert minter.verify("LPR-1", "é" * 22) is False
    assert minter.verify("LPR-1", minter.mint("LPR-1")) is True


def test_only_a_published_public_key_verifies_and_nothing_else_is_accepted() -> None:
    """A key nobody published, an HMAC token (even one keyed with the public key's bytes:
    the algorithm-confusion attack), an unsigned token and a token without a kid are all
    refused; the public key set itself can sign nothing."""
    import base64

    import jwt
    import pytest

    from lapor_kit.auth import DEV_SIGNING_KEY, AuthError, KeySet, SigningKey, issue, verify

    keys = KeySet.of(DEV_SIGNING_KEY)
    claims = {"sub": "u", "iss": "lapor", "iat": 1, "exp": 4_000_000_000}
    claims |= {"role": "national_admin", "tenant": "*"}
    stranger = SigningKey.generate()
    x = DEV_SIGNING_KEY.public_jwk()["x"]
    forged = (
        issue(stranger, subject="u", role="national_admin", tenant="*"),
        issue(
            SigningKey(kid="lapor-dev", private=stranger.private),
            subject="u",
            role="national_admin",
            tenant="*",
        ),
        jwt.encode(
            claims, base64.urlsafe_b64decode(x + "="), "HS256", headers={"kid": "lapor-dev"}
        ),
        jwt.encode(claims, None, "none", headers={"kid": "lapor-dev"}),
        jwt.encode(claims, DEV_SIGNING_KEY.private, "EdDSA"),
        "not.a.token",
    )
    for token in forged:
        with pytest.raises(AuthError):
            verify(keys, token)
    assert verify(keys, issue(DEV_SIGNING_KEY, subject="u", role="ombudsman", tenant="*")).role
    assert not any(hasattr(k, "sign") for k in keys.keys.values())  # public halves only
    # a JWKS document round-trips, and junk entries in it are skipped
    doc = {
        "keys": [
            DEV_SIGNING_KEY.public_jwk(),
            {"kty": "RSA"},
            {"kty": "OKP", "crv": "Ed25519", "kid": "bad", "x": "!!"},
            "junk",
        ]
    }
    assert set(KeySet.from_jwks(doc).keys) == {"lapor-dev"}
    assert KeySet.from_jwks({"keys": "nope"}).keys == {}


async def test_a_verifier_follows_key_rotation_and_survives_the_owner_being_away() -> None:
    import httpx
    import pytest

    from lapor_kit.auth import AuthError, SigningKey, TokenVerifier, issue

    old, new = SigningKey.generate(), SigningKey.generate()
    published = {"keys": [old.public_jwk()]}
    calls = [0]
    down = [False]

    def answer(request: httpx.Request) -> httpx.Response:
        calls[0] += 1
        if down[0]:
            return httpx.Response(503)
        return httpx.Response(200, json=published)

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    verifier = TokenVerifier("http://portal/jwks", min_refresh=0.0, client=client)
    assert (await verifier.verify(issue(old, subject="a", role="ombudsman", tenant="*"))).subject
    # rotation: the new key signs, the old one still verifies until its tokens expire
    published = {"keys": [new.public_jwk(), old.public_jwk()]}
    assert (await verifier.verify(issue(new, subject="b", role="ombudsman", tenant="*"))).subject
    assert (await verifier.verify(issue(old, subject="c", role="ombudsman", tenant="*"))).subject
    # the owner is away: known keys keep verifying, an unknown one is refused
    down[0] = True
    assert (await verifier.verify(issue(new, subject="d", role="ombudsman", tenant="*"))).subject
    with pytest.raises(AuthError, match="unknown key"):
        await verifier.verify(
            issue(SigningKey.generate(), subject="e", role="ombudsman", tenant="*")
        )
    # unknown kids do not make it refetch more often than min_refresh
    throttled = TokenVerifier("http://portal/jwks", min_refresh=3600, client=client)
    before = calls[0]
    for _ in range(5):
        with pytest.raises(AuthError):
            await throttled.verify(
                issue(SigningKey.generate(), subject="f", role="ombudsman", tenant="*")
            )
    assert calls[0] - before == 1
    await client.aclose()


def test_a_rate_limit_refills_evenly_and_names_the_wait() -> None:
    from lapor_kit.limits import Rate, RateLimiter, parse_rates

    now = [0.0]
    limiter = RateLimiter({"submit": Rate(2, 60)}, clock=lambda: now[0])
    assert limiter.check("submit", "a") is None
    assert limiter.check("submit", "a") is None
    wait = limiter.check("submit", "a")
    assert wait is not None
    assert 29 < wait <= 30
    assert limiter.check("submit", "b") is None  # per client
    assert limiter.check("other", "a") is None  # a door without a rate
    now[0] = 30.0
    assert limiter.check("submit", "a") is None
    assert parse_rates("submit=10/60, sms=0/1") == {"submit": Rate(10, 60), "sms": Rate(0, 1)}
    assert RateLimiter(parse_rates("sms=0/1")).check("sms", "x") is None  # 0: off


async def test_optimistic_handling_falls_back_to_asking_only_after_a_duplicate_key() -> None:
    from pymongo.errors import BulkWriteError, OperationFailure

    from lapor_kit.idempotency import AlreadyStoredError, is_duplicate_key, optimistically

    calls: list[bool] = []

    async def handle(assume_new: bool) -> str:
        calls.append(assume_new)
        if assume_new and len(calls) == 1:
            raise AlreadyStoredError("processed_events")
        return "done"

    assert await optimistically(handle) == "done"
    assert calls == [True, False]
    calls.clear()
    assert await optimistically(handle) == "done"  # (the second call of this handle succeeds)

    async def broken(assume_new: bool) -> None:
        raise OperationFailure("store away", code=91)

    with pytest.raises(OperationFailure):
        await optimistically(broken)
    assert is_duplicate_key(OperationFailure("E11000", code=11000))
    assert is_duplicate_key(BulkWriteError({"writeErrors": [{"code": 11000}]}))
    assert not is_duplicate_key(BulkWriteError({"writeErrors": [{"code": 121}]}))


def test_published_outbox_documents_must_be_deleted_before_they_could_be_swept() -> None:
    from pydantic import ValidationError

    from lapor_kit.settings import KitSettings

    assert KitSettings(outbox_delete_delay_seconds=3, outbox_sweep_grace_seconds=10)
    with pytest.raises(ValidationError, match="DELETE_DELAY"):
        KitSettings(outbox_delete_delay_seconds=10, outbox_sweep_grace_seconds=10)


def test_a_setting_can_come_from_a_file_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lapor_intake.settings import IntakeSettings
    from lapor_portal.settings import PortalSettings

    key = tmp_path / "key"
    key.write_text("k" * 40 + "\n")
    monkeypatch.setenv("LAPOR_STATUS_SECRET_KEY_FILE", str(key))
    monkeypatch.setenv("LAPOR_MONGO_URL_FILE", str(key))
    assert IntakeSettings().status_secret_key == "k" * 40  # the trailing newline dropped
    assert PortalSettings().mongo_url == "k" * 40
    monkeypatch.setenv("LAPOR_STATUS_SECRET_KEY", "e" * 40)
    assert IntakeSettings().status_secret_key == "e" * 40
    monkeypatch.setenv("LAPOR_TOTP_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="LAPOR_TOTP_KEY_FILE: cannot read"):
        PortalSettings()
    monkeypatch.delenv("LAPOR_TOTP_KEY_FILE")
    monkeypatch.setenv("LAPOR_INTAKE_PORT_FILE", str(key))  # an aliased setting too
    with pytest.raises(ValueError, match="LAPOR_INTAKE_PORT"):
        IntakeSettings()


def test_kafka_clients_all_get_the_same_security() -> None:
    from pydantic import ValidationError

    from lapor_kit.kafka import kafka_client_options, kafka_security
    from lapor_kit.settings import KitSettings

    plain = KitSettings(kafka_bootstrap="k:9092")
    assert kafka_security(plain) is None
    assert kafka_client_options(plain) == {"bootstrap_servers": "k:9092"}
    scram = KitSettings(
        kafka_bootstrap="k:9093",
        kafka_security_protocol="SASL_SSL",
        kafka_username="lapor-intake",
        kafka_password="p" * 32,
    )
    options = kafka_client_options(scram)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "lapor-intake",
        "p" * 32,
    )
    assert options["ssl_context"] is not None
    assert "p" * 32 not in repr(scram)  # the password is not in the settings' repr (logs)
    with pytest.raises(ValidationError, match="LAPOR_KAFKA_USERNAME"):
        KitSettings(kafka_security_protocol="SASL_SSL")


async def test_declared_topics_are_not_created_and_liveness_asks_nothing() -> None:
    import httpx
    from fastapi import FastAPI
    from prometheus_client import CollectorRegistry

    from lapor_kit.kafka import ensure_topics
    from lapor_kit.settings import KitSettings
    from lapor_kit.web import install_observability

    # no broker there: creating topics would fail after its one attempt
    off = KitSettings(kafka_bootstrap="127.0.0.1:9", kafka_create_topics=False)
    await ensure_topics(off, attempts=1)
    with pytest.raises(Exception):  # noqa: B017,PT011 (aiokafka's connection error)
        await ensure_topics(KitSettings(kafka_bootstrap="127.0.0.1:9"), attempts=1)

    async def down() -> bool:
        return False

    app = FastAPI()
    install_observability(app, service="t", registry=CollectorRegistry(), checks={"store": down})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/health")).status_code == 503
        live = await client.get("/health/live")
        assert live.json() == {"service": "t", "status": "alive"}


async def test_every_answer_is_counted_by_route_template_and_status() -> None:
    import httpx
    from fastapi import FastAPI
    from prometheus_client import CollectorRegistry, generate_latest

    from lapor_kit.web import HttpMetrics

    registry = CollectorRegistry()
    app = FastAPI()

    @app.get("/api/v1/cases/{tracking_id}")
    async def case(tracking_id: str) -> dict[str, str]:
        if tracking_id == "LPR-DOWN000000":
            from fastapi.responses import JSONResponse

            return JSONResponse({"detail": "down"}, status_code=503)  # type: ignore[return-value]
        return {"id": tracking_id}

    app.add_middleware(HttpMetrics, service="lapor-test", registry=registry)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for tid in ("LPR-AAAAAAAAA1", "LPR-AAAAAAAAA2", "LPR-DOWN000000"):
            await client.get(f"/api/v1/cases/{tid}")
        await client.get("/nowhere/secret-value")
    text = generate_latest(registry).decode()
    ok = (
        'lapor_http_requests_total{method="GET",route="/api/v1/cases/{tracking_id}",'
        'service="lapor-test",status="200"} 2.0'
    )
    assert ok in text
    assert 'route="/api/v1/cases/{tracking_id}",service="lapor-test",status="503"} 1.0' in text
    assert 'route="other",service="lapor-test",status="404"} 1.0' in text
    assert 'lapor_http_unavailable_total{service="lapor-test"} 1.0' in text
    assert "LPR-AAAAAAAAA1" not in text  # ids never become labels
    assert "secret-value" not in text
    assert (
        'lapor_http_request_duration_seconds_count{method="GET",'
        'route="/api/v1/cases/{tracking_id}",service="lapor-test"} 3.0'
    ) in text


def test_store_commands_are_timed_as_a_histogram() -> None:
    from types import SimpleNamespace

    from prometheus_client import CollectorRegistry, generate_latest

    from lapor_kit.storestats import StoreCommandStats

    registry = CollectorRegistry()
    stats = StoreCommandStats(registry, "lapor-test")
    for request_id, micros in ((1, 800), (2, 30_000), (3, 3_000_000)):
        stats.started(
            SimpleNamespace(  # type: ignore[arg-type]
                command_name="find",
                command={"find": "cases"},
                request_id=request_id,
                operation_id=None,
            )
        )
        stats.succeeded(
            SimpleNamespace(  # type: ignore[arg-type]
                request_id=request_id, operation_id=None, duration_micros=micros
            )
        )
    text = generate_latest(registry).decode()
    bucket = (
        'lapor_store_command_duration_seconds_bucket{command="find",le="%s",service="lapor-test"}'
    )
    assert f"{bucket % '0.001'} 1.0" in text
    assert f"{bucket % '0.05'} 2.0" in text
    assert f"{bucket % '2.5'} 2.0" in text
    assert f"{bucket % '5.0'} 3.0" in text


def test_dead_letter_series_start_at_zero_for_every_topic_and_reason() -> None:
    """Found: a burst of refused records appeared as a new series already at 12, and
    increase() never saw it (no alert)."""
    from prometheus_client import CollectorRegistry, generate_latest

    from lapor_kit.kafka import DeadLetters
    from lapor_schemas import topics

    registry = CollectorRegistry()
    DeadLetters(None, service="intake", registry=registry)  # type: ignore[arg-type]
    text = generate_latest(registry).decode()
    line = (
        'lapor_dead_letters_total{reason="unauthenticated",service="intake",source_topic="%s"} 0.0'
    )
    assert line % topics.INTAKE in text


async def test_a_service_reports_its_own_consumers_lag_from_committed_offsets() -> None:
    import asyncio

    from aiokafka import TopicPartition
    from prometheus_client import CollectorRegistry, generate_latest

    from lapor_kit.lag import OwnLag

    class Consumer:
        _group_id = "lapor-routing"

        def assignment(self) -> set[TopicPartition]:
            return {TopicPartition("lapor.cases.v1", 0), TopicPartition("lapor.cases.v1", 1)}

        async def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
            return {tp: 10 for tp in tps}

        async def committed(self, tp: TopicPartition) -> int | None:
            return 7 if tp.partition == 0 else None  # nothing committed yet on partition 1

    class Subscriber:
        consumer = Consumer()

    own = OwnLag(lambda: [Subscriber(), object()], "routing")
    registry = CollectorRegistry()
    registry.register(own)
    await own.refresh()
    text = generate_latest(registry).decode()
    assert 'lapor_consumer_lag_records{group="lapor-routing",topic="lapor.cases.v1"} 13.0' in text

    # a slow broker: the scrape does not wait for it (it would outlast Prometheus's scrape
    # timeout and read as the service down); the last values answer, the read lands later
    release = asyncio.Event()
    calls = []

    class Slow(Consumer):
        async def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
            calls.append(1)
            await release.wait()
            return {tp: 20 for tp in tps}

    class SlowSubscriber:
        consumer = Slow()

    slow = OwnLag(lambda: [SlowSubscriber()], "routing", wait=0.05)
    slow.lag = {("lapor-routing", "lapor.cases.v1"): 13}
    await asyncio.wait_for(slow.refresh(), 1.0)  # answers though the broker has not
    await asyncio.wait_for(slow.refresh(), 1.0)  # ...and starts no second read meanwhile
    assert slow.lag == {("lapor-routing", "lapor.cases.v1"): 13}
    assert len(calls) == 1
    release.set()
    await asyncio.sleep(0.05)
    assert slow.lag == {("lapor-routing", "lapor.cases.v1"): 33}  # 20-7 and 20-0


async def test_a_shutdown_step_that_hangs_is_left_behind_by_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A process asked to stop stops within its grace period: a step that never finishes
    (even one that swallows its cancellation) is left behind and named in the log."""
    import asyncio
    import time

    from lapor_kit.runtime import bounded

    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(0.02)
            except asyncio.CancelledError:
                continue  # a step that will not be cancelled either

    async def quick() -> None:
        await asyncio.sleep(0)

    started = time.monotonic()
    with caplog.at_level("ERROR", logger="lapor.runtime"):
        assert await bounded("consumers", stubborn(), 0.2) is False
    assert time.monotonic() - started < 2.0
    assert "consumers took over" in caplog.text
    assert await bounded("outbox relay", quick(), 0.2) is True
    release.set()  # (lets the abandoned step end, so this test's loop can close)
    await asyncio.sleep(0.1)
