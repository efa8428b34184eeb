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


def _dashboard_exprs() -> list[str]:
    import json
    from pathlib import Path

    exprs = []
    for path in sorted(Path("deploy/grafana/dashboards").glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            exprs.extend(t["expr"] for t in panel["targets"])
    return exprs


def test_dashboards_and_rules_name_only_metrics_that_exist() -> None:
    import re
    from pathlib import Path

    from lapor_metrics.domain.counters import COUNTERS, HISTOGRAMS

    known = {f"{m}_total" for m in COUNTERS}
    known |= {f"{h}_{s}" for h in HISTOGRAMS for s in ("bucket", "sum", "count")}
    known |= {
        "lapor_open_cases",
        "lapor_overdue_cases",
        "lapor_region_complaints_365d",
        "lapor_region_low_volume",
        "lapor_region_info",
        "lapor_consumer_lag_records",
        "lapor_dead_letter_topic_records",
        "lapor_dead_letters_total",
        "lapor_processing_errors_total",
        "lapor_outbox_published_total",
        "lapor_outbox_pending",
        "lapor_store_commands_total",
        "lapor_store_documents_total",
        "lapor_store_command_seconds_total",
        "lapor_routing_parked_total",
        "lapor_category_complaints_7d",
        "lapor_category_complaints_weekly_avg_8w",
        "lapor_signin_attempts_total",  # the portal's (tests/security scrape it)
        "lapor_notify_deliveries_total",
        "lapor_triage_suggestions_total",
        "lapor_http_requests_total",
        "lapor_http_unavailable_total",
        "lapor_http_request_duration_seconds_bucket",
        "lapor_store_command_duration_seconds_bucket",
    }
    rules = Path("deploy/prometheus/rules/lapor.rules.yml").read_text()
    recorded = set(re.findall(r"record: (lapor:[\w:]+)", rules))
    texts = [*_dashboard_exprs(), rules]
    used = {n for t in texts for n in re.findall(r"\blapor[_:][\w:]+", t)}
    assert used - known - recorded == set()
    assert len(_dashboard_exprs()) > 15


def test_dashboard_queries_are_valid_promql(tmp_path: object) -> None:
    import subprocess
    from pathlib import Path

    lines = ["groups:", "  - name: dashboards", "    rules:"]
    for i, expr in enumerate(_dashboard_exprs()):
        expr = expr.replace("$province", ".*").replace("\n", " ")
        lines += [
            f"      - record: dashboard:q{i}",
            f"        expr: '{expr.replace(chr(39), chr(39) * 2)}'",
        ]
    rules = Path(str(tmp_path)) / "dashboards.rules.yml"
    rules.write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        ["promtool", "check", "rules", str(rules)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_committed_dashboards_are_what_the_generator_writes() -> None:
    import importlib.util
    import json
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "make_dashboards", "deploy/grafana/tools/make_dashboards.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for board in (module.EVALUATION, module.OPS):
        path = Path("deploy/grafana/dashboards") / f"{board['uid']}.json"
        assert json.loads(path.read_text()) == board


def test_production_mode_refuses_every_development_secret_naming_the_setting(
    tmp_path: Any,
) -> None:
    import json

    import pytest

    from lapor_intake.settings import DEV_CREDENTIALS, IntakeSettings
    from lapor_kit.runtime import Runtime
    from lapor_kit.settings import UnsafeSettingsError

    with pytest.raises(UnsafeSettingsError) as refused:
        IntakeSettings(env="production").refuse_unsafe_production()
    text = str(refused.value)
    for name in ("LAPOR_STATUS_SECRET_KEY", "LAPOR_UPLOAD_KEY", "LAPOR_INTAKE_CREDENTIALS_FILE"):
        assert name in text
    with pytest.raises(UnsafeSettingsError, match="LAPOR_AUTH_TRUST_DEV_KEY"):
        IntakeSettings(env="production", auth_trust_dev_key=True).refuse_unsafe_production()
    assert not IntakeSettings(env="production").trusts_dev_key
    assert IntakeSettings().trusts_dev_key
    with pytest.raises(UnsafeSettingsError):  # services refuse at construction
        Runtime(IntakeSettings(env="production"), "intake")
    # a production file that copies one development secret is refused too
    copied = tmp_path / "creds.json"
    dev = json.loads(DEV_CREDENTIALS.read_text())
    copied.write_text(json.dumps({"channels": dev["channels"][:1]}))
    strong = {"status_secret_key": "b" * 40, "upload_key": "u" * 40}
    with pytest.raises(UnsafeSettingsError, match="contains a development secret"):
        IntakeSettings(
            env="production", credentials_file=copied, **strong
        ).refuse_unsafe_production()
    own = tmp_path / "own.json"
    own.write_text(json.dumps({"channels": [{**dev["channels"][0], "secret": "c" * 40}]}))
    IntakeSettings(env="production", credentials_file=own, **strong).refuse_unsafe_production()
    # development mode still starts on the development values
    IntakeSettings().refuse_unsafe_production()
    # each service is asked only for the secrets it uses (routing and metrics hand out no
    # status secrets: a deployment that gives them none must still start)
    from lapor_metrics.settings import MetricsSettings
    from lapor_notify.settings import NotifySettings
    from lapor_routing.settings import RoutingSettings

    with pytest.raises(UnsafeSettingsError) as routing:
        RoutingSettings(env="production").refuse_unsafe_production()
    assert "LAPOR_UPLOAD_KEY" in str(routing.value)
    assert "LAPOR_STATUS_SECRET_KEY" not in str(routing.value)
    RoutingSettings(env="production", upload_key="u" * 40).refuse_unsafe_production()
    MetricsSettings(env="production").refuse_unsafe_production()
    with pytest.raises(UnsafeSettingsError, match="LAPOR_STATUS_SECRET_KEY") as notify:
        NotifySettings(env="production").refuse_unsafe_production()
    assert "LAPOR_UPLOAD_KEY" not in str(notify.value)


def test_the_production_deployment_is_in_production_mode_and_names_every_secret() -> None:
    data = compose()
    services = data["services"]
    for name in SETTINGS:
        env = services[name]["environment"]
        assert env["LAPOR_ENV"] == "production"
        for secret in ("LAPOR_STATUS_SECRET_KEY", "LAPOR_UPLOAD_KEY"):
            assert str(env[secret]).startswith("${" + secret + ":?"), (name, secret)
        assert env["LAPOR_AUTH_JWKS_URL"] == "http://portal:8000/.well-known/jwks.json"
        assert "LAPOR_AUTH_SECRET" not in env  # no shared signing secret any more
    intake = services["intake"]
    assert intake["environment"]["LAPOR_INTAKE_CREDENTIALS_FILE"].startswith("/run/secrets/")
    assert "intake-credentials" in intake["secrets"]
    assert ":?" in data["secrets"]["intake-credentials"]["file"]


def test_the_production_portal_is_in_production_mode_with_its_own_secret() -> None:
    from lapor_portal.settings import PortalSettings

    env = compose()["services"]["portal"]["environment"]
    assert env["LAPOR_ENV"] == "production"
    assert env["LAPOR_SECURE_COOKIES"] == "true"
    assert str(env["LAPOR_PORTAL_SECRET"]).startswith("${LAPOR_PORTAL_SECRET:?")
    assert str(env["LAPOR_TOTP_KEY"]).startswith("${LAPOR_TOTP_KEY:?")
    assert {k for k in env if k.startswith("LAPOR_")} <= env_names(PortalSettings)
    assert int(env["LAPOR_PORTAL_PORT"]) == PortalSettings().port
    # the identity owner: its own database, the signing key as a secret file, no dev accounts
    portal = compose()["services"]["portal"]
    assert env["LAPOR_SIGNING_KEYS"].startswith("/run/secrets/")
    assert "portal-signing-key" in portal["secrets"]
    assert ":?" in compose()["secrets"]["portal-signing-key"]["file"]
    assert "replicaSet=" in env["LAPOR_MONGO_URL"]
    assert "LAPOR_SEED_DEV_ACCOUNTS" not in env
    # no service but the portal is given anything to sign with
    for name, service in compose()["services"].items():
        if name != "portal":
            assert "LAPOR_SIGNING_KEYS" not in (service.get("environment") or {}), name


def test_free_ports_for_the_test_stacks_avoid_the_ephemeral_range_and_repeats() -> None:
    """A port from bind(0) is ephemeral: an outgoing connection can take it before the
    service binds it (a chaos-stack service once died on "address already in use")."""
    from lapor_devstack.procs import _ephemeral_range, free_port

    low, high = _ephemeral_range()
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    assert all(not low <= p <= high for p in ports)


def test_every_alert_waits_names_its_cause_and_links_its_runbook() -> None:
    import re
    from pathlib import Path

    import yaml

    rules = yaml.safe_load(Path("deploy/prometheus/rules/lapor.rules.yml").read_text())
    runbooks = Path("docs/runbooks.md").read_text()
    anchors = {h.strip().lower() for h in re.findall(r"^## (\w+)$", runbooks, re.M)}
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    assert len(alerts) >= 15
    for alert in alerts:
        name = alert["alert"]
        assert alert.get("for"), f"{name} fires on one evaluation"
        assert alert["labels"]["severity"] in ("critical", "warning", "info"), name
        notes = alert["annotations"]
        assert notes.get("summary"), name
        assert notes.get("description"), name
        assert notes["runbook_url"] == f"docs/runbooks.md#{name.lower()}", name
        assert name.lower() in anchors, f"docs/runbooks.md has no section for {name}"
    assert anchors == {a["alert"].lower() for a in alerts}  # no runbook for a gone alert
