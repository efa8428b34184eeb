"""Store round trips as Prometheus counters: what each service asks of MongoDB.

``lapor_store_commands_total{service,command,collection}`` counts commands and
``lapor_store_documents_total`` the documents they carried (inserted, or update/delete
statements), and ``lapor_store_command_seconds_total`` the time they took as the client saw
it, so an operator (and ``make bench``) can see the store work per complaint and where the
store's time goes.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter
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
        self._children: dict[tuple[str, str], tuple[Any, Any, Any]] = {}
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
            )
            self._children[key] = children
        children[0].inc()
        carried = _CARRIERS.get(name)
        if carried is not None:
            children[1].inc(len(command.get(carried) or ()))
        self._pending[(event.request_id, event.operation_id)] = children[2]

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._done(event.request_id, event.operation_id, event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._done(event.request_id, event.operation_id, event.duration_micros)

    def _done(self, request_id: int, operation_id: int | None, micros: int) -> None:
        seconds = self._pending.pop((request_id, operation_id), None)
        if seconds is not None:
            seconds.inc(micros / 1e6)
