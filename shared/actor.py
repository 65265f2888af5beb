"""Signed actor assertions: how a workflow knows that an update's `by` and `roles` come from
the gateway, which checked the caller's token, and not from whoever reaches Temporal.

The gateway's Temporal client signs every update it sends (`ActorSigning`, a client
interceptor): an HMAC-SHA256 over canonical JSON naming the actor and roles, the workflow, the
update and a hash of the argument, issued now and valid for `LIFETIME`. The workflow worker
holds the same key (`ActorKeys`, a worker interceptor) and each update's validator calls
`verify_actor`, which refuses with `Rejection.UNAUTHENTICATED` an update without a valid
assertion: one from a bare Temporal client, a tampered one, an expired one, or one made for
another workflow, update or argument.

Only the validator checks, and it is deterministic (no I/O; the expiry against
`workflow.now()`): Temporal runs validators only when it first delivers an update, never on
replay, so a history whose assertions have long expired still replays.
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import workflow
from temporalio.client import (
    Client,
    OutboundInterceptor,
    StartWorkflowUpdateInput,
    WorkflowUpdateHandle,
)
from temporalio.client import Interceptor as ClientInterceptor
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from shared.rejections import Rejection

# How long an assertion is valid after the gateway signed it: long enough for Temporal to
# deliver the update, too short for a captured one to be worth much.
LIFETIME = timedelta(minutes=5)
# How far the gateway's clock may run ahead of the workflow's.
CLOCK_SKEW = timedelta(minutes=1)
# The shortest key accepted (HMAC-SHA256's block of security).
MIN_KEY_BYTES = 32
VERSION = 1

Clock = Callable[[], Awaitable[datetime]]


async def wall_clock() -> datetime:
    """Now, by this machine's clock (what the Temporal server's clock reads too)."""
    return datetime.now(UTC)


_clock: Clock = wall_clock


@contextmanager
def signing_clock(clock: Clock) -> Iterator[None]:
    """Sign with `clock` while inside: tests on Temporal's time-skipping server sign at the
    server's time, which runs ahead of this machine's."""
    global _clock
    previous, _clock = _clock, clock
    try:
        yield
    finally:
        _clock = previous


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical(value: Any) -> bytes:
    """JSON with sorted keys and no spaces: the same bytes for the same value everywhere."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def argument_digest(arg: BaseModel) -> str:
    """SHA-256 of the update's argument without its assertion, as the data converter sends it
    (so the gateway's object and the worker's parsed copy hash alike)."""
    as_sent = json.loads(arg.model_dump_json(exclude={"assertion"}))
    return hashlib.sha256(canonical(as_sent)).hexdigest()


def _mac(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())


def sign(key: bytes, *, workflow_id: str, update: str, arg: BaseModel, now: datetime) -> str:
    """The assertion for sending `update(arg)` to `workflow_id`, issued at `now`; the actor and
    roles are the argument's `by` and `roles` (which the gateway took from a checked token)."""
    claims = {
        "v": VERSION,
        "wf": workflow_id,
        "update": update,
        "sub": getattr(arg, "by", None),
        "roles": sorted(getattr(arg, "roles", None) or []),
        "arg": argument_digest(arg),
        "iat": int(now.timestamp()),
        "exp": int((now + LIFETIME).timestamp()),
    }
    body = _b64(canonical(claims))
    return f"{body}.{_mac(key, body)}"


class AssertionRefused(Exception):
    """Why an assertion does not authorise an update."""


