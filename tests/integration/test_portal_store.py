"""The portal's own store on the real database: an agency's reply templates stay its own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from lapor_devstack.settings import StackSettings
from lapor_portal.identity import ReplyTemplate
from lapor_portal.store import PortalStore

pytestmark = [pytest.mark.integration]


async def test_reply_templates_are_kept_per_agency_and_removed_only_by_it(
    infra: object, stack_settings: StackSettings
) -> None:
    store = PortalStore(stack_settings.mongo_url, f"t{uuid.uuid4().hex[:8]}_portal")
    try:
        await store.ensure_indexes()
        now = datetime(2026, 12, 5, 2, tzinfo=UTC)
        for title in ("Sudah ditambal", "Akan dijadwalkan"):
            await store.save_template(
                ReplyTemplate(uuid.uuid4().hex, "63.71.pupr", title, f"{title}.", "budi", now)
            )
        await store.save_template(ReplyTemplate("x1", "63.71.dlh", "Sampah", "Diangkut.", "s", now))
        pupr = await store.templates("63.71.pupr")
        assert [t.title for t in pupr] == ["Akan dijadwalkan", "Sudah ditambal"]
        assert pupr[0].at == now
        changed = ReplyTemplate(pupr[0].id, "63.71.pupr", "Dijadwalkan", "Minggu depan.", "b", now)
        await store.save_template(changed)
        assert [t.title for t in await store.templates("63.71.pupr")] == [
            "Dijadwalkan",
            "Sudah ditambal",
        ]
        assert not await store.remove_template("63.71.pupr", "x1")  # the DLH's
        assert await store.remove_template("63.71.dlh", "x1")
        assert await store.templates("63.71.dlh") == []
    finally:
        await store.client.drop_database(store.db.name)
        await store.close()
