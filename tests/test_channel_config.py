"""The channels' configuration (shared/channels/config.py): what a misconfigured channel or
route is refused with (named, and never showing a URL, secret or password), where secrets are
read from, and the legacy webhooks as channels. Which channels an escalation or event goes to:
tests/test_channel_routing.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.channels.config import ChannelConfigError, load_channel_book
from shared.channels.model import PLAN_REPORT
from shared.channels.routing import ChannelBook
from shared.settings import Settings

# Values that must never appear in an error: the token in the URLs, the secrets, a password.
TOKEN = "tok3f9a1c77e2b04d5e"
SECRET = "SECsig-9d41be07aa52c3f1"
PASSWORD = "pw-77c0e1d9b3a4"
HOST = "127.0.0.1:9"
DINGTALK_URL = f"http://{HOST}/robot/send?access_token={TOKEN}"
UNSET_ENV = "ORDERFLOW_TEST_CHANNEL_UNSET_7F3A"


def dingtalk(name: str = "quality-group", **changes: object) -> dict[str, object]:
    return {"name": name, "type": "dingtalk", "url": DINGTALK_URL, "secret": SECRET, **changes}


def wecom(name: str = "division-group", **changes: object) -> dict[str, object]:
    url = f"http://{HOST}/cgi-bin/webhook/send?key={TOKEN}"
    return {"name": name, "type": "wecom", "url": url, **changes}


def email(name: str = "qm-mail", **changes: object) -> dict[str, object]:
    return {
        "name": name,
        "type": "email",
        "smtp_host": "127.0.0.1",
        "smtp_username": "orderflow",
        "password": PASSWORD,
        "from": "orderflow@plant.cn",
        "to": ["Quality Manager <qm@plant.cn>"],
        **changes,
    }


def without(channel: dict[str, object], *keys: str) -> dict[str, object]:
    return {key: value for key, value in channel.items() if key not in keys}


def sales_task(book: ChannelBook) -> list[str]:
    """Where a sales task's first escalation goes."""
    return book.for_escalation(kind="task_overdue", level=1, department="sales", role="sales")


def assert_hidden(text: str, *also: str) -> None:
    for value in (TOKEN, SECRET, PASSWORD, HOST, *also):
        assert value not in text


