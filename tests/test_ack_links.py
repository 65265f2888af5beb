"""One-click acknowledge links (issue 15, item 3): a signed, expiring, single-use URL; GET shows
the escalation and changes nothing, POST acknowledges it as the link's role, once. Run against
the real gateway and database; escalations are stored as raise_escalation stores them."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from opentelemetry.trace import SpanKind
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio.testing import WorkflowEnvironment

from services.escalations.ack import hide_ack_tokens_in_logs
from shared.bounds import PARAM_LEN
from shared.channels.links import (
    AckLinkError,
    ack_token,
    ack_url,
    base_url,
    order_url,
    read_ack_token,
    sign_claims,
)
from shared.db import session_scope
from shared.escalations.ack_links import AckLinkUse
from shared.escalations.models import Escalation
from shared.settings import Settings
from shared.telemetry import setup_tracing
from tests.conftest import Stack, run_stack, settings_for
from tests.span_capture import SpanCapture

QUALITY = "head:quality"
CHANNEL = "quality-group"
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
JSON = {"Accept": "application/json"}


@pytest.fixture
async def api(base_settings: Settings, ts_env: WorkflowEnvironment) -> AsyncIterator[Stack]:
    """The gateway alone (no workers: nothing here runs a workflow)."""
    settings = settings_for(base_settings, timezone="Asia/Shanghai")
    async with run_stack(settings, ts_env.client, workers=False) as running:
        yield running


async def store_escalation(engine: AsyncEngine, *, role: str = QUALITY) -> Escalation:
    """One open escalation of a made-up order, raised to `role`."""
    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:8]
    row = Escalation(
        key=f"ack:{tag}",
        kind="task_overdue",
        level=1,
        order_no=f"SO-ACK-{tag}",
        task_id=f"quality-{tag}",
        department="quality",
        role=role,
        due_at=now - timedelta(hours=3),
        breached_at=now - timedelta(hours=1),
        message=f"Incoming inspection of SO-ACK-{tag} is 1 h late",
        created_at=now,
    )
    async with session_scope(engine) as session:
        session.add(row)
        await session.flush()
        await session.refresh(row)
    return row


def link(
    stack: Stack,
    esc_id: int | None,
    *,
    role: str = QUALITY,
    now: datetime | None = None,
    lang: str = "zh",
) -> str:
    """The path and query of a fresh acknowledge link (the gateway's base left off)."""
    assert esc_id is not None
    url = ack_url(
        stack.settings,
        escalation_id=esc_id,
        role=role,
        channel=CHANNEL,
        now=now or datetime.now(UTC),
        lang=lang,
    )
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def row(engine: AsyncEngine, esc_id: int | None) -> Escalation:
    async with session_scope(engine) as session:
        found = await session.get(Escalation, esc_id)
        assert found is not None
        return found


async def uses(engine: AsyncEngine, esc_id: int | None) -> list[AckLinkUse]:
    async with session_scope(engine) as session:
        found = await session.execute(
            select(AckLinkUse).where(col(AckLinkUse.escalation_id) == esc_id)
        )
        return list(found.scalars())


def assert_error(response: object, status: int, error: str) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["error"] == error, body
    assert isinstance(body["detail"], str) and body["detail"], body
    return body


async def test_a_link_shows_the_escalation_then_acknowledges_it_once(
    api: Stack, engine: AsyncEngine
) -> None:
    esc = await store_escalation(engine)
    path = link(api, esc.id)

    for _ in range(2):  # a chat app's preview fetch, then the person: nothing changes
        page = await api.http.get(path, headers=HTML)
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "以质量部负责人身份确认收到" in page.text  # the role in words
        assert esc.order_no in page.text and esc.message in page.text
        # Due and breach times in the plant's zone.
        breached = esc.breached_at.astimezone(ZoneInfo("Asia/Shanghai"))
        assert f"{breached:%Y-%m-%d %H:%M} (Asia/Shanghai)" in page.text
        assert '<form method="post">' in page.text
    assert (await row(engine, esc.id)).state == "open"
    assert await uses(engine, esc.id) == []

    done = await api.http.post(path, headers=HTML)
    assert done.status_code == 200, done.text
    assert "已以质量部负责人身份确认收到" in done.text
    assert "<form" not in done.text
    listed = await api.http.get(
        "/escalations", params={"order_no": esc.order_no}, headers=api.token("o", "ops")
    )
    [shown] = listed.json()
    assert shown["state"] == "acked"
    assert shown["acked_by"] == f"{QUALITY} (one-click link in {CHANNEL})"
    [use] = await uses(engine, esc.id)
    assert use.role == QUALITY and use.channel == CHANNEL and use.used_by == "client 127.0.0.1"

    replayed = await api.http.post(path, headers=JSON)
    body = assert_error(replayed, 409, "ack_link_used")
    assert body["used_at"] == use.used_at.isoformat()
    replayed_page = await api.http.post(path, headers=HTML)
    assert replayed_page.status_code == 409
    assert "已于" in replayed_page.text and "使用过" in replayed_page.text
    seen_again = await api.http.get(path, headers=HTML)
    assert seen_again.status_code == 409 and "<form" not in seen_again.text
    # The replays changed nothing: still acknowledged once, when the link was used.
    assert (await row(engine, esc.id)).acked_at == use.used_at


async def test_english_page_and_json_answer(api: Stack, engine: AsyncEngine) -> None:
    esc = await store_escalation(engine)
    path = link(api, esc.id, lang="en")
    page = await api.http.get(path, headers=HTML)
    assert page.status_code == 200, page.text
    assert "Acknowledge as Head of Quality" in page.text and '<html lang="en">' in page.text
    # Without ?lang the browser's language decides; Chinese when it names neither.
    bare = path.split("?", 1)[0]
    by_header = await api.http.get(bare, headers={**HTML, "Accept-Language": "en-US,en;q=0.9"})
    assert "Acknowledge as Head of Quality" in by_header.text
    default = await api.http.get(bare, headers={**HTML, "Accept-Language": "de-DE"})
    assert "以质量部负责人身份确认收到" in default.text

    # A body without a bearer token is let in: the link is the credential.
    acked = await api.http.post(path, headers=JSON, json={})
    assert acked.status_code == 200, acked.text
    assert acked.json()["id"] == esc.id and acked.json()["state"] == "acked"
    assert acked.json()["acked_by"] == f"{QUALITY} (one-click link in {CHANNEL})"


async def test_two_uses_at_once_acknowledge_once(api: Stack, engine: AsyncEngine) -> None:
    esc = await store_escalation(engine)
    path = link(api, esc.id)
    answers = await asyncio.gather(*(api.http.post(path, headers=JSON) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
    assert {a.json()["error"] for a in answers if a.status_code == 409} == {"ack_link_used"}
    assert len(await uses(engine, esc.id)) == 1


async def test_an_expired_link_is_refused_with_410(api: Stack, engine: AsyncEngine) -> None:
    esc = await store_escalation(engine)
    made = datetime.now(UTC) - timedelta(hours=api.settings.ack_link_hours, minutes=1)
    path = link(api, esc.id, now=made)
    page = await api.http.get(path, headers=HTML)
    assert page.status_code == 410 and "过期" in page.text and "<form" not in page.text
    assert_error(await api.http.post(path, headers=JSON), 410, "ack_link_expired")
    assert (await api.http.post(path, headers=HTML)).status_code == 410
    assert (await row(engine, esc.id)).state == "open"
    assert await uses(engine, esc.id) == []


def _claims_of(path: str) -> tuple[dict[str, object], str]:
    token = path.split("?", 1)[0].rsplit("/", 1)[1]
    claims_part, _, mac = token.partition(".")
    claims = json.loads(base64.urlsafe_b64decode(claims_part + "=" * (-len(claims_part) % 4)))
    return claims, mac


def _with_claims(claims: dict[str, object], mac: str) -> str:
    raw = json.dumps(claims, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + mac


async def test_a_tampered_link_is_refused_as_invalid(api: Stack, engine: AsyncEngine) -> None:
    esc = await store_escalation(engine)
    other = await store_escalation(engine, role="division")
    claims, mac = _claims_of(link(api, esc.id))
    other_key = api.settings.model_copy(
        update={"actor_key": SecretStr("another-actor-key-" + "k" * 32)}
    )
    tokens = {
        "other escalation": _with_claims({**claims, "e": other.id}, mac),
        "other role": _with_claims({**claims, "r": "division"}, mac),
        "later expiry": _with_claims({**claims, "x": int(claims["x"]) + 3600}, mac),  # type: ignore[call-overload]
        "cut short": _with_claims(claims, mac)[:-3],
        "no signature": _with_claims(claims, mac).split(".")[0],
        "other key": sign_claims(other_key, claims),
        "not base64": "not*a*token.at*all",
    }
    for name, token in tokens.items():
        for headers in (JSON, HTML):
            posted = await api.http.post(f"/escalations/ack/{token}", headers=headers)
            assert posted.status_code == 403, (name, posted.text)
        assert_error(
            await api.http.post(f"/escalations/ack/{token}", headers=JSON), 403, "ack_link_invalid"
        )
        page = await api.http.get(f"/escalations/ack/{token}?lang=en", headers=HTML)
        assert page.status_code == 403 and "not valid" in page.text, name
    for stored in (esc, other):
        assert (await row(engine, stored.id)).state == "open"
        assert await uses(engine, stored.id) == []


async def test_a_link_for_another_role_is_refused_and_not_used_up(
    api: Stack, engine: AsyncEngine
) -> None:
    esc = await store_escalation(engine, role="division")
    path = link(api, esc.id, role=QUALITY)
    body = assert_error(await api.http.post(path, headers=JSON), 403, "wrong_role")
    assert body["role"] == "division" and body["link_role"] == QUALITY
    page = await api.http.post(path, headers=HTML)
    assert page.status_code == 403 and "事业部领导" in page.text  # the roles in words
    assert (await row(engine, esc.id)).state == "open"
    assert await uses(engine, esc.id) == []
    # Not used up: it is refused for its role again, never as used.
    assert_error(await api.http.post(path, headers=JSON), 403, "wrong_role")
    assert (await api.http.get(path, headers=HTML)).status_code == 403
    # The division's own link acknowledges it.
    acked = await api.http.post(link(api, esc.id, role="division"), headers=JSON)
    assert acked.status_code == 200 and acked.json()["acked_by"].startswith("division (")


async def test_a_link_to_an_escalation_acknowledged_in_the_api_names_who(
    api: Stack, engine: AsyncEngine
) -> None:
    esc = await store_escalation(engine)
    path = link(api, esc.id, lang="en")
    by_api = await api.http.post(f"/escalations/{esc.id}/ack", headers=api.token("hana", QUALITY))
    assert by_api.status_code == 200, by_api.text

    body = assert_error(await api.http.post(path, headers=JSON), 409, "already_acked")
    assert body["acked_by"] == "hana" and "hana" in str(body["detail"])
    page = await api.http.post(path, headers=HTML)
    assert page.status_code == 409 and "acknowledged by hana" in page.text
    shown = await api.http.get(path, headers=HTML)
    assert shown.status_code == 409 and "hana" in shown.text and "<form" not in shown.text
    # The failed acknowledgement used nothing up, and the escalation keeps who acknowledged it.
    assert await uses(engine, esc.id) == []
    assert (await row(engine, esc.id)).acked_by == "hana"


async def test_a_link_to_a_missing_escalation_is_404(api: Stack) -> None:
    path = link(api, 999_999_999)
    assert_error(await api.http.post(path, headers=JSON), 404, "not_found")
    assert (await api.http.get(path, headers=HTML)).status_code == 404


def test_order_and_base_urls(base_settings: Settings) -> None:
    local = base_settings.model_copy(update={"public_url": "", "desk_url": "", "http_port": 8123})
    assert base_url(local) == "http://127.0.0.1:8123"
    assert order_url(local, "SO 1/2") == "http://127.0.0.1:8123/orders/SO%201%2F2"
    public = local.model_copy(update={"public_url": "https://of.plant.cn/"})
    assert order_url(public, "SO-1") == "https://of.plant.cn/orders/SO-1"
    desk = public.model_copy(update={"desk_url": "https://of.plant.cn/desk/"})
    assert order_url(desk, "SO-1") == "https://of.plant.cn/desk/orders/SO-1"
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    url = ack_url(desk, escalation_id=7, role=QUALITY, channel=CHANNEL, now=now, lang="en")
    assert url.startswith("https://of.plant.cn/escalations/ack/") and url.endswith("?lang=en")


def test_token_claims_round_trip_and_fit_a_path_segment(base_settings: Settings) -> None:
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    made = [
        ack_token(base_settings, escalation_id=2**31 - 1, role="r" * 48, channel="c" * 20, now=now)
        for _ in range(2)
    ]
    assert made[0] != made[1]  # a new nonce each time
    claim = read_ack_token(base_settings, made[0], now=now)
    assert (claim.escalation_id, claim.role, claim.channel) == (2**31 - 1, "r" * 48, "c" * 20)
    assert claim.expires_at == now + timedelta(hours=base_settings.ack_link_hours)
    assert all(len(token) <= PARAM_LEN for token in made)
    with pytest.raises(AckLinkError) as expired:
        read_ack_token(base_settings, made[0], now=claim.expires_at)
    assert expired.value.code == "ack_link_expired"
    with pytest.raises(ValueError, match="shorter name"):
        ack_token(base_settings, escalation_id=1, role=QUALITY, channel="c" * 200, now=now)


async def test_the_token_stays_out_of_the_spans(
    base_settings: Settings, ts_env: WorkflowEnvironment, engine: AsyncEngine
) -> None:
    processor = SpanCapture()
    exporter = processor.exporter
    setup_tracing(base_settings, processors=[processor])
    try:
        async with run_stack(settings_for(base_settings), ts_env.client, workers=False) as api:
            esc = await store_escalation(engine)
            path = link(api, esc.id)
            token = path.split("?", 1)[0].rsplit("/", 1)[1]
            assert (await api.http.get(path, headers=HTML)).status_code == 200
            assert (await api.http.post(path, headers=JSON)).status_code == 200
        served = [s for s in exporter.get_finished_spans() if "/escalations/ack/" in s.name]
        assert sorted(s.name for s in served) == [
            "GET /escalations/ack/{token}",
            "POST /escalations/ack/{token}",
        ]
        # Every span but the test's own httpx client spans (the test is the caller that knows
        # the link; the gateway's spans must not).
        for span in exporter.get_finished_spans():
            if span.kind == SpanKind.CLIENT and span.name in ("GET", "POST"):
                continue
            shown = [span.name, *(str(v) for v in (span.attributes or {}).values())]
            assert not [text for text in shown if token in text], span.name
        targets = [str((s.attributes or {}).get("http.target")) for s in served]
        assert targets == ["/escalations/ack/***"] * 2
    finally:
        processor.shutdown()


def test_tokens_are_hidden_in_logged_lines(caplog: pytest.LogCaptureFixture) -> None:
    hide_ack_tokens_in_logs()
    token = "eyJlIjoxfQ.c2lnbmF0dXJl"
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "GET",
            f"/escalations/ack/{token}?lang=zh",
            "1.1",
            200,
        )
    assert caplog.messages == ['127.0.0.1:5000 - "GET /escalations/ack/***?lang=zh HTTP/1.1" 200']
