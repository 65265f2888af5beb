"""The Kubernetes manifests' least privilege: default-deny network policies, separate database
roles for migration and runtime, mTLS to Temporal and a read-only Temporal UI."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from tests import test_deploy_k8s
from tests.test_deploy_k8s import (
    K8S,
    Manifest,
    container,
    named,
    of_kind,
    pod_labels,
    runtime_secret,
    selects,
    settings_data,
)

# The rendered production overlay (kubectl kustomize), as the other deploy test renders it.
manifests = test_deploy_k8s.manifests

# -- least privilege and the network (issue 11) ------------------------------------------------


def policies_for(manifests: list[Manifest], labels: dict[str, str]) -> list[Manifest]:
    """The NetworkPolicies that select a pod with `labels`."""
    chosen = []
    for policy in of_kind(manifests, "NetworkPolicy"):
        selector = policy["spec"]["podSelector"]
        if not selects(selector.get("matchLabels", {}), labels):
            continue
        if all(labels.get(e["key"]) in e["values"] for e in selector.get("matchExpressions", [])):
            chosen.append(policy)
    return chosen


def namespaces(peers: list[dict[str, Any]]) -> set[str]:
    return {
        p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for p in peers
        if "namespaceSelector" in p
    }


def allowed(policies: list[Manifest], direction: str) -> set[tuple[str, int]]:
    """(peer, port) pairs the policies allow: a namespace name, or a CIDR."""
    found = set()
    peer_key = "from" if direction == "ingress" else "to"
    for policy in policies:
        for rule in policy["spec"].get(direction, []):
            peers = rule.get(peer_key, [])
            names = namespaces(peers) | {p["ipBlock"]["cidr"] for p in peers if "ipBlock" in p}
            for port in rule.get("ports", []):
                found |= {(name, int(port["port"])) for name in names}
    return found


def test_network_policies_deny_by_default_and_allow_only_what_is_needed(
    manifests: list[Manifest],
) -> None:
    (deny,) = [
        p for p in of_kind(manifests, "NetworkPolicy") if p["metadata"]["name"].endswith("deny")
    ]
    assert set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"]
    workloads = of_kind(manifests, "Deployment") + of_kind(manifests, "Job")
    temporal_port = int(settings_data(manifests)["ORDERFLOW_TEMPORAL_ADDRESS"].rsplit(":", 1)[1])
    for workload in workloads:
        labels = pod_labels(workload)
        policies = policies_for(manifests, labels)
        assert deny in policies, f"{workload['metadata']['name']} is not denied by default"
        role = labels["app.kubernetes.io/component"]
        ingress = allowed(policies, "ingress")
        egress = allowed(policies, "egress")
        assert ("kube-system", 53) in egress
        annotations = workload["spec"]["template"]["metadata"].get("annotations", {})
        scraped = {("monitoring", int(annotations["prometheus.io/port"]))} if annotations else set()
        if role == "gateway":
            assert ingress == {("ingress-nginx", 8000)} | scraped
        elif role == "worker":
            assert ingress == scraped
        else:  # the Jobs take no connections
            assert ingress == set(), workload["metadata"]["name"]
        reaches_temporal = ("temporal", temporal_port) in egress
        assert reaches_temporal == (role in ("gateway", "worker", "temporal-bootstrap"))
        reaches_postgres = any(port == 5432 for _, port in egress)
        assert reaches_postgres == (role in ("gateway", "worker", "migrate"))
        # The workers send the e-mail channels' letters (STARTTLS or TLS submission).
        reaches_smtp = {port for _, port in egress} >= {587, 465}
        assert reaches_smtp == (role == "worker"), workload["metadata"]["name"]
    ports = {
        int(p["containerPort"])
        for d in of_kind(manifests, "Deployment")
        for p in container(d).get("ports", [])
    }
    assert ports == {8000, 9464}, "a new port needs its NetworkPolicy"
    (postgres,) = [
        p
        for p in of_kind(manifests, "NetworkPolicy")
        if p["metadata"]["name"].endswith("postgres-egress")
    ]
    assert postgres["spec"]["egress"][0]["to"][0]["ipBlock"]["cidr"] != "0.0.0.0/0"


def test_runtime_and_migration_use_separate_database_roles(manifests: list[Manifest]) -> None:
    (migration,) = [
        m
        for m in of_kind(manifests, "Secret")
        if m["metadata"]["name"].startswith("orderflow-migration-secrets")
    ]
    owner_url = base64.b64decode(migration["data"]["ORDERFLOW_MIGRATION_DATABASE_URL"]).decode()
    runtime_url = settings_data(manifests)["ORDERFLOW_DATABASE_URL"]
    assert "ORDERFLOW_MIGRATION_DATABASE_URL" not in runtime_secret(manifests)["data"]
    assert urlsplit(owner_url).username != urlsplit(runtime_url).username
    job = named(manifests, "Job", "orderflow-migrate")
    (c,) = job["spec"]["template"]["spec"]["containers"]
    ref = {e["name"]: e for e in c["env"]}["ORDERFLOW_MIGRATION_DATABASE_URL"]
    key_ref = ref["valueFrom"]["secretKeyRef"]
    assert (key_ref["name"], key_ref["key"]) == (
        migration["metadata"]["name"],
        "ORDERFLOW_MIGRATION_DATABASE_URL",
    )
    for deployment in of_kind(manifests, "Deployment"):
        text = yaml.safe_dump(deployment)
        assert migration["metadata"]["name"] not in text, deployment["metadata"]["name"]
        assert "ORDERFLOW_MIGRATION_DATABASE_URL" not in text


def test_clients_reach_temporal_by_mtls_with_the_private_ca(manifests: list[Manifest]) -> None:
    data = settings_data(manifests)
    paths = {key: Path(data[f"ORDERFLOW_TEMPORAL_TLS_{key}"]) for key in ("CERT", "KEY", "CA")}
    assert {p.name for p in paths.values()} == {"tls.crt", "tls.key", "ca.crt"}
    (directory,) = {p.parent for p in paths.values()}
    bootstrap = named(manifests, "Job", "temporal-bootstrap")
    for workload in [*of_kind(manifests, "Deployment"), bootstrap]:
        spec = workload["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in spec["volumes"]}
        (c,) = spec["containers"]
        (mount,) = [m for m in c["volumeMounts"] if m["mountPath"] == str(directory)]
        assert volumes[mount["name"]]["secret"]["secretName"] == "orderflow-temporal-tls"
    (cli,) = bootstrap["spec"]["template"]["spec"]["containers"]
    variables = {e["name"]: e.get("value") for e in cli["env"]}
    for key in ("CERT", "KEY", "CA"):
        assert variables[f"TEMPORAL_TLS_{key}"] == str(paths[key])


def test_temporal_helm_values_turn_on_mtls_and_a_read_only_ui() -> None:
    values = yaml.safe_load((K8S / "temporal" / "values.yaml").read_text())
    server = values["server"]
    mounted = {m["mountPath"]: m["name"] for m in server["additionalVolumeMounts"]}
    secrets = {v["name"]: v["secret"]["secretName"] for v in server["additionalVolumes"]}
    for layer in ("frontend", "internode"):
        tls = server["config"]["tls"][layer]["server"]
        assert tls["requireClientAuth"] is True
        for path in (tls["certFile"], tls["keyFile"], *tls["clientCaFiles"]):
            assert secrets[mounted[str(Path(path).parent)]] == "temporal-server-tls"
    for part in ("web", "admintools"):
        env = {e["name"]: e["value"] for e in values[part]["additionalEnv"]}
        mounts = {m["mountPath"]: m["name"] for m in values[part]["additionalVolumeMounts"]}
        volumes = {v["name"]: v["secret"]["secretName"] for v in values[part]["additionalVolumes"]}
        for key in ("TEMPORAL_TLS_CA", "TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY"):
            assert volumes[mounts[str(Path(env[key]).parent)]] == "temporal-client-tls"
    web = {e["name"]: e["value"] for e in values["web"]["additionalEnv"]}
    assert web["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "true"
