"""Attachment bytes in GridFS (``lapor_intake.fs.*``); complaints keep only metadata."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bson import ObjectId
from bson.errors import InvalidId
from gridfs import AsyncGridFSBucket, NoFile

from lapor_kit.runtime import Runtime
from lapor_schemas import Attachment


@dataclass(frozen=True, slots=True)
class Stored:
    attachment: Attachment


class AttachmentStore:
    def __init__(self, runtime: Runtime) -> None:
        self.bucket = AsyncGridFSBucket(runtime.db)

    async def put(
        self, name: str, content_type: str, data: bytes, thumbnail: bytes | None = None
    ) -> Attachment:
        """Stores a file (and the small copy a page shows of a photo, linked from its
        metadata)."""
        digest = hashlib.sha256(data).hexdigest()
        meta: dict[str, object] = {"content_type": content_type, "sha256": digest}
        if thumbnail is not None:
            meta["thumbnail"] = await self.bucket.upload_from_stream(
                f"{name}.kecil.jpg", thumbnail, metadata={"content_type": "image/jpeg"}
            )
        file_id = await self.bucket.upload_from_stream(name, data, metadata=meta)
        return Attachment(
            name=name,
            content_type=content_type,
            size=len(data),
            sha256=digest,
            ref=f"gridfs:{file_id}",
        )

    async def get(self, ref: str, *, small: bool = False) -> tuple[bytes, str] | None:
        """The bytes and type a reference names (``small``: the photo's small copy, or the
        photo itself when it has none, e.g. uploaded before copies were made)."""
        if not ref.startswith("gridfs:"):
            return None
        try:
            stream = await self.bucket.open_download_stream(ObjectId(ref.split(":", 1)[1]))
        except (NoFile, InvalidId):
            return None
        meta = stream.metadata or {}
        if small and isinstance(meta.get("thumbnail"), ObjectId):
            try:
                thumb = await self.bucket.open_download_stream(meta["thumbnail"])
            except NoFile:
                thumb = None
            if thumb is not None:
                return await thumb.read(), "image/jpeg"
        data = await stream.read()
        return data, str(meta.get("content_type", "application/octet-stream"))
