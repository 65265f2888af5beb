"""docker-compose.yml, .env.example and the Dockerfile, checked offline against the Compose
specification and against the code: every ORDERFLOW_* variable is a setting, each command is
one the code has, ports agree, and the example environment (plus its secrets) gives settings a
production process accepts. Nothing is built or started: there is no docker engine here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from app.cli import _parser as cli_parser
from shared.settings import DEPARTMENTS, Settings
from shared.temporal import SEARCH_ATTRIBUTE_ARGS, all_queues

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
BIN = Path(sys.executable).parent

SETTINGS = frozenset(f"ORDERFLOW_{name.upper()}" for name in Settings.model_fields)
SLA_VARIABLE = re.compile(r"ORDERFLOW_SLA_[A-Z0-9_]+")
GATEWAY_FACTORY = ["uvicorn", "app.gateway:create_app", "--factory"]
ORDERFLOW_SERVICES = ("migrate", "gateway", "worker")
# What the test supplies for the secrets .env.example leaves blank.
TEST_SECRETS = {
    "POSTGRES_PASSWORD": "pg-password-for-the-test",
    "POSTGRES_OWNER_PASSWORD": "owner-password-for-the-test",
    "POSTGRES_APP_PASSWORD": "app-password-for-the-test",
    "POSTGRES_TEMPORAL_PASSWORD": "temporal-password-for-the-test",
    "ORDERFLOW_ACTOR_KEY": "actor-key-for-the-test-0123456789abcdef",
    "ORDERFLOW_WEBHOOK_SECRET": "webhook-secret-for-the-test",
    "ORDERFLOW_JWT_KEY": "jwt-key-for-the-test-0123456789-abcdef",
}


def is_setting(name: str) -> bool:
    """Whether `name` is an environment variable shared/settings.py reads."""
    return name in SETTINGS or bool(SLA_VARIABLE.fullmatch(name))


def tool(name: str) -> str:
    """A dev tool from the venv (else PATH); the test fails, not skips, without it."""
    found = BIN / name if (BIN / name).exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed (a dev dependency: make install)")
    return str(found)


class MissingVariable(Exception):
    pass


_REFERENCE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|\$(?P<bare>[A-Za-z_]\w*)"
)


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}` and `$$`."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg, current = match.group("op"), match.group("arg"), env.get(name)
        if op == ":-":
            return current or arg
        if op == "-":
            return arg if current is None else current
        if op in (":?", "?") and (current is None or (op == ":?" and not current)):
            raise MissingVariable(f"{name}: {arg}")
        return current or ""

    return _REFERENCE.sub(replace, value)


def references(value: Any) -> Iterator[str]:
    """Every variable name `value` interpolates."""
    if isinstance(value, dict):
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)
    elif isinstance(value, str):
        for match in _REFERENCE.finditer(value):
            if match.group(0) != "$$":
                yield match.group("name") or match.group("bare")


def env_file(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def compose(raw: dict[str, Any]) -> dict[str, Any]:
    """The compose file as `docker compose config` would see it with .env.example + secrets."""
    return interpolate(raw, {**env_file(ENV_EXAMPLE), **TEST_SECRETS})


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def test_compose_file_follows_the_compose_specification() -> None:
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_orderflow_variable_is_a_setting(raw: dict[str, Any]) -> None:
    named = set(references(raw)) | set(env_file(ENV_EXAMPLE))
    for service in raw["services"].values():
        named |= set(environment(service))
    named |= set(raw["x-orderflow-env"])
    unknown = sorted(n for n in named if n.startswith("ORDERFLOW_") and not is_setting(n))
    assert not unknown, f"not settings shared/settings.py reads: {unknown}"


def test_every_interpolated_variable_is_in_env_example(raw: dict[str, Any]) -> None:
    missing = sorted(set(references(raw)) - set(env_file(ENV_EXAMPLE)))
    assert not missing, f"docker-compose.yml reads {missing}; document them in .env.example"


def test_the_secrets_are_required_not_defaulted(raw: dict[str, Any]) -> None:
    example = env_file(ENV_EXAMPLE)
    for secret in (
        "POSTGRES_PASSWORD",
        "POSTGRES_OWNER_PASSWORD",
        "POSTGRES_APP_PASSWORD",
        "POSTGRES_TEMPORAL_PASSWORD",
        "ORDERFLOW_WEBHOOK_SECRET",
        "ORDERFLOW_ACTOR_KEY",
    ):
        assert example[secret] == "", f".env.example must not ship a value for {secret}"
        with pytest.raises(MissingVariable, match=secret):
            interpolate(raw, {**example, **TEST_SECRETS, secret: ""})


@pytest.mark.parametrize("name", ORDERFLOW_SERVICES)
def test_example_environment_gives_settings_production_accepts(
    compose: dict[str, Any], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = compose["services"][name]
    assert service["build"]["context"] == "." and service["build"]["dockerfile"] == "Dockerfile"
    env = environment(service)
    for key in [k for k in os.environ if k.startswith("ORDERFLOW_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()  # env=prod refuses dev secrets and missing servers
    assert settings.env == "prod"
    assert settings.temporal_address == "temporal:7233"
    assert urlsplit(settings.database_url).hostname == "postgres"
    assert settings.jwt_key.get_secret_value() or settings.jwks_url
    assert len(settings.webhook_secret.get_secret_value()) >= 16
    assert urlsplit(settings.otlp_endpoint).hostname == "otel-collector"


def test_gateway_runs_the_factory_the_code_has(compose: dict[str, Any]) -> None:
    from app.gateway import create_app

    assert callable(create_app)
    gateway = compose["services"]["gateway"]
    command = gateway["command"]
    assert command[:3] == GATEWAY_FACTORY
    port = int(command[command.index("--port") + 1])
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert [p.rsplit(":", 1)[1] for p in gateway["ports"]] == [str(port)]
    probe = " ".join(gateway["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}/healthz" in probe
    assert port == Settings.model_fields["http_port"].default


def test_worker_runs_app_worker_on_real_queues(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    command = worker["command"]
    assert command[:3] == ["python", "-m", "app.worker"]
    queues = command[3:][1::2]
    assert command[3:][::2] == ["--queue"] * len(queues)
    prefix = environment(worker)["ORDERFLOW_TASK_QUEUE_PREFIX"]
    assert set(queues) <= {"workflows", *DEPARTMENTS, *all_queues(prefix)}
    port = environment(worker)["ORDERFLOW_METRICS_PORT"]
    assert f"('127.0.0.1', {port})" in " ".join(worker["healthcheck"]["test"])


def test_migrate_runs_orderflow_migrate(compose: dict[str, Any]) -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'orderflow = "app.cli:main"' in pyproject
    command = compose["services"]["migrate"]["command"]
    assert command == ["orderflow", "migrate"]
    assert cli_parser().parse_args(command[1:]).command.__name__ == "migrate_command"


def test_services_wait_for_what_they_need(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("gateway", "worker"):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"},
            "temporal": {"condition": "service_healthy"},
            "temporal-setup": {"condition": "service_completed_successfully"},
            "otel-collector": {"condition": "service_started"},
        }
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["temporal"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for service in services.values():
        for target, rule in (service.get("depends_on") or {}).items():
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{target} has no healthcheck"
            if rule["condition"] == "service_completed_successfully":
                assert services[target]["restart"] == "no"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    temporal_probe = " ".join(services["temporal"]["healthcheck"]["test"])
    assert "temporal operator cluster health --address temporal:7233" in temporal_probe
    assert "pgdata" in compose["volumes"]
    assert any(v.startswith("pgdata:") for v in services["postgres"]["volumes"])


def test_temporal_runs_on_the_same_postgres_with_its_own_role(compose: dict[str, Any]) -> None:
    services = compose["services"]
    temporal = environment(services["temporal"])
    postgres = environment(services["postgres"])
    assert temporal["DB"] == "postgres12"
    assert temporal["POSTGRES_SEEDS"] == "postgres"
    assert temporal["POSTGRES_USER"] == "temporal" != postgres["POSTGRES_USER"]
    assert temporal["POSTGRES_PWD"] == postgres["POSTGRES_TEMPORAL_PASSWORD"]
    assert temporal["POSTGRES_PWD"] != postgres["POSTGRES_PASSWORD"]
    gateway = environment(services["gateway"])
    assert temporal["DEFAULT_NAMESPACE"] == gateway["ORDERFLOW_TEMPORAL_NAMESPACE"]
    assert environment(services["temporal-ui"])["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_temporal_setup_registers_the_code_search_attributes(compose: dict[str, Any]) -> None:
    setup = compose["services"]["temporal-setup"]
    env = environment(setup)
    assert env["SEARCH_ATTRIBUTES"].split() == list(SEARCH_ATTRIBUTE_ARGS)
    assert (
        env["TEMPORAL_NAMESPACE"]
        == environment(compose["services"]["worker"])["ORDERFLOW_TEMPORAL_NAMESPACE"]
    )
    source, target = setup["volumes"][0].split(":")[:2]
    assert (ROOT / source).is_file()
    assert setup["entrypoint"][-1] == target


def test_traces_go_through_the_collector_to_jaeger(compose: dict[str, Any]) -> None:
    services = compose["services"]
    endpoint = urlsplit(environment(services["gateway"])["ORDERFLOW_OTLP_ENDPOINT"])
    assert (endpoint.hostname, endpoint.port) == ("otel-collector", 4318)
    mount = services["otel-collector"]["volumes"][0].split(":")
    config = yaml.safe_load((ROOT / mount[0]).read_text())
    assert f"--config={mount[1]}" in services["otel-collector"]["command"]
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    exporter = config["exporters"]["otlp/jaeger"]
    assert exporter["endpoint"] == "jaeger:4317"
    pipeline = config["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"] and pipeline["exporters"] == ["otlp/jaeger"]
    assert environment(services["jaeger"])["COLLECTOR_OTLP_ENABLED"] == "true"
    assert any(p.endswith(":16686") for p in services["jaeger"]["ports"])


def test_dockerfile_installs_the_lock_without_dev_deps_and_runs_unprivileged() -> None:
    text = DOCKERFILE.read_text()
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    assert "RUN pip install -c requirements.lock .\n" in text
    installs = [ln for ln in text.splitlines() if "pip install" in ln and ln.startswith("RUN")]
    assert installs == ["RUN pip install -c requirements.lock ."], "runtime deps only, no [dev]"
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    # app/migrate.py reads alembic.ini and migrations/ next to the `app` package.
    assert "COPY alembic.ini ./" in text and "COPY migrations ./migrations" in text
    assert "PYTHONPATH=/app" in text
    for package in ("shared", "services", "workflows", "app"):
        assert f"COPY {package} ./{package}" in text, f"the image lacks the {package} package"
    cmd = re.findall(r"^CMD (.+)$", text, re.MULTILINE)[-1]
    assert yaml.safe_load(cmd)[:3] == GATEWAY_FACTORY


def test_dockerignore_keeps_what_the_dockerfile_copies_and_nothing_else() -> None:
    lines = [ln for ln in DOCKERIGNORE.read_text().splitlines() if ln and ln[0] != "#"]
    assert lines[0] == "*", "start from nothing: .venv, .env and .orderflow stay out"
    allowed = {ln[1:].rstrip("/") for ln in lines if ln.startswith("!")}
    copied = set()
    for line in DOCKERFILE.read_text().splitlines():
        parts = line.split()
        if parts[:1] == ["COPY"] and not parts[1].startswith("--"):
            copied |= set(parts[1:-1])
    assert copied <= allowed, f"COPY of files .dockerignore leaves out: {copied - allowed}"
    for path in copied:
        assert (ROOT / path).exists(), path


def test_the_image_vendors_the_desks_assets_as_make_assets_does() -> None:
    """The desk and /docs load their files from app/desk/static/vendor: the image builds them
    from package-lock.json in its own stage, copying the files the Makefile copies."""
    text = DOCKERFILE.read_text()
    stages = re.split(r"^FROM ", text, flags=re.MULTILINE)
    (assets,) = [s for s in stages if re.match(r"\S+ AS assets\b", s)]
    assert "COPY package.json package-lock.json ./" in assets
    assert "npm ci --omit=dev" in assets, "the lock's runtime packages, not the dev tools"
    copied = re.compile(r"node_modules/\S+")
    makefile = (ROOT / "Makefile").read_text()
    assert set(copied.findall(assets)) == set(copied.findall(makefile))
    assert "COPY --from=assets /src/vendor ./app/desk/static/vendor" in stages[-1]
    # A copy made by `make assets` on the building machine never reaches the image.
    assert "app/desk/static/vendor" in DOCKERIGNORE.read_text().splitlines()


def test_migrations_run_as_the_owner_and_the_runtime_as_a_dml_role(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    postgres = environment(services["postgres"])
    script = ROOT / "deploy" / "postgres" / "init-roles.sh"
    mounts = {v.split(":")[1]: v.split(":")[0] for v in services["postgres"]["volumes"]}
    assert mounts["/docker-entrypoint-initdb.d/10-orderflow-roles.sh"] == (
        "./" + str(script.relative_to(ROOT))
    )
    text = script.read_text()
    for role in ("orderflow_owner", "orderflow_app", "temporal"):
        assert f"CREATE ROLE {role} LOGIN NOSUPERUSER" in text
    assert 'ALTER DATABASE :"db" OWNER TO orderflow_owner' in text
    assert "REVOKE ALL ON DATABASE" in text
    migrate = environment(services["migrate"])
    owner = urlsplit(migrate["ORDERFLOW_MIGRATION_DATABASE_URL"])
    assert (owner.username, owner.password) == (
        "orderflow_owner",
        postgres["POSTGRES_OWNER_PASSWORD"],
    )
    for name in ORDERFLOW_SERVICES:
        env = environment(services[name])
        runtime = urlsplit(env["ORDERFLOW_DATABASE_URL"])
        assert (runtime.username, runtime.password) == (
            "orderflow_app",
            postgres["POSTGRES_APP_PASSWORD"],
        )
        if name != "migrate":
            assert "ORDERFLOW_MIGRATION_DATABASE_URL" not in env
    superuser = postgres["POSTGRES_USER"]
    for service in services.values():
        for value in environment(service).values():
            assert f"//{superuser}:" not in value, "nothing but the init script is superuser"


def test_the_temporal_ui_is_read_only(compose: dict[str, Any]) -> None:
    ui = environment(compose["services"]["temporal-ui"])
    assert ui["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "true"


def test_every_orderflow_process_holds_the_actor_key(compose: dict[str, Any]) -> None:
    for name in ORDERFLOW_SERVICES:
        key = environment(compose["services"][name])["ORDERFLOW_ACTOR_KEY"]
        assert key == TEST_SECRETS["ORDERFLOW_ACTOR_KEY"]
