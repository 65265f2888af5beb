"""An administrator's test of a channel (`POST /escalations/channels/{name}/test`): the
message goes out once through a worker, a channel that takes it answers 200, one that refuses
it 502 `channel_refused` with the platform's answer, and both show in the channels' health."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from shared.settings import Settings
from tests.bots import bot_settings, served, tag, text_of
from tests.conftest import run_stack
from tests.fakes.platforms import DingTalkFake, WeComFake

SECRET = "SEC-channel-test-0123456789abcdef0123456789"


async def test_a_channel_test_reaches_the_chat_or_says_what_the_platform_answered(
    base_settings: Settings, ts_env: WorkflowEnvironment
) -> None:
    dingtalk, wecom = DingTalkFake(f"tok{tag()}", SECRET), WeComFake(f"key{tag()}")
    async with served(dingtalk, wecom) as (dingtalk_base, wecom_base):
        good = dingtalk.channel(dingtalk_base, name=f"quality-{tag()}", lang="zh")
        bad = wecom.channel(wecom_base, name=f"division-{tag()}", lang="en")
        settings = bot_settings(base_settings, [good, bad], [])
        wecom.fail_next(1, code=93000)
        async with run_stack(settings, ts_env.client) as stack:
            admin = stack.token("it-admin", "admin")
            took = await stack.http.post(f"/escalations/channels/{good.name}/test", headers=admin)
            refused = await stack.http.post(f"/escalations/channels/{bad.name}/test", headers=admin)
            missing = await stack.http.post("/escalations/channels/no-such/test", headers=admin)
            not_admin = await stack.http.post(
                f"/escalations/channels/{good.name}/test", headers=stack.token("o", "ops")
            )
            health = await stack.http.get("/escalations/channels", headers=stack.token("o", "ops"))

    assert took.status_code == 200, took.text
    assert took.json()["ok"] is True and took.json()["channel"] == good.name
    (message,) = dingtalk.accepted
    assert good.name in text_of(message) and "it-admin" in text_of(message)
    assert "测试消息" in text_of(message)

    assert refused.status_code == 502, refused.text
    assert refused.json()["error"] == "channel_refused"
    assert "93000" in refused.json()["detail"] and bad.name in refused.json()["detail"]
    assert wecom.accepted == [] and len(wecom.seen) == 1  # once: no retry

    assert missing.status_code == 404 and not_admin.status_code == 403
    shown = {channel["name"]: channel["health"] for channel in health.json()}
    assert shown[good.name]["last_success_at"] is not None
    assert shown[bad.name]["failures_24h"] == 1 and "93000" in shown[bad.name]["last_error"]
