"""The Kubernetes manifests (deploy/k8s), checked offline: each overlay renders with
``kubectl kustomize``; built-in resources validate against Kubernetes' schemas
(kubernetes-validate), custom resources against the schemas kept in deploy/k8s/schemas (or
are listed as unchecked); checkov finds nothing it does not name a reason for; the topics,
users, ACLs, rules and dashboards are what their one source says; the services read every
setting the manifests give them and get every secret from a file."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lapor_intake.settings import IntakeSettings
from lapor_metrics.settings import MetricsSettings
from lapor_notify.settings import NotifySettings
from lapor_portal.settings import PortalSettings
from lapor_routing.settings import RoutingSettings
from lapor_schemas import topics
from tests.unit.test_deploy import env_names as settings_env_names

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("staging", "production")
KUBERNETES_VERSION = "1.32.0"
SETTINGS = {
    "intake": IntakeSettings,
    "routing": RoutingSettings,
    "notify": NotifySettings,
    "metrics": MetricsSettings,
    "portal": PortalSettings,
}
SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "TOTP_KEY", "MONGO_URL")


def tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(ROOT / ".tools" / "k8s" / "bin"))
    if not found:
        pytest.fail(f"{name} is missing: `make k8s-tools` installs it")
    return found


@functools.cache
def rendered_text(overlay: str) -> str:
    result = subprocess.run(
        [tool("kubectl"), "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def rendered(overlay: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(rendered_text(overlay)) if d]


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def env_names(cls: type[Any]) -> set[str]:
    """The settings' environment names, each also as ``<NAME>_FILE`` (read from a file)."""
    names = settings_env_names(cls)
    return names | {f"{n}_FILE" for n in names}


