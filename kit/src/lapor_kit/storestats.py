"""Store round trips as Prometheus counters: what each service asks of MongoDB.

``lapor_store_commands_total{service,command,collection}`` counts commands and
``lapor_store_documents_total`` the documents they carried (inserted, or update/delete
statements), and ``lapor_store_command_seconds_total`` the time they took as the client saw
it, so an operator (and ``make bench``) can see the store work per complaint and where the
store's time goes.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from pymongo import monitoring

_CARRIERS = {"insert": "documents", "update": "updates", "delete": "deletes"}


class StoreCommandStats(monitoring.CommandListener):
    def __init__(self, registry: CollectorRegistry, service: str) -> None:
        self.service = service
        self.commands = Counter(
            "lapor_store_commands_total",
            "Commands sent to the store, by command and collection.",
            ["service", "command", "collection"],
            registry=registry,
        )
        self.documents = Counter(
            "lapor_store_documents_total",
            "Documents (or update/delete statements) the store's write commands carried.",
            ["service", "command", "collection"],
            registry=registry,
        )
        self.seconds = Counter(
            "lapor_store_command_seconds",
            "Time the store's commands took (sent to answered), by command and collection.",
            ["service", "command", "collection"],
            registry=registry,
        )
        self.latency = Histogram(
            "lapor_store_command_duration_seconds",
            "How long the store took to answer a command (a slow or frozen store shows here "
            "before anything times out), by command.",
            ["service", "command"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=registry,
        )
        self._children: dict[tuple[str, str], tuple[Any, Any, Any, Any]] = {}
        self._pending: dict[tuple[int, int | None], Any] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        if name in ("hello", "isMaster", "ping", "endSessions", "saslStart", "saslContinue"):
            return
        command = event.command
        target = command.get(name)
        collection = target if isinstance(target, str) else "-"
        key = (name, collection)
        children = self._children.get(key)
        if children is None:
            children = (
                self.commands.labels(self.service, name, collection),
                self.documents.labels(self.service, name, collection),
                self.seconds.labels(self.service, name, collection),
                self.latency.labels(self.service, name),
            )
            self._children[key] = children
        children[0].inc()
        carried = _CARRIERS.get(name)
        if carried is not None:
            children[1].inc(len(command.get(carried) or ()))
        self._pending[(event.request_id, event.operation_id)] = children

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._done(event.request_id, event.operation_id, event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._done(event.request_id, event.operation_id, event.duration_micros)

    def _done(self, request_id: int, operation_id: int | None, micros: int) -> None:
        children = self._pending.pop((request_id, operation_id), None)
        if children is not None:
            children[2].inc(micros / 1e6)
            children[3].observe(micros / 1e6)
