# ruff: noqa: RUF001  (Chinese text uses full-width punctuation on purpose)
"""Each platform's sender against a local fake that checks the request as the platform does:
the message arrives signed and says what people need; an error code, a rate limit and a wrong
secret are failures with nothing secret in them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date

import httpx
import pytest

from shared.channels import platforms
from shared.channels.messages import digest_message, escalation_message
from shared.channels.model import Channel, DigestFacts, Message, SendResult
from shared.channels.platforms import DEFAULT_RATE_PER_MINUTE, rate_per_minute
from shared.channels.platforms.common import scrub
from shared.channels.platforms.webhook import body_of as webhook_body
from tests.conftest import free_port
from tests.fakes.base import serve
from tests.fakes.facts import NOW, escalation_facts
from tests.fakes.platforms import DingTalkFake, FeishuFake, SlackFake, WebhookFake, WeComFake
from tests.fakes.smtp import smtp_server

TOKEN = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2"
SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
FACTS = escalation_facts()
ZH, EN = escalation_message(FACTS, "zh"), escalation_message(FACTS, "en")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


async def send(
    channel: Channel, message: Message, client: httpx.AsyncClient, attempt: int = 1
) -> SendResult:
    return await platforms.send(
        channel, message, delivery_id="esc_41_0123abcd", attempt=attempt, client=client, timeout=5
    )


def assert_secret_free(result: SendResult, channel: Channel, *more: str) -> None:
    """Nothing of the URL's token, the secrets or the password is in the result."""
    text = repr(result)
    for secret in (channel.url, *channel.secrets, channel.smtp_password, *more):
        assert not secret or secret not in text, f"{secret!r} leaked into {text}"
    assert TOKEN not in text and SECRET not in text
    assert result.error, "a failure says why"


def assert_says_everything(text: str) -> None:
    """The Chinese escalation text names the order, customer, lateness, role, times, links."""
    for part in (
        "SO-2026-0412",
        "华电电力设备有限公司",
        "超期：2小时15分",
        "质量部负责人",
        "出厂检验",
        "2026-12-04 14:30 (Asia/Shanghai)",
        FACTS.order_url,
        str(FACTS.ack_url),
    ):
        assert part in text, f"{part!r} missing from {text}"


async def test_dingtalk_markdown_is_signed_and_says_what_is_late(client: httpx.AsyncClient) -> None:
    fake = DingTalkFake(TOKEN, SECRET)
    async with serve(fake) as base:
        result = await send(fake.channel(base), ZH, client)
    assert result.ok and result.code == "0", result
    [seen] = fake.accepted
    assert seen.query["access_token"] == TOKEN and seen.query["sign"]
    assert seen.body["msgtype"] == "markdown"
    assert seen.body["markdown"]["title"] == ZH.title
    text = seen.body["markdown"]["text"]
    assert_says_everything(text)
    assert f"[确认收到]({FACTS.ack_url})" in text


async def test_dingtalk_error_code_wrong_secret_and_rate_limit(client: httpx.AsyncClient) -> None:
    clock = Clock()
    fake = DingTalkFake(TOKEN, SECRET, limit_per_minute=2, clock=clock)
    async with serve(fake) as base:
        channel = fake.channel(base)
        fake.fail_next(1, code=300005)
        refused = await send(channel, ZH, client)
        wrong = await send(replace(channel, secrets=("SECwrongwrongwrong",)), ZH, client)
        sent = [await send(channel, ZH, client) for _ in range(2)]
        limited = await send(channel, ZH, client)
        clock.now += 61
        later = await send(channel, ZH, client)
    assert not refused.ok and refused.code == "300005" and "errcode 300005" in str(refused.error)
    assert not wrong.ok and wrong.code == "310000" and not wrong.rate_limited
    assert "sign not match" in str(wrong.error)
    assert all(r.ok for r in sent) and later.ok
    assert limited.rate_limited and limited.code == "130101" and limited.retry_after == 60
    assert [s.reason for s in fake.seen] == ["told to fail", "refused", "", "", "rate limited", ""]
    for result in (refused, wrong, limited):
        assert_secret_free(result, channel, "SECwrongwrongwrong")