def container_env(docs: list[dict[str, Any]], deployment: dict[str, Any]) -> dict[str, str]:
    maps = of_kind(docs, "ConfigMap")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env |= maps[source["configMapRef"]["name"]]["data"]
    for item in container.get("env", []):
        assert "valueFrom" not in item, f"{item['name']}: secrets come from files"
        env[item["name"]] = item["value"]
    return env


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_renders_the_whole_platform(overlay: str) -> None:
    docs = rendered(overlay)
    namespace = {"staging": "lapor-staging", "production": "lapor"}[overlay]
    assert {d["metadata"].get("namespace") for d in docs} == {namespace}
    assert set(of_kind(docs, "Deployment")) == set(SETTINGS)
    assert set(of_kind(docs, "KafkaTopic")) == set(topics.ALL)
    assert len(of_kind(docs, "Kafka")) == len(of_kind(docs, "MongoDBCommunity")) == 1
    assert set(of_kind(docs, "PodDisruptionBudget")) == set(SETTINGS)
    for kind in ("ServiceMonitor", "PrometheusRule", "Ingress", "NetworkPolicy"):
        assert of_kind(docs, kind), kind


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_built_in_resources_validate_and_custom_ones_match_their_kept_schemas(
    overlay: str,
) -> None:
    import jsonschema
    import kubernetes_validate

    unchecked: set[str] = set()
    for doc in rendered(overlay):
        group = doc["apiVersion"].split("/")[0] if "/" in doc["apiVersion"] else ""
        builtin = "." not in group or group.endswith(".k8s.io")
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if builtin:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            continue
        schema_file = K8S / "schemas" / f"{doc['kind'].lower()}.{group}.json"
        if not schema_file.exists():
            unchecked.add(f"{doc['kind']} ({group})")
            continue
        try:
            jsonschema.validate(doc, json.loads(schema_file.read_text()))
        except jsonschema.ValidationError as exc:
            pytest.fail(f"{name}: {exc.message} at {list(exc.absolute_path)}")
    print(f"\n{overlay}: custom resources not checked against a schema: {sorted(unchecked)}")
    kept = {p.name.split(".", 1)[0] for p in (K8S / "schemas").glob("*.json")}
    assert {"kafkatopic", "kafkauser", "kafka", "mongodbcommunity", "scaledobject"} <= kept


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_checkov_passes_with_every_skip_named_and_explained(overlay: str, tmp_path: Path) -> None:
    manifest = tmp_path / f"{overlay}.yaml"
    manifest.write_text(rendered_text(overlay))
    reasons: dict[str, str] = yaml.safe_load((K8S / "checkov-skips.yaml").read_text())
    assert all(len(reason) > 40 for reason in reasons.values()), "each skip says why"
    result = subprocess.run(
        [
            tool("checkov"),
            "--file",
            str(manifest),
            "--framework",
            "kubernetes",
            "--skip-check",
            ",".join(reasons),
            "--skip-download",
            "--output",
            "json",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    summary = report["summary"]
    failed = [
        f"{c['check_id']} {c['resource']}: {c['check_name']}"
        for c in report["results"]["failed_checks"]
    ]
    assert summary["failed"] == 0, "\n".join(failed)
    assert summary["passed"] > 100


def test_the_generated_manifests_are_what_their_sources_give() -> None:
    result = subprocess.run(
        [sys.executable, str(K8S / "tools" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def acls(docs: list[dict[str, Any]], user: str) -> Iterator[tuple[str, str, str, str]]:
    for acl in of_kind(docs, "KafkaUser")[user]["spec"]["authorization"]["acls"]:
        r = acl["resource"]
        for op in acl["operations"]:
            yield r["type"], r["name"], r.get("patternType", "literal"), op


def who(docs: list[dict[str, Any]], topic: str, op: str) -> set[str]:
    return {
        user
        for user in of_kind(docs, "KafkaUser")
        for kind, name, pattern, o in acls(docs, user)
        if kind == "topic"
        and o == op
        and (name == topic or (pattern == "prefix" and topic.startswith(name)))
    }


def test_topics_users_and_acls_are_what_lapor_schemas_topics_says() -> None:
    docs = rendered("production")
    for name, topic in of_kind(docs, "KafkaTopic").items():
        policy = topics.POLICY[name]
        spec = topic["spec"]
        assert (spec["topicName"], spec["partitions"], spec["replicas"]) == (
            name,
            policy.partitions,
            3,
        )
        hours = policy.retention_hours
        assert spec["config"]["retention.ms"] == (-1 if hours is None else hours * 3_600_000)
        assert spec["config"]["min.insync.replicas"] == 2
        writers = {f"lapor-{w}" for w in policy.writers if w != topics.CHANNEL}
        readers = {f"lapor-{r}" for r in policy.readers if r != topics.CHANNEL}
        channels = {u for u in of_kind(docs, "KafkaUser") if u.startswith("lapor-channel-")}
        writers |= channels if topics.CHANNEL in policy.writers else set()
        readers |= channels if topics.CHANNEL in policy.readers else set()
        assert who(docs, name, "Write") == writers, name
        assert who(docs, name, "Read") == readers, name
    # the rules, stated plainly
    channels = {u for u in of_kind(docs, "KafkaUser") if u.startswith("lapor-channel-")}
    assert channels, "at least one regional system"
    for channel in channels:
        topic_ops = {(n, op) for k, n, _, op in acls(docs, channel) if k == "topic"}
        assert {op for _, op in topic_ops} <= {"Read", "Write", "Describe"}
        assert {n for n, op in topic_ops if op == "Write"} == {topics.INTAKE}
        assert {n for n, op in topic_ops if op == "Read"} == {topics.INTAKE_RECEIPTS}
    assert who(docs, topics.CONTACTS, "Read") == {"lapor-notify"}
    assert who(docs, topics.DLQ, "Read") == {"lapor-ops"}
    # nobody may create, delete or alter anything: topics are declared
    for user in of_kind(docs, "KafkaUser"):
        ops = {op for *_, op in acls(docs, user)}
        assert ops <= {"Read", "Write", "Describe"}, user


def test_the_prometheus_rule_is_the_rule_files_and_promtool_passes(tmp_path: Path) -> None:
    docs = rendered("production")
    rule = of_kind(docs, "PrometheusRule")["lapor"]
    files = sorted((ROOT / "deploy" / "prometheus" / "rules").glob("*.yml"))
    groups = [g for f in files for g in yaml.safe_load(f.read_text())["groups"]]
    assert rule["spec"]["groups"] == groups
    extracted = tmp_path / "rules.yml"
    extracted.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: `make promtool` installs it")
    result = subprocess.run(
        [promtool, "check", "rules", str(extracted)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    dashboards = of_kind(docs, "ConfigMap")
    for path in sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json")):
        data = dashboards[f"grafana-{path.stem}"]["data"][path.name]
        assert json.loads(data) == json.loads(path.read_text())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_read_every_setting_given_and_secrets_only_from_files(overlay: str) -> None:
    docs = rendered(overlay)
    deployments = of_kind(docs, "Deployment")
    for name, cls in SETTINGS.items():
        env = container_env(docs, deployments[name])
        unknown = {k for k in env if k.startswith("LAPOR_")} - env_names(cls)
        assert not unknown, f"{name} reads no {unknown}"
        assert env["LAPOR_ENV"] == "production"
        for key, value in env.items():
            if any(word in key for word in SECRET_WORDS):
                assert key.endswith("_FILE"), (name, key)
                assert value.startswith("/run/secrets/"), (name, key)
        port = int(env[f"LAPOR_{name.upper()}_PORT"])
        assert port == cls.model_fields["port"].default
    # nothing secret in the repository: no Secret carries a value
    assert not [d for d in docs if d["kind"] == "Secret"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_runs_locked_down_with_probes_and_limits(overlay: str) -> None:
    for name, deployment in of_kind(rendered(overlay), "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/health"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
        assert pod["topologySpreadConstraints"], name


def test_production_takes_every_secret_from_the_secret_store() -> None:
    docs = rendered("production")
    external = set(of_kind(docs, "ExternalSecret"))
    # what the pods mount, less what the operators write themselves
    operators = (
        {"lapor-cluster-ca-cert", "lapor-mongodb-tls"}
        | {f"lapor-{s}" for s in topics.SERVICES}
        | {f"lapor-mongo-{s}" for s in SETTINGS}
        | {"lapor-keda"}
    )
    mounted = {
        v["secret"]["secretName"]
        for d in of_kind(docs, "Deployment").values()
        for v in d["spec"]["template"]["spec"]["volumes"]
        if "secret" in v
    }
    assert mounted - operators <= external
    mongo = of_kind(docs, "MongoDBCommunity")["lapor-mongodb"]
    assert {u["passwordSecretRef"]["name"] for u in mongo["spec"]["users"]} <= external
    # each service's database user may use its own database only
    for user in mongo["spec"]["users"]:
        if user["name"] in SETTINGS:
            assert user["roles"] == [{"name": "readWrite", "db": f"lapor_{user['name']}"}]


def test_the_service_monitor_names_jobs_as_the_rules_expect() -> None:
    """Found: no jobLabel, so up{job=~"lapor-.*"} matched nothing in the cluster."""
    docs = rendered("production")
    monitor = of_kind(docs, "ServiceMonitor")["lapor-services"]
    label = monitor["spec"]["jobLabel"]
    services = of_kind(docs, "Service")
    for name in ("intake", "routing", "notify", "metrics", "portal"):
        assert services[name]["metadata"]["labels"][label] == f"lapor-{name}"
