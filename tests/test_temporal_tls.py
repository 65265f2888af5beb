"""How orderflow reaches a Temporal server behind TLS (Temporal Cloud): an API key turns TLS on,
a client certificate and key give mTLS, a private CA bundle (ORDERFLOW_TEMPORAL_TLS_CA) checks
the frontend's certificate, alone or with mTLS, and a certificate without its key is refused at
start."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.service import TLSConfig

from shared.settings import Settings
from shared.temporal import tls_config


def test_a_local_server_needs_no_tls_and_an_api_key_or_the_flag_turns_it_on() -> None:
    assert tls_config(Settings()) is False
    assert tls_config(Settings(temporal_api_key="key-123")) is True
    assert tls_config(Settings(temporal_tls=True)) is True


def test_a_client_certificate_and_key_give_mtls(tmp_path: Path) -> None:
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    cert.write_bytes(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    key.write_bytes(b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n")
    config = tls_config(Settings(temporal_tls_cert=cert, temporal_tls_key=key))
    assert isinstance(config, TLSConfig)
    assert config.client_cert == cert.read_bytes()
    assert config.client_private_key == key.read_bytes()


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="go together"):
        Settings(temporal_tls_cert=tmp_path / "client.pem")


CA = b"-----BEGIN CERTIFICATE-----\nMIIC-private-ca\n-----END CERTIFICATE-----\n"


def test_a_private_ca_alone_turns_tls_on_and_checks_the_server_against_it(
    tmp_path: Path,
) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_bytes(CA)
    config = tls_config(Settings(temporal_tls_ca=ca))
    assert isinstance(config, TLSConfig)
    assert config.server_root_ca_cert == CA
    assert config.client_cert is None and config.client_private_key is None


def test_mtls_with_a_private_ca(tmp_path: Path) -> None:
    cert, key, ca = tmp_path / "tls.crt", tmp_path / "tls.key", tmp_path / "ca.crt"
    cert.write_bytes(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    key.write_bytes(b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n")
    ca.write_bytes(CA)
    config = tls_config(Settings(temporal_tls_cert=cert, temporal_tls_key=key, temporal_tls_ca=ca))
    assert isinstance(config, TLSConfig)
    assert config.server_root_ca_cert == CA
    assert config.client_cert == cert.read_bytes()
    assert config.client_private_key == key.read_bytes()


def test_without_a_ca_the_system_trust_store_is_used(tmp_path: Path) -> None:
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert.write_bytes(b"cert")
    key.write_bytes(b"key")
    config = tls_config(Settings(temporal_tls_cert=cert, temporal_tls_key=key))
    assert isinstance(config, TLSConfig) and config.server_root_ca_cert is None


def test_the_ca_is_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_bytes(CA)
    monkeypatch.setenv("ORDERFLOW_TEMPORAL_TLS_CA", str(ca))
    assert Settings().temporal_tls_ca == ca