async def test_wecom_markdown_with_its_key_and_cut_to_4096_bytes(client: httpx.AsyncClient) -> None:
    fake = WeComFake(TOKEN)
    long = replace(ZH, lines=(*ZH.lines, "很长的说明" * 600))
    async with serve(fake) as base:
        channel = fake.channel(base)
        result = await send(channel, ZH, client)
        cut = await send(channel, long, client)
        wrong_key = await send(
            Channel("wecom", "wecom", url=f"{base}/cgi-bin/webhook/send?key=nokey-{TOKEN[:20]}"),
            ZH,
            client,
        )
    assert result.ok and cut.ok, (result, cut)
    first, second = fake.accepted
    assert first.body["msgtype"] == "markdown"
    assert_says_everything(first.body["markdown"]["content"])
    content = second.body["markdown"]["content"]
    assert len(content.encode()) <= 4096 and str(FACTS.ack_url) in content
    assert not wrong_key.ok and wrong_key.code == "93000"
    assert TOKEN[:20] not in str(wrong_key.error)


async def test_wecom_error_code_and_rate_limit(client: httpx.AsyncClient) -> None:
    clock = Clock()

    async def awaited() -> float:
        return clock()

    fake = WeComFake(TOKEN, limit_per_minute=1, clock=awaited)
    async with serve(fake) as base:
        channel = fake.channel(base)
        fake.fail_next(1, code=40058)
        refused = await send(channel, ZH, client)
        ok = await send(channel, ZH, client)
        limited = await send(channel, ZH, client)
        clock.now += 60
        again = await send(channel, ZH, client)
    assert not refused.ok and refused.code == "40058" and not refused.rate_limited
    assert ok.ok and again.ok
    assert [s.at for s in fake.accepted] == [1_000.0, 1_060.0]
    assert limited.rate_limited and limited.code == "45009" and limited.retry_after == 60
    assert_secret_free(refused, channel)
    assert_secret_free(limited, channel)


async def test_feishu_card_is_signed_coloured_and_has_buttons(client: httpx.AsyncClient) -> None:
    fake = FeishuFake(TOKEN[:36], SECRET)
    async with serve(fake) as base:
        result = await send(fake.channel(base), ZH, client)
    assert result.ok, result
    [seen] = fake.accepted
    body = seen.body
    assert body["msg_type"] == "interactive" and body["timestamp"].isdigit() and body["sign"]
    card = body["card"]
    assert card["header"]["title"]["content"] == ZH.title
    assert card["header"]["template"] == "red"
    assert_says_everything(json.dumps(card, ensure_ascii=False))
    [actions] = [e for e in card["elements"] if e["tag"] == "action"]
    assert [b["url"] for b in actions["actions"]] == [FACTS.order_url, FACTS.ack_url]


async def test_feishu_older_bot_answers_status_code(client: httpx.AsyncClient) -> None:
    fake = FeishuFake(TOKEN[:36], SECRET, older=True)
    async with serve(fake) as base:
        result = await send(fake.channel(base), EN, client)
    assert result.ok and result.code == "0" and len(fake.accepted) == 1


async def test_feishu_wrong_secret_error_code_and_rate_limit(client: httpx.AsyncClient) -> None:
    clock = Clock()
    fake = FeishuFake(TOKEN[:36], SECRET, limit_per_minute=1, clock=clock)
    async with serve(fake) as base:
        channel = fake.channel(base)
        wrong = await send(replace(channel, secrets=("not-the-secret-at-all",)), ZH, client)
        fake.fail_next(1, code=19024)
        refused = await send(channel, ZH, client)
        ok = await send(channel, ZH, client)
        limited = await send(channel, ZH, client)
    assert not wrong.ok and wrong.code == "19021"
    assert not refused.ok and refused.code == "19024"
    assert ok.ok and limited.rate_limited and limited.code == "9499"
    for result in (wrong, refused, limited):
        assert_secret_free(result, channel, "not-the-secret-at-all")


