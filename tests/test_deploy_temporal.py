"""Temporal as the Kubernetes overlay deploys it: the bootstrap Job registers the search
attributes the code uses, and the Helm values keep Temporal's history and visibility in
PostgreSQL with passwords from Secrets."""

from __future__ import annotations

import yaml

from shared.temporal import SEARCH_ATTRIBUTE_ARGS
from tests import test_deploy_k8s
from tests.test_deploy_k8s import K8S, Manifest, named, of_kind

# The rendered production overlay (kubectl kustomize), as the other deploy tests render it.
manifests = test_deploy_k8s.manifests


def test_bootstrap_job_registers_the_code_search_attributes(manifests: list[Manifest]) -> None:
    job = named(manifests, "Job", "temporal-bootstrap")
    spec = job["spec"]["template"]["spec"]
    (c,) = spec["containers"]
    variables = {e["name"]: e for e in c["env"]}
    assert variables["SEARCH_ATTRIBUTES"]["value"].split() == list(SEARCH_ATTRIBUTE_ARGS)
    config_name = next(m for m in of_kind(manifests, "ConfigMap") if "ORDERFLOW_ENV" in m["data"])
    for name, key in (
        ("TEMPORAL_ADDRESS", "ORDERFLOW_TEMPORAL_ADDRESS"),
        ("TEMPORAL_NAMESPACE", "ORDERFLOW_TEMPORAL_NAMESPACE"),
    ):
        ref = variables[name]["valueFrom"]["configMapKeyRef"]
        assert (ref["name"], ref["key"]) == (config_name["metadata"]["name"], key)
    (script_volume,) = [v for v in spec["volumes"] if "configMap" in v]
    script_map = named(manifests, "ConfigMap", script_volume["configMap"]["name"])
    script = (K8S / "base" / "temporal-bootstrap.sh").read_text()
    assert script_map["data"]["temporal-bootstrap.sh"] == script
    mount = next(m for m in c["volumeMounts"] if m["name"] == script_volume["name"])
    assert c["command"][-1] == f"{mount['mountPath']}/temporal-bootstrap.sh"


def test_temporal_helm_values_use_postgres_with_secret_passwords() -> None:
    values = yaml.safe_load((K8S / "temporal" / "values.yaml").read_text())
    persistence = values["server"]["config"]["persistence"]
    stores = persistence["datastores"]
    assert {persistence["defaultStore"], persistence["visibilityStore"]} == set(stores)
    databases = set()
    for store in stores.values():
        sql = store["sql"]
        assert sql["pluginName"] == "postgres12"
        assert sql["existingSecret"] and "password" not in sql
        databases.add(sql["databaseName"])
    assert len(databases) == 2
    assert isinstance(persistence["numHistoryShards"], int)
    assert (K8S / "base" / "kustomization.yaml").read_text().count(
        "temporal-frontend.temporal.svc.cluster.local:7233"
    ) == 1
