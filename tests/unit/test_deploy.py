"""The production deployment uses the same services and setting names as the code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic_settings import BaseSettings

from lapor_intake.settings import IntakeSettings
from lapor_metrics.settings import MetricsSettings
from lapor_notify.settings import NotifySettings
from lapor_routing.settings import RoutingSettings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS: dict[str, type[BaseSettings]] = {
    "intake": IntakeSettings,
    "routing": RoutingSettings,
    "notify": NotifySettings,
    "metrics": MetricsSettings,
}


def env_names(cls: type[BaseSettings]) -> set[str]:
    prefix = str(cls.model_config.get("env_prefix", ""))
    names = set()
    for name, field in cls.model_fields.items():
        alias = field.validation_alias
        names.add(alias if isinstance(alias, str) else f"{prefix}{name}".upper())
    return names


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "deploy/production/compose.yaml").read_text())
    return data


def test_compose_runs_the_four_services_with_kraft_kafka_and_a_mongo_replica_set() -> None:
    services = compose()["services"]
    assert set(SETTINGS) | {"prometheus", "grafana"} <= set(services)
    brokers = [s for n, s in services.items() if n.startswith("kafka-")]
    assert len(brokers) == 3
    for broker in brokers:
        assert "controller" in broker["environment"]["KAFKA_PROCESS_ROLES"]
        assert "ZOOKEEPER" not in str(broker).upper()
    mongos = [s for n, s in services.items() if n.startswith("mongo-") and n != "mongo-init"]
    assert all("--replSet" in m["command"] for m in mongos)
    assert "replicaSet=lapor" in services["intake"]["environment"]["LAPOR_MONGO_URL"]


def test_every_lapor_setting_in_compose_is_one_the_service_reads() -> None:
    services = compose()["services"]
    for name, cls in SETTINGS.items():
        env = services[name]["environment"]
        lapor_keys = {k for k in env if k.startswith("LAPOR_")}
        unknown = lapor_keys - env_names(cls)
        assert not unknown, f"{name}: settings no service reads: {unknown}"
        assert services[name]["build"]["args"]["SERVICE"] == name
        port = int(env[f"LAPOR_{name.upper()}_PORT"])
        assert port == cls().port


def test_prometheus_scrapes_every_service_on_its_port() -> None:
    for config in ("prometheus.production.yml", "prometheus.local.yml"):
        data = yaml.safe_load((ROOT / "deploy/prometheus" / config).read_text())
        jobs = {j["job_name"]: j for j in data["scrape_configs"]}
        for name, cls in SETTINGS.items():
            assert f":{cls().port}" in str(jobs[f"lapor-{name}"]) or (
                str(cls().port) in str(jobs[f"lapor-{name}"])
            )