async def test_slack_blocks_with_buttons(client: httpx.AsyncClient) -> None:
    fake = SlackFake(f"/services/T0PLANT01/B0BOT0001/{TOKEN[:24]}")
    async with serve(fake) as base:
        result = await send(fake.channel(base), EN, client)
    assert result.ok and result.status == 200, result
    [seen] = fake.accepted
    header, section, actions = seen.body["blocks"]
    assert header["text"]["text"] == EN.title
    text = section["text"]["text"]
    for part in ("SO-2026-0412", "华电电力设备有限公司", "Late by: 2 h 15 min", "Head of Quality"):
        assert part in text
    assert [b["url"] for b in actions["elements"]] == [FACTS.order_url, FACTS.ack_url]
    assert f"<{FACTS.ack_url}|Acknowledge>" in seen.body["text"]


async def test_slack_error_codes_and_rate_limit(client: httpx.AsyncClient) -> None:
    fake = SlackFake(f"/services/T0PLANT01/B0BOT0001/{TOKEN[:24]}", limit_per_minute=1)
    async with serve(fake) as base:
        channel = fake.channel(base)
        fake.fail_next(1, code="invalid_payload")
        refused = await send(channel, EN, client)
        ok = await send(channel, EN, client)
        limited = await send(channel, EN, client)
        wrong = await send(replace(channel, url=channel.url[:-3] + "xyz"), EN, client)
    assert not refused.ok and refused.status == 400 and refused.code == "invalid_payload"
    assert ok.ok
    assert limited.rate_limited and limited.status == 429 and limited.retry_after == 30
    assert not wrong.ok and wrong.code == "no_service" and wrong.status == 404
    for result in (refused, limited):
        assert_secret_free(result, channel)
    assert TOKEN[:21] not in str(wrong.error)


async def test_webhook_sends_the_data_with_both_signatures(client: httpx.AsyncClient) -> None:
    fake = WebhookFake(SECRET)
    async with serve(fake) as base:
        result = await send(fake.channel(base), EN, client, attempt=3)
    assert result.ok and result.status == 200, result
    [seen] = fake.accepted
    assert seen.raw == webhook_body(EN)
    assert seen.body == {**EN.data}
    assert seen.headers["x-orderflow-delivery"] == "3"
    assert seen.headers["webhook-id"] == "esc_41_0123abcd"
    assert seen.headers["x-orderflow-signature"].startswith("sha256=")
    assert "x-orderflow-event" not in seen.headers


async def test_webhook_rotation_verifies_with_either_secret(client: httpx.AsyncClient) -> None:
    new, old = "new-secret-2026-12", "old-secret-2026-06"
    knows_new = WebhookFake(new)
    knows_old = WebhookFake(old, orderflow_signature=False)
    knows_other = WebhookFake("some-other-secret", orderflow_signature=False)
    results = []
    for fake in (knows_new, knows_old, knows_other):
        async with serve(fake) as base:
            results.append(await send(fake.channel(base, new, old), EN, client))
    assert results[0].ok and results[1].ok
    assert len(knows_new.accepted[0].headers["webhook-signature"].split(" ")) == 2
    refused = results[2]
    assert not refused.ok and refused.status == 401 and knows_other.refused
    assert new not in str(refused) and old not in str(refused)


async def test_webhook_event_header_errors_and_rate_limit(client: httpx.AsyncClient) -> None:
    digest = digest_message(
        DigestFacts("quality", date(2026, 12, 4), NOW, "Asia/Shanghai", (FACTS,)), "en"
    )
    fake = WebhookFake(SECRET, limit_per_minute=1)
    async with serve(fake) as base:
        channel = fake.channel(base)
        fake.fail_next(1, status=503)
        failed = await send(channel, digest, client)
        ok = await send(channel, digest, client)
        limited = await send(channel, digest, client)
    assert not failed.ok and failed.status == 503 and not failed.rate_limited
    assert ok.ok and fake.accepted[0].headers["x-orderflow-event"] == "escalation_digest"
    assert limited.rate_limited and limited.retry_after == 30
    assert_secret_free(failed, channel)


async def test_no_answer_is_a_failure_without_the_url(client: httpx.AsyncClient) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/robot/send?access_token={TOKEN}"
    for kind in ("dingtalk", "wecom", "feishu", "slack", "webhook"):
        channel = Channel(kind, kind, url=url, secrets=(SECRET,))  # type: ignore[arg-type]
        result = await send(channel, ZH, client)
        assert not result.ok and result.status is None and "ConnectError" in str(result.error)
        assert_secret_free(result, channel)


