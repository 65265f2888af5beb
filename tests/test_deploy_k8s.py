"""deploy/k8s, checked offline: the production overlay renders with `kubectl kustomize`, every
manifest is valid for Kubernetes 1.32 (kubernetes-validate, strict), and the objects fit the
code: one gateway per department serving its prefix, one worker and autoscaler per task queue,
disruption budgets on every Deployment, probes and resources everywhere, an Ingress whose every
path reaches a Service port of a gateway that serves it, and settings that are real settings a
production process accepts. Nothing is applied: there is no cluster here."""

from __future__ import annotations

import base64
import copy
import os
import shutil
import subprocess
import sys
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from shared.settings import DEPARTMENTS, Settings
from shared.temporal import all_queues

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
OVERLAY = Path("overlays") / "production"
KUBERNETES_VERSION = "1.32.0"
BIN = Path(sys.executable).parent
SETTINGS = frozenset(f"ORDERFLOW_{name.upper()}" for name in Settings.model_fields)
# The Ingress sends the cross-department paths to this gateway (deploy/README.md says why).
SHARED_PATHS_GATEWAY = "gateway-planning"
SHARED_PATHS = ("/orders", "/escalations", "/kpis")
# The desk, Swagger UI and the API's description go to the gateway that serves every department
# (the desk calls the API in-process, so it needs every department's routes).
DESK_GATEWAY = "gateway-desk"
DESK_PATHS = ("/desk", "/docs", "/openapi.json")
# The escalation bots' channels: a file of the Secret `orderflow-channels`, one example for
# compose and Kubernetes.
CHANNELS_FILE = "channels.json"
CHANNELS_EXAMPLE = ROOT / "deploy" / "channels" / "channels.json.example"
TEST_SECRETS = {
    "ORDERFLOW_DATABASE_URL": "postgresql://orderflow_app:pw@postgres.example.com:5432/orderflow",
    "ORDERFLOW_MIGRATION_DATABASE_URL": (
        "postgresql://orderflow_owner:pw2@postgres.example.com:5432/orderflow"
    ),
    "ORDERFLOW_ACTOR_KEY": "actor-key-for-the-test-0123456789abcdef",
    "ORDERFLOW_JWT_KEY": "jwt-key-for-the-test-0123456789-abcdef",
    "ORDERFLOW_WEBHOOK_SECRET": "webhook-secret-for-the-test",
}

Manifest = dict[str, Any]


@cache
def served_paths(departments: tuple[str, ...] | None = None) -> frozenset[str]:
    """The paths a gateway serving `departments` (None: all) answers, from its OpenAPI."""
    from app.gateway import create_app

    app = create_app(Settings(jwt_key="k" * 32), departments=departments)
    return frozenset(app.openapi()["paths"])


def is_setting(name: str) -> bool:
    return name in SETTINGS or name.startswith("ORDERFLOW_SLA_")


def kubectl() -> str:
    found = shutil.which("kubectl")
    if not found:
        pytest.fail("kubectl is not installed: these tests render deploy/k8s with kustomize")
    return found


