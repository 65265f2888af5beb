"""Identity settings as production takes them: weak or incomplete ones refused at start, no
secret ever echoed, dev key files private from the start."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from shared import settings as settings_module
from shared.settings import Settings

AUDIENCE = "orderflow-api"
ISSUER = "https://idp.example.test/realms/factory"

# Roles an identity provider adds to every user that orderflow does not know.
IDP_ROLES = ["offline_access", "uma_authorization"]
# Routes any authenticated caller with a known role may read (API.md "any role").
ANY_ROLE_READS = [
    "/orders",
    "/orders/NO-SUCH-ORDER",
    "/planning/orders/NO-SUCH-ORDER/plan",
    "/warehouse/stock",
    "/escalations",
]


# -- settings -----------------------------------------------------------------------------------


def prod(**changes: Any) -> dict[str, Any]:
    """Settings production accepts, with `changes`."""
    return {
        "env": "prod",
        "temporal_address": "temporal:7233",
        "database_url": "postgresql+asyncpg://u:p@db/orderflow",
        "jwt_key": "k" * 32,
        "webhook_secret": "w" * 16,
        "actor_key": "a" * 32,
        **changes,
    }


def test_production_settings_are_accepted() -> None:
    assert Settings(**prod()).env == "prod"
    assert Settings(**prod(jwt_key="k" * 64, jwt_algorithm="HS512")).jwt_algorithm == "HS512"
    with_idp = prod(
        jwt_key="", jwks_url="https://idp/certs", jwt_audience=AUDIENCE, jwt_issuer=ISSUER
    )
    assert Settings(**with_idp).jwks_url


@pytest.mark.parametrize(
    ("changes", "names"),
    [
        ({"jwt_key": "k"}, "ORDERFLOW_JWT_KEY"),
        ({"jwt_key": "k" * 31}, "ORDERFLOW_JWT_KEY"),
        ({"jwt_key": "k" * 47, "jwt_algorithm": "HS384"}, "ORDERFLOW_JWT_KEY"),
        ({"jwt_key": "k" * 63, "jwt_algorithm": "HS512"}, "ORDERFLOW_JWT_KEY"),
        ({"jwt_key": "", "jwks_url": "https://idp/certs"}, "ORDERFLOW_JWT_AUDIENCE"),
        (
            {"jwt_key": "", "jwks_url": "https://idp/certs", "jwt_audience": AUDIENCE},
            "ORDERFLOW_JWT_ISSUER",
        ),
        (
            {"jwt_key": "", "jwks_url": "https://idp/certs", "jwt_issuer": ISSUER},
            "ORDERFLOW_JWT_AUDIENCE",
        ),
    ],
)
def test_production_refuses_weak_or_incomplete_identity_settings(
    changes: dict[str, Any], names: str
) -> None:
    with pytest.raises(ValidationError, match=names):
        Settings(**prod(**changes))


@pytest.mark.parametrize("env", ["dev", "test", "prod"])
@pytest.mark.parametrize("algorithm", ["none", "None", "RS256", "ES256", ""])
def test_the_key_algorithm_is_hmac_in_every_environment(env: str, algorithm: str) -> None:
    with pytest.raises(ValidationError, match="ORDERFLOW_JWT_ALGORITHM"):
        Settings(**prod(env=env, jwt_algorithm=algorithm))


@pytest.mark.parametrize("algorithms", ["HS256", "RS256,none", "RS256,HS512", ""])
def test_jwks_mode_takes_only_asymmetric_algorithms(
    algorithms: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERFLOW_JWKS_ALGORITHMS", algorithms)
    with pytest.raises(ValidationError, match="ORDERFLOW_JWKS_ALGORITHMS"):
        Settings(env="test")


def test_an_invalid_setting_never_echoes_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("ORDERFLOW_")]:
        monkeypatch.delenv(key)
    secrets = {
        "ORDERFLOW_WEBHOOK_SECRET": "hook-secret-0xC0FFEE",
        "ORDERFLOW_JWT_KEY": "jwt-key-0xDEADBEEF",
        "ORDERFLOW_TEMPORAL_API_KEY": "temporal-key-0xBADC0DE",
    }
    for key, value in {**secrets, "ORDERFLOW_ENV": "prod"}.items():
        monkeypatch.setenv(key, value)
    # A 19-byte JWT key: refused in prod, and the refusal must not show it (nor the others).
    with pytest.raises(ValidationError) as caught:
        Settings()
    # What `orderflow` prints (`invalid ORDERFLOW_* settings:` + the error) and what a log of
    # the exception shows; pydantic keeps the raw input only inside `errors()`.
    text = f"{caught.value}\n{caught.value!r}\n{caught.value.errors(include_input=False)!r}"
    assert "ORDERFLOW_JWT_KEY" in text
    for secret in secrets.values():
        assert secret not in text
    # Nor does a valid settings object's repr, or its dump.
    monkeypatch.setenv("ORDERFLOW_ENV", "test")
    settings = Settings()
    for secret in secrets.values():
        assert secret not in f"{settings!r} {settings} {settings.model_dump()}"
    assert settings.jwt_key.get_secret_value() == secrets["ORDERFLOW_JWT_KEY"]
    assert settings.signing_key() == secrets["ORDERFLOW_JWT_KEY"]
    assert settings.webhook_signing_secret() == secrets["ORDERFLOW_WEBHOOK_SECRET"]


def test_the_cli_names_the_bad_setting_but_not_the_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    for key in [k for k in os.environ if k.startswith("ORDERFLOW_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("ORDERFLOW_ENV", "prod")
    monkeypatch.setenv("ORDERFLOW_JWT_KEY", "k" * 40)
    monkeypatch.setenv("ORDERFLOW_WEBHOOK_SECRET", "hook-0xC0FFEE")  # 13 characters: too short
    settings_module.get_settings.cache_clear()
    try:
        assert main(["token", "--sub", "alice", "--roles", "sales"]) == 2
    finally:
        settings_module.get_settings.cache_clear()
    printed = capsys.readouterr()
    assert "ORDERFLOW_WEBHOOK_SECRET" in printed.err
    assert "hook-0xC0FFEE" not in printed.err + printed.out
    assert "k" * 40 not in printed.err + printed.out


def test_dev_key_files_are_created_0600_from_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[tuple[int, int]] = []
    real_open = os.open

    def watching_open(path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        opened.append((flags, mode))
        return real_open(path, flags, mode, **kw)

    monkeypatch.setattr(settings_module.os, "open", watching_open)
    previous = os.umask(0)  # a umask would hide a file created wider than 0600
    try:
        settings = Settings(env="dev", home=tmp_path / "home")
        key, secret = settings.signing_key(), settings.webhook_signing_secret()
    finally:
        os.umask(previous)
    assert len(key) >= 32 and len(secret) >= 32 and key != secret
    assert opened == [(os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)] * 2
    for name in ("jwt.key", "webhook.secret"):
        assert stat.S_IMODE((tmp_path / "home" / name).stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "home").iterdir()) == ["jwt.key", "webhook.secret"]
    assert settings.signing_key() == key, "read back, not made again"


def test_processes_creating_the_dev_key_at_once_all_get_the_same_one(tmp_path: Path) -> None:
    settings = Settings(env="dev", home=tmp_path)
    keys: list[str] = []
    threads = [
        threading.Thread(target=lambda: keys.append(settings.signing_key())) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1