def test_each_type_has_a_sender_and_a_default_pace() -> None:
    assert set(platforms.SENDERS) == set(DEFAULT_RATE_PER_MINUTE)
    assert DEFAULT_RATE_PER_MINUTE["dingtalk"] == 20 and DEFAULT_RATE_PER_MINUTE["feishu"] == 100
    assert rate_per_minute(Channel("d", "dingtalk")) == 20
    assert rate_per_minute(Channel("d", "dingtalk", rate_per_minute=5)) == 5


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_email_letter_with_login_text_html_and_a_stable_message_id(
    client: httpx.AsyncClient,
) -> None:
    tricky = escalation_message(escalation_facts(customer="Ada & <Sons>"), "zh")
    async with smtp_server(username="orderflow", password="mail-pass-9f8e7d") as smtp:
        channel = smtp.channel()
        first = await send(channel, tricky, client, attempt=1)
        again = await send(channel, tricky, client, attempt=2)
    assert first.ok and again.ok, (first, again)
    letter, resent = smtp.letters
    mail = letter.message
    assert letter.login == "orderflow" and letter.rcpt_tos == ("quality-head@plant.example",)
    assert mail["Subject"] == tricky.title and mail["From"] == "orderflow@plant.example"
    assert "esc_41_0123abcd" in mail["Message-ID"]
    assert resent.message["Message-ID"] == mail["Message-ID"]
    assert resent.message["X-Orderflow-Delivery"] == "2"
    plain = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert plain is not None and html is not None
    text = plain.get_content()
    assert "Ada & <Sons>" in text and str(FACTS.ack_url) in text and "超期：2小时15分" in text
    markup = html.get_content()
    assert "Ada &amp; &lt;Sons&gt;" in markup and "<Sons>" not in markup
    assert f'href="{FACTS.order_url}"' in markup


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_email_4xx_is_transient_5xx_and_bad_login_are_refusals(
    client: httpx.AsyncClient,
) -> None:
    password = "mail-pass-9f8e7d"
    async with smtp_server(username="orderflow", password=password) as smtp:
        channel = smtp.channel()
        smtp.fail_next(1, 451, "4.3.0 try again later")
        deferred = await send(channel, EN, client)
        smtp.fail_next(1, 550, "5.1.1 mailbox unavailable")
        refused = await send(channel, EN, client)
        bad_login = await send(smtp.channel(password="wrong-pass-1234"), EN, client)
        ok = await send(channel, EN, client)
    assert not deferred.ok and deferred.rate_limited and deferred.code == "451"
    assert not refused.ok and not refused.rate_limited and refused.code == "550"
    assert not bad_login.ok and bad_login.code == "535" and smtp.failed_logins >= 1
    assert ok.ok and len(smtp.letters) == 1
    for result in (deferred, refused, bad_login):
        assert_secret_free(result, channel, password, "wrong-pass-1234")


async def test_email_server_down_is_a_failure_without_the_password(
    client: httpx.AsyncClient,
) -> None:
    channel = Channel(
        "mail",
        "email",
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_security="none",
        smtp_username="orderflow",
        smtp_password="mail-pass-9f8e7d",
        mail_from="orderflow@plant.example",
        mail_to=("ops@plant.example",),
    )
    result = await send(channel, EN, client)
    assert not result.ok and result.code is None and "e-mail: no answer" in str(result.error)
    assert_secret_free(result, channel, "mail-pass-9f8e7d")


def test_scrub_hides_the_url_its_tokens_and_the_secrets() -> None:
    channel = Channel(
        "feishu",
        "feishu",
        url=f"https://user:pw-{TOKEN[:8]}@open.feishu.cn/open-apis/bot/v2/hook/{TOKEN[:36]}?k={TOKEN[40:]}",
        secrets=(SECRET,),
    )
    text = (
        f"POST {channel.url} failed; hook {TOKEN[:36]} key {TOKEN[40:]} "
        f"password pw-{TOKEN[:8]} secret {SECRET}; send too fast at open-apis/bot"
    )
    scrubbed = scrub(text, channel)
    for secret in (TOKEN[:36], TOKEN[40:], f"pw-{TOKEN[:8]}", SECRET):
        assert secret not in scrubbed
    assert "send too fast at open-apis/bot" in scrubbed