@pytest.fixture(scope="module")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> list[Manifest]:
    """The production overlay as `kubectl kustomize` renders it, with secrets.env and
    migration-secrets.env filled in from their examples and channels.json copied from
    deploy/channels/ (in a copy: the real ones never exist in the repo)."""
    tree = tmp_path_factory.mktemp("k8s") / "k8s"
    secrets = ("secrets.env", "migration-secrets.env")
    shutil.copytree(K8S, tree, ignore=shutil.ignore_patterns(*secrets, CHANNELS_FILE))
    shutil.copy(CHANNELS_EXAMPLE, tree / OVERLAY / CHANNELS_FILE)
    for name in secrets:
        example = (tree / OVERLAY / f"{name}.example").read_text().splitlines()
        filled = []
        for line in example:
            key = line.partition("=")[0]
            filled.append(f"{key}={TEST_SECRETS[key]}" if key in TEST_SECRETS else line)
        (tree / OVERLAY / name).write_text("\n".join(filled) + "\n")
    result = subprocess.run(
        [kubectl(), "kustomize", str(tree / OVERLAY)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def of_kind(manifests: list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def named(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    (found,) = [m for m in of_kind(manifests, kind) if m["metadata"]["name"] == name]
    return found


def component(manifests: list[Manifest], kind: str, value: str) -> list[Manifest]:
    return [
        m
        for m in of_kind(manifests, kind)
        if m["metadata"]["labels"].get("app.kubernetes.io/component") == value
    ]


def container(deployment: Manifest) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def env(c: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in c.get("env", [])}


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def pod_labels(workload: Manifest) -> dict[str, str]:
    return workload["spec"]["template"]["metadata"]["labels"]


def settings_data(manifests: list[Manifest]) -> dict[str, str]:
    """What every orderflow container gets from the ConfigMap and the Secret."""
    (config,) = [m for m in of_kind(manifests, "ConfigMap") if "ORDERFLOW_ENV" in m["data"]]
    secret = runtime_secret(manifests)
    decoded = {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}
    return {**config["data"], **decoded}


def runtime_secret(manifests: list[Manifest]) -> Manifest:
    """The Secret every orderflow process reads (`orderflow-secrets-<hash>`)."""
    (found,) = [
        m
        for m in of_kind(manifests, "Secret")
        if m["metadata"]["name"].startswith("orderflow-secrets")
    ]
    return found


def test_every_manifest_is_valid_for_kubernetes(manifests: list[Manifest]) -> None:
    problems = []
    for manifest in manifests:
        try:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{manifest['kind']}/{manifest['metadata']['name']}: {exc}")
    assert not problems, "\n".join(problems)
    counts = Counter(m["kind"] for m in manifests)
    assert counts["Deployment"] == len(DEPARTMENTS) + 1 + len(all_queues("orderflow"))


def test_the_validator_rejects_a_broken_manifest(manifests: list[Manifest]) -> None:
    broken = copy.deepcopy(of_kind(manifests, "Deployment")[0])
    container(broken)["imagePullPolcy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_one_gateway_per_department_serving_only_it(manifests: list[Manifest]) -> None:
    gateways = component(manifests, "Deployment", "gateway")
    served = {}
    for gateway in gateways:
        c = container(gateway)
        departments = Settings(departments=env(c)["ORDERFLOW_DEPARTMENTS"]).departments
        if gateway["metadata"]["name"] == DESK_GATEWAY:
            assert sorted(departments) == sorted(DEPARTMENTS), "the desk needs every department"
            continue
        assert len(departments) == 1, gateway["metadata"]["name"]
        served[departments[0]] = gateway["metadata"]["name"]
        assert c["command"][:3] == ["uvicorn", "app.gateway:create_app", "--factory"]
        port = int(c["command"][c["command"].index("--port") + 1])
        assert [p["containerPort"] for p in c["ports"]] == [port]
        assert port == Settings.model_fields["http_port"].default
    assert sorted(served) == sorted(DEPARTMENTS)
    # Beyond what every gateway serves (/orders, /escalations, /healthz, ...), a department's
    # gateway serves its own prefix and nothing else.
    common = frozenset.intersection(*(served_paths((d,)) for d in DEPARTMENTS))
    for dept in DEPARTMENTS:
        own = served_paths((dept,)) - common
        assert own and all(path.startswith(f"/{dept}/") for path in own), (dept, own)


def test_one_worker_and_autoscaler_per_task_queue(manifests: list[Manifest]) -> None:
    prefix = settings_data(manifests)["ORDERFLOW_TASK_QUEUE_PREFIX"]
    short_names = {"workflows": f"{prefix}-workflows"} | {d: f"{prefix}-{d}" for d in DEPARTMENTS}
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h
        for h in of_kind(manifests, "HorizontalPodAutoscaler")
    }
    queues = []
    for worker in component(manifests, "Deployment", "worker"):
        c = container(worker)
        assert c["command"] == ["python", "-m", "app.worker"]
        args = c["args"]
        assert args[::2] == ["--queue"] * (len(args) // 2) and len(args) == 2
        queues.append(short_names.get(args[1], args[1]))
        assert "replicas" not in worker["spec"], "the autoscaler owns the replica count"
        hpa = hpas.pop(worker["metadata"]["name"])
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        (metric,) = hpa["spec"]["metrics"]
        assert metric["type"] == "Resource" and metric["resource"]["name"] == "cpu"
        metrics_port = env(c)["ORDERFLOW_METRICS_PORT"]
        assert [str(p["containerPort"]) for p in c["ports"]] == [metrics_port]
    assert sorted(queues) == sorted(all_queues(prefix))
    assert not hpas, f"autoscalers without a worker: {sorted(hpas)}"


def test_every_deployment_has_its_own_disruption_budget(manifests: list[Manifest]) -> None:
    deployments = of_kind(manifests, "Deployment")
    budgets = of_kind(manifests, "PodDisruptionBudget")
    assert len(budgets) == len(deployments)
    for deployment in deployments:
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selects(selector, pod_labels(deployment))
        covering = [
            b
            for b in budgets
            if selects(b["spec"]["selector"]["matchLabels"], pod_labels(deployment))
        ]
        assert len(covering) == 1, deployment["metadata"]["name"]
        assert covering[0]["spec"]["selector"]["matchLabels"] == selector
    for budget in budgets:
        matched = [
            d
            for d in deployments
            if selects(budget["spec"]["selector"]["matchLabels"], pod_labels(d))
        ]
        assert len(matched) == 1, f"{budget['metadata']['name']} covers {len(matched)}"


def test_every_container_has_resources_and_every_server_probes(manifests: list[Manifest]) -> None:
    for workload in of_kind(manifests, "Deployment") + of_kind(manifests, "Job"):
        name = workload["metadata"]["name"]
        for c in workload["spec"]["template"]["spec"]["containers"]:
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][kind]), f"{name} {kind}"
            if workload["kind"] != "Deployment":
                continue
            ports = {p.get("name") for p in c["ports"]} | {p["containerPort"] for p in c["ports"]}
            for probe_kind in ("readinessProbe", "livenessProbe"):
                probe = c[probe_kind]
                action = probe.get("httpGet") or probe.get("tcpSocket")
                assert action and action["port"] in ports, f"{name} {probe_kind}"
    for gateway in component(manifests, "Deployment", "gateway"):
        c = container(gateway)
        for probe_kind in ("readinessProbe", "livenessProbe", "startupProbe"):
            assert c[probe_kind]["httpGet"]["path"] == "/healthz"


def test_ingress_routes_each_prefix_to_a_gateway_that_serves_it(manifests: list[Manifest]) -> None:
    (ingress,) = of_kind(manifests, "Ingress")
    services = {s["metadata"]["name"]: s for s in of_kind(manifests, "Service")}
    gateways = component(manifests, "Deployment", "gateway")
    all_routes = served_paths()
    routed = {}
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            service = services[backend["name"]]
            port = backend["port"]
            (service_port,) = [
                p
                for p in service["spec"]["ports"]
                if p.get("name") == port.get("name") or p["port"] == port.get("number")
            ]
            (gateway,) = [
                g for g in gateways if selects(service["spec"]["selector"], pod_labels(g))
            ]
            container_ports = container(gateway)["ports"]
            assert any(
                service_port["targetPort"] in (p.get("name"), p["containerPort"])
                for p in container_ports
            ), f"{backend['name']} targets a port its pods do not have"
            departments = env(container(gateway))["ORDERFLOW_DEPARTMENTS"].split(",")
            routes = served_paths(tuple(departments))
            prefix = path["path"]
            # A path API.md names that no gateway serves yet is routed only, not checked.
            if any(r == prefix or r.startswith(prefix + "/") for r in all_routes):
                assert any(r == prefix or r.startswith(prefix + "/") for r in routes), prefix
            assert path["pathType"] == "Prefix"
            routed[prefix] = backend["name"]
    assert set(routed) == {f"/{d}" for d in DEPARTMENTS} | set(SHARED_PATHS) | set(DESK_PATHS)
    for dept in DEPARTMENTS:
        assert routed[f"/{dept}"] == f"gateway-{dept}"
    for path in SHARED_PATHS:
        assert routed[path] == SHARED_PATHS_GATEWAY
    for path in DESK_PATHS:
        assert routed[path] == DESK_GATEWAY


def channels_secret(manifests: list[Manifest]) -> Manifest:
    """The Secret holding the channels file (`orderflow-channels-<hash>`)."""
    (found,) = [
        m
        for m in of_kind(manifests, "Secret")
        if m["metadata"]["name"].startswith("orderflow-channels")
    ]
    return found


def mounted_secret(workload: Manifest, path: str) -> str | None:
    """The name of the Secret whose volume the workload's container mounts at `path`."""
    spec = workload["spec"]["template"]["spec"]
    (c,) = spec["containers"]
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for mount in c.get("volumeMounts", []):
        if mount["mountPath"] == path:
            return str(volumes[mount["name"]]["secret"]["secretName"])
    return None


def test_config_and_secret_hold_settings_production_accepts(
    manifests: list[Manifest], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (config,) = [m for m in of_kind(manifests, "ConfigMap") if "ORDERFLOW_ENV" in m["data"]]
    secret = runtime_secret(manifests)
    for keys in (config["data"], secret["data"]):
        unknown = sorted(k for k in keys if not is_setting(k))
        assert not unknown, f"not settings shared/settings.py reads: {unknown}"
    assert {"ORDERFLOW_DATABASE_URL", "ORDERFLOW_WEBHOOK_SECRET"} <= set(secret["data"])
    assert {"ORDERFLOW_JWT_KEY", "ORDERFLOW_JWKS_URL"} & set(secret["data"])
    data = settings_data(manifests)
    for workload in of_kind(manifests, "Deployment") + of_kind(manifests, "Job"):
        for c in workload["spec"]["template"]["spec"]["containers"]:
            sources = {
                ref.get("configMapRef", ref.get("secretRef", {})).get("name")
                for ref in c.get("envFrom", [])
            }
            if c["image"].startswith("temporalio/"):
                continue
            assert sources == {config["metadata"]["name"], secret["metadata"]["name"]}
            unknown = sorted(k for k in env(c) if not is_setting(k))
            assert not unknown, f"{workload['metadata']['name']}: {unknown}"
            for key in [k for k in os.environ if k.startswith("ORDERFLOW_")]:
                monkeypatch.delenv(key)
            for key, value in {**data, **env(c)}.items():
                monkeypatch.setenv(key, value)
            if "ORDERFLOW_CHANNELS_FILE" in env(c):
                # The file as the container sees it: the mounted Secret's key.
                channels = channels_secret(manifests)
                mounted = Path(env(c)["ORDERFLOW_CHANNELS_FILE"])
                assert mounted_secret(workload, str(mounted.parent)) == channels["metadata"]["name"]
                local = tmp_path / mounted.name
                local.write_bytes(base64.b64decode(channels["data"][mounted.name]))
                monkeypatch.setenv("ORDERFLOW_CHANNELS_FILE", str(local))
            settings = Settings()  # env=prod refuses missing secrets and servers
            assert settings.env == "prod" and settings.temporal_address


def test_migration_job_runs_orderflow_migrate(manifests: list[Manifest]) -> None:
    job = named(manifests, "Job", "orderflow-migrate")
    (c,) = job["spec"]["template"]["spec"]["containers"]
    assert c["command"] == ["orderflow", "migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    images = {container(d)["image"] for d in of_kind(manifests, "Deployment")}
    assert images == {c["image"]}, "migrations must come from the image that runs them"
