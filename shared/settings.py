"""One validated settings object, read from `ORDERFLOW_*` environment variables.

Read it once at start (`get_settings()`), never at import: tests build their own `Settings`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from shared.channels.config import with_webhook_secret
from shared.channels.routing import ChannelBook
from shared.departments import DEPARTMENTS
from shared.settings_bots import BotSettings
from shared.settings_capacity import CapacitySettings
from shared.settings_fields import (
    Duration,
    HolidaysCountry,
    PlantZone,
    ShiftsText,
    WorkWeekText,
    split_csv,
)
from shared.settings_money import MoneySettings
from shared.working_time.data import CalendarData, CalendarException, PublicCalendar
from shared.working_time.text import parse_shifts, parse_work_week

# Token algorithms: a shared key signs only with HMAC, an identity provider's JWKS only with
# asymmetric keys; `none` is in neither.
HMAC_ALGORITHMS: tuple[str, ...] = ("HS256", "HS384", "HS512")
JWKS_ALGORITHMS: tuple[str, ...] = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
# A shared key at least as long as the hash (RFC 7518 §3.2): 32 bytes for HS256.
MIN_HMAC_KEY_BYTES: dict[str, int] = {"HS256": 32, "HS384": 48, "HS512": 64}


# Durations of every timer (env `ORDERFLOW_SLA_<KEY>`); a task kind may have its own
# `ORDERFLOW_SLA_TASK_<KIND>`, read by `Settings.task_sla`.
class Settings(BotSettings, MoneySettings, CapacitySettings):
    # `hide_input_in_errors`: a validation error must not echo what it was given (secrets).
    model_config = SettingsConfigDict(
        env_prefix="ORDERFLOW_", extra="ignore", hide_input_in_errors=True
    )

    env: Literal["dev", "test", "prod"] = "dev"
    home: Path = Path(".orderflow")

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    # Where people open the Temporal Web UI (the desk links each order's workflow there); empty
    # means the embedded server's UI on this machine (`temporal_ui_port`).
    temporal_ui_url: str = ""
    # Set these two for real servers; empty means "start the embedded one".
    temporal_address: str = ""
    temporal_namespace: str = "default"
    # Temporal Cloud (or any server behind TLS): an API key turns TLS on; a client certificate
    # and key (PEM file paths) authenticate by mTLS instead; `temporal_tls` forces TLS with
    # neither (a server with a public certificate).
    temporal_api_key: SecretStr = SecretStr("")
    temporal_tls: bool = False
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    # A private CA bundle (PEM file) the Temporal frontend's certificate is checked against;
    # turns TLS on. Without it the system's trust store is used.
    temporal_tls_ca: Path | None = None
    database_url: str = ""
    # The schema owner's URL, for migrations only (DDL); the runtime uses `database_url`, a
    # role with DML only. Empty: migrations use `database_url` too.
    migration_database_url: str = ""
    # The key the gateway signs each update's actor with and the workflow worker checks
    # (shared/actor.py), 32+ bytes; required in prod, else kept in ORDERFLOW_HOME/actor.key.
    actor_key: SecretStr = SecretStr("")
    task_queue_prefix: str = "orderflow"

    # Tokens: HS256/384/512 with `jwt_key` (else the dev key in ORDERFLOW_HOME), or the
    # asymmetric `jwks_algorithms` with keys from `jwks_url` (an identity provider).
    jwt_key: SecretStr = SecretStr("")
    jwks_url: str = ""
    jwt_algorithm: str = "HS256"
    jwks_algorithms: Annotated[list[str], NoDecode, BeforeValidator(split_csv)] = Field(
        default_factory=lambda: ["RS256", "ES256"]
    )
    # The `aud` and `iss` a token must carry (empty: not checked; required with a JWKS in prod).
    jwt_audience: str = ""
    jwt_issuer: str = ""
    # Where the roles and the caller's name are in the claims: a dotted path for the roles
    # (Keycloak: `realm_access.roles`; a claim whose own name has dots, e.g. Auth0's
    # `https://example.com/roles`, is found whole first), a claim name for the subject
    # (`preferred_username`).
    jwt_roles_claim: str = Field(default="roles", min_length=1)
    jwt_subject_claim: str = Field(default="sub", min_length=1)
    # The desk's sign-in through the identity provider (OpenID Connect authorization code with
    # PKCE): the issuer URL (its /.well-known/openid-configuration is read) and the desk's
    # public client id; empty: the desk offers a pasted token (and names in dev) only.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_scope: str = "openid profile"
    # Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    # At most one forced JWKS refetch (an unknown `kid`, e.g. after a key rotation) per this
    # many seconds; the key set is refetched anyway every `jwks_cache_seconds`.
    jwks_refetch_seconds: float = Field(default=30, ge=1, le=3600)
    jwks_cache_seconds: float = Field(default=300, ge=10, le=86400)
    approval_threshold: Decimal = Decimal("1000000")
    # Working days a standard crew needs from production start to production end.
    production_days: int = 10
    # Working days between production end and ship: final inspection and packing.
    inspection_days: int = 2
    ship_days: int = 2
    # Orders the workshop can have in production at the same time before the proposal waits.
    workshop_capacity: int = 4
    # What one production working day of an order costs in labour (the currency of the order):
    # the work-done part of a cancellation's cost; 0 leaves labour out (and says so).
    labour_cost_per_day: Decimal = Field(default=Decimal(0), ge=0)
    # The hour (UTC) a production day starts; production start = plan date at this hour.
    shift_start_hour: int = Field(default=8, ge=0, le=23)
    # An order's workflow continues as new once its history passes this many events (at the
    # next safe point); 0 leaves it to Temporal's own suggestion (`is_continue_as_new_suggested`).
    order_history_events: int = Field(default=0, ge=0)
    # When (HH:MM, the plant's local time in `timezone`) the daily MRP run over open orders and
    # safety stock starts (P4.2); on the plant's days off the run skips.
    mrp_daily_at: str = Field(default="06:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    # When (weekday MON..SUN, HH:MM local time) the weekly list of orders in finished goods not
    # yet shipped asks each for a ship date (`sales.ship_date`, P2.6); when that weekday is a
    # day off, on the next working day at the same time.
    unshipped_weekday: Literal["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"] = "MON"
    unshipped_at: str = Field(default="08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    # When (weekday, HH:MM local time) the plan-achievement report per department of the week
    # before is stored and published (`GET /planning/reports?week=`); the month's on
    # `report_month_day` of the next month at the same time; working day or not.
    report_weekday: Literal["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"] = "FRI"
    report_at: str = Field(default="17:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    report_month_day: int = Field(default=1, ge=1, le=28)
    # The departments this gateway process serves (comma-separated; empty: all eight). One
    # department per Deployment in Kubernetes; `/orders`, `/escalations` and `/healthz` are
    # served by every gateway.
    departments: Annotated[list[str], NoDecode, BeforeValidator(split_csv)] = Field(
        default_factory=list
    )

    # Telemetry: OTLP/HTTP traces go to `otlp_endpoint` (e.g. http://collector:4318) when it is
    # set, nowhere otherwise; `service_name` names this process in them. Each process serves
    # Prometheus metrics: the gateway at `/metrics` on its HTTP port, a worker on
    # `metrics_port` (0: none).
    otlp_endpoint: str = ""
    service_name: str = "orderflow"
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    # How long a stopping worker lets running activities finish (Temporal's graceful shutdown
    # timeout) before it cancels them; a few seconds after that it exits whatever they do.
    worker_shutdown_seconds: float = Field(default=20, ge=0, le=3600)
    # The embedded Temporal dev server's SQLite `synchronous` pragma: `full` keeps the last
    # commits through a power loss or an OS crash, `normal` (faster) only through process kills.
    temporal_sqlite_sync: Literal["full", "normal"] = "full"
    # Working days before a PO line's promised date its buyer is asked to confirm it
    # (`procurement.confirm_promise`, §4.7, §4.9; `ORDERFLOW_PO_CONFIRM_DAYS`); 0: not asked.
    po_confirm_days: int = Field(default=3, ge=0, le=60)

    sla_incoming_inspection: Duration = timedelta(hours=8)
    sla_design_change: Duration = timedelta(hours=4)
    sla_material_check_lead: Duration = timedelta(days=3)
    sla_drawings_lead: Duration = timedelta(days=3)
    sla_picking_lead: Duration = timedelta(hours=4)
    sla_task_default: Duration = timedelta(days=1)
    sla_escalation_second_level: float = 2.0
    # After-sales (售后): a service case's clocks in working time from its opening (first
    # response, engineer on site, resolved), and the warranty from the customer's receipt
    # (months; an order may have its own, PUT /aftersales/warranties/{order_no}).
    sla_case_first_response: Duration = timedelta(hours=4)
    sla_case_on_site: Duration = timedelta(days=2)
    sla_case_resolved: Duration = timedelta(days=5)
    aftersales_warranty_months: int = Field(default=12, ge=0, le=120)
    # Per-kind task SLAs, keyed by kind (`engineering.contract_review`); filled from
    # `ORDERFLOW_SLA_TASK_<KIND>` variables when the settings are read.
    task_slas: dict[str, Duration] = Field(default_factory=dict)
    # The plant's working time (shared/working_time): its IANA zone, the shifts of a working
    # day, the work week, the country whose public holidays and make-up working days count
    # (`none`: none), and whether clocks count working time or plain elapsed (`wall`) time.
    timezone: PlantZone = "Asia/Shanghai"
    shifts: ShiftsText = "08:00-12:00,13:00-17:30"
    work_week: WorkWeekText = "MON-FRI"
    holidays_country: HolidaysCountry = "CN"
    clock_basis: Literal["working", "wall"] = "working"

    @model_validator(mode="after")
    def _tls_cert_and_key_together(self) -> Settings:
        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            raise ValueError(
                "ORDERFLOW_TEMPORAL_TLS_CERT and ORDERFLOW_TEMPORAL_TLS_KEY go together: "
                "give both PEM files for mTLS, or neither"
            )
        return self

    @field_validator("departments")
    @classmethod
    def _known_departments(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(DEPARTMENTS))
        if unknown:
            raise ValueError(f"unknown department(s) {unknown}; use {', '.join(DEPARTMENTS)}")
        return value

    @field_validator("sla_escalation_second_level")
    @classmethod
    def _factor_above_one(cls, value: float) -> float:
        if value <= 1:
            raise ValueError("the second escalation level must come after the first (factor > 1)")
        return value

    @model_validator(mode="before")
    @classmethod
    def _collect_task_slas(cls, data: object) -> object:
        if not isinstance(data, dict) or "task_slas" in data:
            return data
        prefix = "ORDERFLOW_SLA_TASK_"
        found = {
            key[len(prefix) :].lower(): value
            for key, value in os.environ.items()
            if key.startswith(prefix) and key != "ORDERFLOW_SLA_TASK_DEFAULT"
        }
        return {**data, "task_slas": found} if found else data

    @field_validator("jwt_algorithm")
    @classmethod
    def _hmac_algorithm(cls, value: str) -> str:
        # A key is a shared secret: only HMAC, so an asymmetric public key can never be used
        # as one (HS/RS confusion), and never `none`.
        if value not in HMAC_ALGORITHMS:
            raise ValueError(
                f"ORDERFLOW_JWT_ALGORITHM must be one of {', '.join(HMAC_ALGORITHMS)} "
                "(identity providers' keys come through ORDERFLOW_JWKS_URL)"
            )
        return value

    @field_validator("jwks_algorithms")
    @classmethod
    def _asymmetric_algorithms(cls, value: list[str]) -> list[str]:
        wrong = sorted(set(value) - set(JWKS_ALGORITHMS))
        if wrong or not value:
            raise ValueError(
                f"ORDERFLOW_JWKS_ALGORITHMS takes only asymmetric algorithms "
                f"({', '.join(JWKS_ALGORITHMS)}); not {', '.join(wrong) or 'an empty list'}"
            )
        return value

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_prod(self) -> Settings:
        if self.env == "prod":
            jwt_key = self.jwt_key.get_secret_value()
            if not (jwt_key or self.jwks_url):
                raise ValueError("ORDERFLOW_JWT_KEY or ORDERFLOW_JWKS_URL is required in prod")
            if self.jwks_url and not (self.jwt_audience and self.jwt_issuer):
                raise ValueError(
                    "ORDERFLOW_JWT_AUDIENCE and ORDERFLOW_JWT_ISSUER are required with "
                    "ORDERFLOW_JWKS_URL in prod (the identity provider's client id and issuer URL)"
                )
            least = MIN_HMAC_KEY_BYTES[self.jwt_algorithm]
            if not self.jwks_url and len(jwt_key.encode()) < least:
                raise ValueError(
                    f"ORDERFLOW_JWT_KEY must be at least {least} bytes for "
                    f"{self.jwt_algorithm} in prod"
                )
            if len(self.webhook_secret.get_secret_value()) < 16:
                raise ValueError("ORDERFLOW_WEBHOOK_SECRET of 16+ characters is required in prod")
            if not (self.temporal_address and self.database_url):
                raise ValueError("prod needs ORDERFLOW_TEMPORAL_ADDRESS and ORDERFLOW_DATABASE_URL")
        return self

    @model_validator(mode="after")
    def _channels_readable(self) -> Settings:
        # A misconfigured channel or route stops the process at start, named in the error.
        self.configured_channels(prod=self.env == "prod")
        return self

    @model_validator(mode="after")
    def _actor_key_rules(self) -> Settings:
        key = self.actor_key.get_secret_value()
        if key and len(key.encode()) < 32:
            raise ValueError("ORDERFLOW_ACTOR_KEY must be at least 32 bytes")
        if self.env == "prod" and not key:
            raise ValueError("ORDERFLOW_ACTOR_KEY (32+ bytes) is required in prod")
        return self

    @property
    def embedded_temporal(self) -> bool:
        return not self.temporal_address

    @property
    def embedded_database(self) -> bool:
        return not self.database_url

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    def task_sla(self, kind: str) -> timedelta:
        """The SLA of a task kind: `ORDERFLOW_SLA_TASK_<KIND>` if set, else the clock PROCESS.md
        names for it (incoming inspection 8 h, design change 4 h), else TASK_DEFAULT."""
        key = kind.replace(".", "_").lower()
        named = {
            "quality.incoming_inspection": self.sla_incoming_inspection,
            "engineering.design_change": self.sla_design_change,
        }
        return self.task_slas.get(key, named.get(kind, self.sla_task_default))

    def calendar_data(
        self, public: PublicCalendar, exceptions: tuple[CalendarException, ...] = ()
    ) -> CalendarData:
        """The factory calendar's data: these settings with the public holidays and the
        plant's exceptions."""
        return CalendarData(
            zone=self.timezone,
            shifts=parse_shifts(self.shifts),
            work_week=parse_work_week(self.work_week),
            public=public,
            exceptions=exceptions,
            basis=self.clock_basis,
        )

    def signing_key(self) -> str:
        """The HS256 key for tokens: configured, or the dev key kept in ORDERFLOW_HOME."""
        if key := self.jwt_key.get_secret_value():
            return key
        return _home_secret(self.home, "jwt.key")

    def actor_signing_key(self) -> bytes:
        """The key of signed actor assertions: configured, or the dev key in ORDERFLOW_HOME."""
        if key := self.actor_key.get_secret_value():
            return key.encode()
        return _home_secret(self.home, "actor.key").encode()

    def database_runtime_password(self) -> str:
        """The password of the embedded PostgreSQL's runtime role, kept in ORDERFLOW_HOME."""
        return _home_secret(self.home, "database-runtime.password")

    def channel_book(self) -> ChannelBook:
        """Every channel and route (shared/channels/routing.py), webhook channels without a
        secret of their own signing with `webhook_signing_secret()`."""
        book = self.configured_channels(prod=self.env == "prod")
        return with_webhook_secret(book, self.webhook_signing_secret())

    def webhook_signing_secret(self) -> str:
        """The webhook HMAC secret: configured, or the dev secret kept in ORDERFLOW_HOME."""
        if secret := self.webhook_secret.get_secret_value():
            return secret
        return _home_secret(self.home, "webhook.secret")


def _home_secret(home: Path, name: str) -> str:
    path = home / name
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        # Written to a file created 0600 (never readable by others, not even for a moment),
        # then linked into place: the first process to link wins and a concurrent reader
        # never sees a half-written key.
        draft = home / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48))
            with contextlib.suppress(FileExistsError):  # another process's key is as good
                os.link(draft, path)
        finally:
            draft.unlink(missing_ok=True)
    return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings()