QUALITY, DIVISION = 'channel "quality-group"', 'channel "division-group"'
# (configuration, what the error names, a fragment of what it says)
REFUSED: list[tuple[object, str, str]] = [
    ([dingtalk(type="dingding")], QUALITY, "type must be one of"),
    ([dingtalk(url=f"htp://{HOST}/send?access_token={TOKEN}")], QUALITY, "https://"),
    ([dingtalk(url=f"http://[{HOST}/send?access_token={TOKEN}")], QUALITY, "not a URL"),
    ([dingtalk(url=f"http:///send?access_token={TOKEN}")], QUALITY, "with a host"),
    ([dingtalk(url=f"http://{HOST}/send?a={TOKEN} b")], QUALITY, "spaces"),
    ([dingtalk(url=f"http://{HOST}/send?token={TOKEN}")], QUALITY, "access_token"),
    ([wecom(url=f"http://{HOST}/send?k={TOKEN}")], DIVISION, "key query"),
    (
        [{"name": "fs", "type": "feishu", "url": f"http://{HOST}/hook/", "secret": SECRET}],
        'channel "fs"',
        "last path segment",
    ),
    ([{"name": "sl", "type": "slack", "url": f"http://{HOST}"}], 'channel "sl"', "path"),
    ([{"name": "sl", "type": "slack"}], 'channel "sl"', "needs its URL"),
    ([without(dingtalk(), "secret")], QUALITY, "加签"),
    (
        [{"name": "fs", "type": "feishu", "url": f"http://{HOST}/hook/{TOKEN}"}],
        'channel "fs"',
        "签名校验",
    ),
    ([dingtalk(secret=None)], QUALITY, "secret must be a non-empty string"),
    ([dingtalk(secret_env=UNSET_ENV)], QUALITY, "give one of secret"),
    ([wecom(secret=SECRET)], DIVISION, "token is part of its URL"),
    ([dingtalk(sekret=SECRET)], QUALITY, "unknown key(s) sekret"),
    ([dingtalk() | {DINGTALK_URL: 1}], QUALITY, "not a setting name"),
    ([dingtalk(lang="de")], QUALITY, "lang"),
    ([dingtalk(rate_per_minute=-1)], QUALITY, "rate_per_minute"),
    ([dingtalk(rate_per_minute=True)], QUALITY, "rate_per_minute"),
    ([dingtalk(name="Quality Group")], "channel 1", "needs a name"),
    ([dingtalk(name=DINGTALK_URL)], "channel 1", "needs a name"),
    ([dingtalk(), dingtalk()], QUALITY, "given twice"),
    (["quality"], "channel 1", "JSON object"),
    (
        [{"name": "hook", "type": "webhook", "url": f"http://{HOST}/h", "previous_secret": SECRET}],
        'channel "hook"',
        "current one too",
    ),
    ([email(smtp_host="")], 'channel "qm-mail"', "smtp_host"),
    ([email(smtp_security="ssl")], 'channel "qm-mail"', "smtp_security"),
    ([email(smtp_port=70000)], 'channel "qm-mail"', "smtp_port"),
    ([email(smtp_username="")], 'channel "qm-mail"', "needs smtp_username"),
    ([email(to=[])], 'channel "qm-mail"', "non-empty list"),
    ([email(to="qm@plant.cn")], 'channel "qm-mail"', "non-empty list"),
    ([email(to=["qm@plant.cn", "quality manager"])], 'channel "qm-mail"', "to[1] is not"),
    ([email(**{"from": "orderflow"})], 'channel "qm-mail"', "from is not"),
    ({"channels": [dingtalk()], "routes": [{"channels": ["nobody"]}]}, "route 1", '"nobody"'),
    ({"channels": [dingtalk()], "routes": [{"channels": []}]}, "route 1", "empty list"),
    ({"channels": [dingtalk()], "routes": [{"level": 1}]}, "route 1", "needs channels"),
    (
        {
            "channels": [dingtalk()],
            "routes": [
                {"channels": ["quality-group"]},
                {"channels": ["quality-group"], "level": 3},
            ],
        },
        "route 2",
        "level must be 1",
    ),
    (
        {"channels": [dingtalk()], "routes": [{"channels": ["quality-group"], "level": "1"}]},
        "route 1",
        "whole number",
    ),
    (
        {"channels": [dingtalk()], "routes": [{"channels": ["quality-group"], "levle": 1}]},
        "route 1",
        "unknown key(s) levle",
    ),
    (
        {"channels": [dingtalk()], "routes": [{"channels": ["quality-group"], "department": "qa"}]},
        "route 1",
        "unknown department(s) qa",
    ),
    (
        {"channels": [dingtalk()], "routes": [{"channels": ["quality-group"], "role": "boss"}]},
        "route 1",
        "unknown role(s) boss",
    ),
    (
        {"channels": [dingtalk()], "routes": [{"channels": ["quality-group"], "event": "daily"}]},
        "route 1",
        "unknown event(s) daily",
    ),
    (
        {
            "channels": [dingtalk()],
            "routes": [{"channels": ["quality-group"], "event": PLAN_REPORT, "level": 2}],
        },
        "route 1",
        "event route takes only",
    ),
    ({"channels": [dingtalk()], "routes": ["quality-group"]}, "route 1", "JSON object"),
    ({"channels": [dingtalk()], "sinks": []}, "ORDERFLOW_CHANNELS", "unknown key(s) sinks"),
    ({"routes": []}, "ORDERFLOW_CHANNELS", "JSON list of channels"),
]