def check(
    key: bytes,
    assertion: str | None,
    *,
    workflow_id: str,
    update: str,
    arg: BaseModel,
    now: datetime,
) -> None:
    """Raise AssertionRefused unless `assertion` is the gateway's, unexpired at `now`, and made
    for exactly this workflow, update, argument, actor and roles. Pure: no I/O, no clock."""
    if not assertion:
        raise AssertionRefused("the update carries no actor assertion from the gateway")
    body, _, mac = assertion.partition(".")
    if not hmac.compare_digest(mac.encode(), _mac(key, body).encode()):
        raise AssertionRefused("the actor assertion's signature does not match")
    try:
        claims = json.loads(_unb64(body))
    except ValueError as exc:
        raise AssertionRefused("the actor assertion is malformed") from exc
    if not isinstance(claims, dict) or claims.get("v") != VERSION:
        raise AssertionRefused("the actor assertion is malformed")
    if claims.get("wf") != workflow_id or claims.get("update") != update:
        raise AssertionRefused("the actor assertion was made for another workflow or update")
    if claims.get("sub") != getattr(arg, "by", None):
        raise AssertionRefused("the actor assertion names another actor")
    if claims.get("roles") != sorted(getattr(arg, "roles", None) or []):
        raise AssertionRefused("the actor assertion names other roles")
    if claims.get("arg") != argument_digest(arg):
        raise AssertionRefused("the actor assertion was made for another argument")
    issued, expires = claims.get("iat"), claims.get("exp")
    if not isinstance(issued, int) or not isinstance(expires, int):
        raise AssertionRefused("the actor assertion is malformed")
    moment = int(now.timestamp())
    if expires - issued > LIFETIME.total_seconds():
        raise AssertionRefused("the actor assertion lives longer than allowed")
    if issued > moment + CLOCK_SKEW.total_seconds():
        raise AssertionRefused("the actor assertion is issued in the future")
    if moment >= expires:
        raise AssertionRefused("the actor assertion has expired")


# -- the gateway side -----------------------------------------------------------------------


class ActorSigning(ClientInterceptor):
    """Client interceptor of the gateway: every update whose argument has an `assertion`
    field goes out signed."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _SigningOutbound(next, self.key)


class _SigningOutbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, key: bytes) -> None:
        super().__init__(next)
        self.key = key

    async def start_workflow_update(
        self, input: StartWorkflowUpdateInput
    ) -> WorkflowUpdateHandle[Any]:
        if input.args and isinstance(input.args[0], BaseModel):
            arg = input.args[0]
            if "assertion" in type(arg).model_fields:
                token = sign(
                    self.key, workflow_id=input.id, update=input.update, arg=arg, now=await _clock()
                )
                input.args = [arg.model_copy(update={"assertion": token}), *input.args[1:]]
        return await super().start_workflow_update(input)


def signing_client(client: Client, key: bytes) -> Client:
    """A Temporal client like `client` (same connection and converter) that signs updates."""
    config = client.config()
    config["interceptors"] = [*config["interceptors"], ActorSigning(key)]
    return Client(**config)


# -- the worker side ------------------------------------------------------------------------

# The key of the worker running the current update validator (set by `ActorKeys` around it).
_verifying_key: contextvars.ContextVar[bytes | None] = contextvars.ContextVar(
    "orderflow_actor_key", default=None
)


class ActorKeys(Interceptor):
    """Worker interceptor of the workflow queue: hands the worker's key to update validators,
    the only place it is read. A worker without it refuses every update (fail closed)."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        key = self.key

        class _KeyInbound(WorkflowInboundInterceptor):
            def handle_update_validator(self, input: HandleUpdateInput) -> None:
                token = _verifying_key.set(key)
                try:
                    super().handle_update_validator(input)
                finally:
                    _verifying_key.reset(token)

        return _KeyInbound


def verify_actor(cmd: BaseModel, update: str) -> None:
    """In an update validator: refuse (`Rejection.UNAUTHENTICATED`) unless `cmd` carries the
    gateway's assertion for this workflow, `update` and `cmd`, unexpired at `workflow.now()`."""
    key = _verifying_key.get()
    try:
        if key is None:
            raise AssertionRefused("this worker holds no actor key")
        check(
            key,
            getattr(cmd, "assertion", None),
            workflow_id=workflow.info().workflow_id,
            update=update,
            arg=cmd,
            now=workflow.now(),
        )
    except AssertionRefused as exc:
        raise ApplicationError(
            str(exc), type=Rejection.UNAUTHENTICATED.value, non_retryable=True
        ) from None
