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

    async def put(self, name: str, content_type: str, data: bytes) -> Attachment:
        digest = hashlib.sha256(data).hexdigest()
        file_id = await self.bucket.upload_from_stream(
            name, data, metadata={"content_type": content_type, "sha256": digest}
        )
        return Attachment(
            name=name,
            content_type=content_type,
            size=len(data),
            sha256=digest,
            ref=f"gridfs:{file_id}",
        )

    async def get(self, ref: str) -> tuple[bytes, str] | None:
        if not ref.startswith("gridfs:"):
            return None
        try:
            stream = await self.bucket.open_download_stream(ObjectId(ref.split(":", 1)[1]))
        except (NoFile, InvalidId):
            return None
        data = await stream.read()
        meta = stream.metadata or {}
        return data, str(meta.get("content_type", "application/octet-stream"))