@pytest.mark.parametrize(("config", "named", "says"), REFUSED)
def test_misconfiguration_is_refused_by_name_without_secrets(
    config: object, named: str, says: str, tmp_path: Path
) -> None:
    with pytest.raises(ChannelConfigError) as caught:
        load_channel_book(channels_json=json.dumps(config))
    message = str(caught.value)
    assert message.startswith(named) and says in message, message
    assert_hidden(message)
    # Built as settings, the process stops with the same sentence and shows no input.
    with pytest.raises(ValidationError) as refused:
        Settings(home=tmp_path, channels=json.dumps(config))
    assert message in str(refused.value)
    assert_hidden(str(refused.value))


def test_a_missing_or_empty_secret_file_and_an_unset_variable_are_refused(tmp_path: Path) -> None:
    missing, empty = tmp_path / f"{SECRET}-missing", tmp_path / "empty"
    empty.write_text("\n")
    cases = [
        (
            without(dingtalk(), "secret") | {"secret_file": str(missing)},
            "cannot be read (No such file",
        ),
        (
            without(dingtalk(), "secret") | {"secret_file": str(tmp_path)},
            "cannot be read (Is a directory",
        ),
        (without(dingtalk(), "secret") | {"secret_file": str(empty)}, "is empty"),
        (without(dingtalk(), "url") | {"url_env": UNSET_ENV}, "unset or empty"),
        (without(dingtalk(), "secret") | {"secret_env": TOKEN}, "unset or empty"),
        (
            without(dingtalk(), "url") | {"url_env": DINGTALK_URL},
            "must name an environment variable",
        ),
    ]
    for channel, says in cases:
        config = [channel]
        with pytest.raises(ChannelConfigError) as caught:
            load_channel_book(channels_json=json.dumps(config), environ={})
        message = str(caught.value)
        assert message.startswith('channel "quality-group": ') and says in message, message
        assert_hidden(message, str(tmp_path))
        with pytest.raises(ValidationError) as refused:
            Settings(home=tmp_path, channels=json.dumps(config))
        assert_hidden(str(refused.value), str(tmp_path))


def test_both_sources_unreadable_file_and_bad_json_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "channels.json"
    path.write_text(json.dumps([dingtalk()]))
    with pytest.raises(ValidationError) as both:
        Settings(home=tmp_path, channels=json.dumps([dingtalk()]), channels_file=path)
    assert "ORDERFLOW_CHANNELS and ORDERFLOW_CHANNELS_FILE are both set" in str(both.value)
    assert_hidden(str(both.value))
    with pytest.raises(ChannelConfigError, match="ORDERFLOW_CHANNELS_FILE cannot be read"):
        load_channel_book(channels_file=tmp_path / "nowhere.json")
    with pytest.raises(ChannelConfigError) as bad_json:
        load_channel_book(channels_json=json.dumps([dingtalk()])[:-2])
    assert "ORDERFLOW_CHANNELS is not valid JSON" in str(bad_json.value)
    assert_hidden(str(bad_json.value))


def test_prod_wants_long_signing_secrets() -> None:
    config = json.dumps([dingtalk(secret="SECshort")])
    load_channel_book(channels_json=config)
    with pytest.raises(ChannelConfigError) as caught:
        load_channel_book(channels_json=config, prod=True)
    assert str(caught.value) == (
        'channel "quality-group": in prod the secret from secret must be 16+ characters'
    )
    load_channel_book(channels_json=json.dumps([dingtalk()]), prod=True)


