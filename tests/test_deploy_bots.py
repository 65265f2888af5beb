"""The escalation bots deployed (README "Bots"): compose gives the gateway and the worker the
bots' settings and the channels file read-only, the migration none of it, and keeps the file
out of git; Kubernetes mounts the channels from a Secret in every gateway and worker and points
the messages' links at the host its Ingress serves."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from shared.settings import Settings
from tests import test_deploy_compose, test_deploy_k8s
from tests.test_deploy_compose import ROOT, environment
from tests.test_deploy_k8s import (
    CHANNELS_FILE,
    Manifest,
    channels_secret,
    env,
    mounted_secret,
    of_kind,
    settings_data,
)

# The rendered compose file and production overlay, as the other deploy tests read them.
raw = test_deploy_compose.raw
compose = test_deploy_compose.compose
manifests = test_deploy_k8s.manifests


# The escalation bots' settings (README "Bots") and where compose mounts the channels file.
BOTS_VARIABLES = frozenset(
    {
        "ORDERFLOW_CHANNELS",
        "ORDERFLOW_CHANNELS_FILE",
        "ORDERFLOW_PUBLIC_URL",
        "ORDERFLOW_DESK_URL",
        "ORDERFLOW_ACK_LINK_HOURS",
    }
)
CHANNELS_DIR = ROOT / "deploy" / "channels"
CHANNELS_MOUNT = "/etc/orderflow/channels"


@pytest.mark.parametrize("name", ["gateway", "worker"])
def test_the_gateway_and_worker_read_the_bots_channels_from_the_mounted_file(
    compose: dict[str, Any], name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The worker sends the messages, the gateway serves their acknowledge links and
    GET /escalations/channels: both get the bots' settings and deploy/channels/ read-only;
    with the example copied to channels.json there, production accepts the channels."""
    service = compose["services"][name]
    env = environment(service)
    assert env.keys() >= BOTS_VARIABLES
    assert f"./deploy/channels:{CHANNELS_MOUNT}:ro" in service["volumes"]
    for key in [k for k in os.environ if k.startswith("ORDERFLOW_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # The container's /etc/orderflow/channels/channels.json is deploy/channels/channels.json.
    local = tmp_path / "channels.json"
    local.write_text((CHANNELS_DIR / "channels.json.example").read_text())
    monkeypatch.setenv("ORDERFLOW_CHANNELS_FILE", str(local))
    settings = Settings()
    assert settings.channel_book().channels, "the example names channels"
    assert settings.ack_link_hours > 0


def test_migrate_gets_no_channels_and_the_channels_file_stays_out_of_git(
    compose: dict[str, Any],
) -> None:
    assert not BOTS_VARIABLES & environment(compose["services"]["migrate"]).keys()
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(CHANNELS_DIR / "channels.json")], cwd=ROOT
    )
    kept = subprocess.run(
        ["git", "check-ignore", "-q", str(CHANNELS_DIR / "channels.json.example")], cwd=ROOT
    )
    assert (ignored.returncode, kept.returncode) == (0, 1)


def test_the_bots_channels_are_a_secret_file_of_the_gateways_and_workers(
    manifests: list[Manifest],
) -> None:
    """The channels' URLs hold the robots' tokens: they come from the Secret
    `orderflow-channels`, mounted read-only where ORDERFLOW_CHANNELS_FILE points, in every
    gateway (ack links, GET /escalations/channels) and worker (it sends), and in no Job."""
    channels = channels_secret(manifests)
    assert set(channels["data"]) == {CHANNELS_FILE}
    directory = "/etc/orderflow/channels"
    for workload in of_kind(manifests, "Deployment") + of_kind(manifests, "Job"):
        (c,) = workload["spec"]["template"]["spec"]["containers"]
        role = workload["metadata"]["labels"].get("app.kubernetes.io/component")
        name = workload["metadata"]["name"]
        if role not in ("gateway", "worker"):
            assert "ORDERFLOW_CHANNELS_FILE" not in env(c), name
            assert mounted_secret(workload, directory) is None, name
            continue
        assert env(c)["ORDERFLOW_CHANNELS_FILE"] == f"{directory}/{CHANNELS_FILE}", name
        assert mounted_secret(workload, directory) == channels["metadata"]["name"], name
        (mount,) = [m for m in c["volumeMounts"] if m["mountPath"] == directory]
        assert mount["readOnly"] is True
    data = settings_data(manifests)
    assert "ORDERFLOW_CHANNELS" not in data, "give the channels in one place: the file"
    # The messages' links go to the host the Ingress serves.
    (ingress,) = of_kind(manifests, "Ingress")
    host = ingress["spec"]["rules"][0]["host"]
    assert data["ORDERFLOW_PUBLIC_URL"] == f"https://{host}"
    assert data["ORDERFLOW_DESK_URL"] == f"https://{host}/desk"
    assert float(data["ORDERFLOW_ACK_LINK_HOURS"]) > 0
