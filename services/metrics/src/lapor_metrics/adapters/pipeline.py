"""Pipeline health read from the broker at scrape time: consumer lag per group and topic, and
how many records the dead-letter topic holds.

The dead-letter topic is counted in records, by reading it (a reader of its own, no group):
its end offsets count records on Kafka but batches on Tansu, where 47 dead letters read back
showed as 15."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.core import GaugeMetricFamily

from lapor_schemas import topics

log = logging.getLogger("lapor.metrics.pipeline")


class PipelineHealth:
    def __init__(self, options: Mapping[str, Any], timeout: float = 3.0) -> None:
        self.options = dict(options)  # kafka_client_options(): servers and security
        self.timeout = timeout
        self.admin: AIOKafkaAdminClient | None = None
        self.consumer: AIOKafkaConsumer | None = None
        self.lag: dict[tuple[str, str], int] = {}
        self.dead_letters: int | None = None
        self.admin_offsets = True
        self.readers: dict[str, AIOKafkaConsumer] = {}
        self.topics_of: dict[str, set[str]] = {}
        self.refreshes = 0
        self.sweep_every = 20
        self.dlq_reader: AIOKafkaConsumer | None = None
        self.dlq_counted: dict[int, int] = {}  # partition -> records read

    async def start(self) -> None:
        self.admin = AIOKafkaAdminClient(**self.options)
        self.consumer = AIOKafkaConsumer(**self.options, enable_auto_commit=False)
        await self.admin.start()
        await self.consumer.start()
        self.dlq_reader = AIOKafkaConsumer(**self.options, enable_auto_commit=False)
        await self.dlq_reader.start()

    async def stop(self) -> None:
        if self.dlq_reader is not None:
            await self.dlq_reader.stop()
        for reader in self.readers.values():
            await reader.stop()
        if self.consumer is not None:
            await self.consumer.stop()
        if self.admin is not None:
            await self.admin.close()

    async def refresh(self) -> None:
        try:
            await asyncio.wait_for(self._refresh(), self.timeout)
        except Exception as exc:  # the numbers are best effort; the scrape must still answer
            log.warning("pipeline health not read: %r", exc)

    async def _refresh(self) -> None:
        self.refreshes += 1
        assert self.admin is not None
        assert self.consumer is not None
        await self.consumer.topics()  # fresh metadata: topics and partitions
        groups = [
            g[0] if isinstance(g, tuple) else g.get("group_id", g)
            for g in await self.admin.list_consumer_groups()
        ]
        committed: dict[tuple[str, TopicPartition], int] = {}
        for group in sorted(str(g) for g in groups if str(g).startswith("lapor-")):
            for tp, offset in (await self._committed(group)).items():
                committed[(group, tp)] = offset
        dlq = [
            TopicPartition(topics.DLQ, p)
            for p in self.consumer.partitions_for_topic(topics.DLQ) or ()
        ]
        wanted = sorted({tp for _, tp in committed} | set(dlq))
        ends: dict[TopicPartition, int] = await self.consumer.end_offsets(wanted) if wanted else {}
        lag: dict[tuple[str, str], int] = {}
        for (group, tp), offset in committed.items():
            key = (group, tp.topic)
            lag[key] = lag.get(key, 0) + max(0, ends.get(tp, offset) - offset)
        self.lag = lag
        if dlq:
            self.dead_letters = await self._count_dead_letters(dlq)

    async def _count_dead_letters(self, partitions: list[TopicPartition]) -> int:
        """Records read from the dead-letter topic so far, reading on from where the last
        scrape stopped (a second at most per scrape; a long backlog is caught up over a few)."""
        reader = self.dlq_reader
        assert reader is not None
        if set(reader.assignment()) != set(partitions):
            reader.assign(partitions)
            await reader.seek_to_beginning(*partitions)
        loop = asyncio.get_running_loop()
        until = loop.time() + 1.0
        while loop.time() < until:
            batch = await reader.getmany(timeout_ms=100, max_records=5000)
            if not batch:
                break
            for tp, records in batch.items():
                self.dlq_counted[tp.partition] = self.dlq_counted.get(tp.partition, 0) + len(
                    records
                )
        return sum(self.dlq_counted.values())

    async def _committed(self, group: str) -> dict[TopicPartition, int]:
        """The group's committed offsets. Kafka answers the admin request; Tansu does not
        (aiokafka cannot parse its OffsetFetch answer to the admin client), so the fallback
        asks as a member would, through a consumer with the group's id that never joins."""
        assert self.admin is not None
        if self.admin_offsets:
            try:
                offsets = await self.admin.list_consumer_group_offsets(group)
                return {
                    tp: m.offset for tp, m in offsets.items() if m is not None and m.offset >= 0
                }
            except Exception:
                self.admin_offsets = False
                await self._restart_admin()
        reader = self.readers.get(group)
        if reader is None:
            reader = AIOKafkaConsumer(**self.options, group_id=group, enable_auto_commit=False)
            await reader.start()
            self.readers[group] = reader
        assert self.consumer is not None
        # One request per partition: ask only about the topics the group has committed on
        # (a group reads whole topics), and about every Lapor topic now and then (a group may
        # start on another topic).
        known = self.topics_of.get(group)
        wanted = topics.ALL if not known or self.refreshes % self.sweep_every == 0 else known
        tps = [
            TopicPartition(t, p)
            for t in sorted(set(wanted))
            for p in self.consumer.partitions_for_topic(t) or ()
        ]
        answers = await asyncio.gather(*(reader.committed(tp) for tp in tps))
        found = {
            tp: off for tp, off in zip(tps, answers, strict=True) if off is not None and off >= 0
        }
        self.topics_of[group] = {tp.topic for tp in found} | (known or set())
        return found

    async def _restart_admin(self) -> None:
        if self.admin is not None:
            await self.admin.close()
        self.admin = AIOKafkaAdminClient(**self.options)
        await self.admin.start()

    def collect(self) -> Iterator[Any]:
        lag = GaugeMetricFamily(
            "lapor_consumer_lag_records",
            "Records not yet processed, per consumer group and topic.",
            labels=["group", "topic"],
        )
        for (group, topic), value in sorted(self.lag.items()):
            lag.add_metric([group, topic], value)
        yield lag
        if self.dead_letters is not None:
            yield GaugeMetricFamily(
                "lapor_dead_letter_topic_records",
                f"Records on {topics.DLQ} (all services; see lapor_dead_letters_total for the "
                "per-service counts).",
                value=self.dead_letters,
            )