def test_a_file_config_with_secrets_from_files_and_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url_file, secret_file = tmp_path / "url", tmp_path / "secret"
    url_file.write_text(DINGTALK_URL + "\n")  # as `kubectl create secret --from-file` keeps it
    secret_file.write_text(SECRET + "\n")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("TEST_FEISHU_URL", f"http://{HOST}/open-apis/bot/v2/hook/{TOKEN}")
    config = [
        {
            "name": "quality-group",
            "type": "dingtalk",
            "url_file": str(url_file),
            "secret_file": str(secret_file),
            "lang": "en",
        },
        {
            "name": "feishu",
            "type": "feishu",
            "url_env": "TEST_FEISHU_URL",
            "secret": SECRET,
            "rate_per_minute": 5,
        },
        without(email(), "password")
        | {"password_env": "TEST_SMTP_PASSWORD", "smtp_security": "tls"},
        {"name": "slack", "type": "slack", "url": f"http://{HOST}/services/T/B/{TOKEN}"},
    ]
    path = tmp_path / "channels.json"
    path.write_text(json.dumps(config))
    monkeypatch.setenv("ORDERFLOW_CHANNELS_FILE", str(path))
    book = Settings(home=tmp_path).channel_book()
    assert list(book.channels) == ["quality-group", "feishu", "qm-mail", "slack"]
    ding, feishu, mail, slack = book.channels.values()
    assert (ding.url, ding.secrets, ding.lang, ding.rate_per_minute) == (
        DINGTALK_URL,
        (SECRET,),
        "en",
        20,
    )
    assert (feishu.url.endswith(TOKEN), feishu.rate_per_minute, feishu.lang) == (True, 5, "zh")
    assert (mail.smtp_password, mail.smtp_port, mail.smtp_security) == (PASSWORD, 465, "tls")
    assert mail.mail_to == ("Quality Manager <qm@plant.cn>",)
    assert (slack.secrets, slack.rate_per_minute) == ((), 60)
    assert_hidden(repr(book))
    assert book.get("slack") is slack
    with pytest.raises(KeyError, match="no channel named 'teams'"):
        book.get("teams")


def test_an_empty_channels_file_variable_means_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERFLOW_CHANNELS_FILE", "")
    monkeypatch.setenv("ORDERFLOW_CHANNELS", json.dumps([wecom()]))
    settings = Settings(home=tmp_path)
    assert settings.channels_file is None
    assert list(settings.channel_book().channels) == ["division-group"]
    assert TOKEN not in repr(settings)


def test_legacy_webhooks_are_webhook_channels_beside_the_configured_ones(tmp_path: Path) -> None:
    own = {
        "name": "erp",
        "type": "webhook",
        "url": f"http://{HOST}/erp",
        "secret": "current-secret",
        "previous_secret": "previous-secret",
    }
    settings = Settings(
        home=tmp_path,
        webhook_secret="the-webhook-secret",
        channels=json.dumps([own, wecom()]),
        escalation_webhooks=f"http://{HOST}/a?t={TOKEN}, http://{HOST}/b",
        event_webhooks=f"http://{HOST}/events",
    )
    assert TOKEN not in repr(settings)
    book = settings.channel_book()
    assert list(book.channels) == [
        "erp",
        "division-group",
        "escalation-webhook-1",
        "escalation-webhook-2",
        "event-webhook-1",
    ]
    assert book.get("erp").secrets == ("current-secret", "previous-secret")
    legacy = book.get("escalation-webhook-1")
    assert (legacy.type, legacy.url, legacy.secrets) == (
        "webhook",
        f"http://{HOST}/a?t={TOKEN}",
        ("the-webhook-secret",),
    )
    assert sales_task(book) == [
        "erp",
        "division-group",
        "escalation-webhook-1",
        "escalation-webhook-2",
    ]
    assert book.for_event(PLAN_REPORT) == ["erp", "division-group", "event-webhook-1"]
    # A test's settings copied with other webhooks route to those.
    copied = settings.model_copy(update={"escalation_webhooks": [f"http://{HOST}/c"]})
    assert sales_task(copied.channel_book())[-1] == "escalation-webhook-1"
    assert copied.channel_book().get("escalation-webhook-1").url == f"http://{HOST}/c"


def test_legacy_webhooks_are_checked_and_their_names_kept(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as bad:
        Settings(home=tmp_path, escalation_webhooks=f"http://{HOST}/a,{HOST}/b?t={TOKEN}")
    assert 'channel "escalation-webhook-2": URL 2 of ORDERFLOW_ESCALATION_WEBHOOKS' in str(
        bad.value
    )
    assert_hidden(str(bad.value))
    clash = json.dumps([wecom(name="event-webhook-1")])
    with pytest.raises(ValidationError, match='channel "event-webhook-1": the name is given twice'):
        Settings(home=tmp_path, channels=clash, event_webhooks=f"http://{HOST}/events")
