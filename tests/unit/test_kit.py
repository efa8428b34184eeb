from __future__ import annotations

from types import SimpleNamespace

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
