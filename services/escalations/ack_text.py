# ruff: noqa: RUF001  (Chinese text uses full-width punctuation on purpose)
"""The words of the one-click acknowledge pages, in Chinese and English, and the sentence each
refusal says there (times in the plant's zone)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from shared.channels.model import Lang
from shared.channels.texts import role_text
from shared.errors import APIError

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "确认收到升级事件",
        "message": "内容",
        "order": "订单",
        "kind": "类型",
        "task": "任务",
        "level": "级别",
        "role": "提交给",
        "due": "应完成时间",
        "breached": "超时时间",
        "acked_by": "确认人",
        "acked_at": "确认时间",
        "confirm": "以{role}身份确认收到",
        "expires": "此链接仅可使用一次，有效期至",
        "done": "已以{role}身份确认收到。",
        "ack_link_invalid": "此确认链接无效（被修改或不完整）。请从消息中复制完整链接，"
        "或在工作台中确认。",
        "ack_link_expired": "此确认链接已于{at}过期。请在工作台中确认。",
        "ack_link_used": "此确认链接已于{at}使用过，每个链接只能使用一次。",
        "not_found": "此链接所指的升级事件不存在。",
        "wrong_role": "此链接以{link_role}身份确认，但该升级事件已提交给{role}，"
        "请使用发给{role}的消息中的链接。",
        "already_acked": "该升级事件已由{by}于{at}确认。",
    },
    "en": {
        "title": "Acknowledge escalation",
        "message": "Message",
        "order": "Order",
        "kind": "Kind",
        "task": "Task",
        "level": "Level",
        "role": "Raised to",
        "due": "Due",
        "breached": "Breached",
        "acked_by": "Acknowledged by",
        "acked_at": "Acknowledged at",
        "confirm": "Acknowledge as {role}",
        "expires": "This link works once, until",
        "done": "Acknowledged as {role}.",
        "ack_link_invalid": "This acknowledge link is not valid (changed or cut short). Copy "
        "the whole link from the message, or acknowledge in the desk.",
        "ack_link_expired": "This acknowledge link expired at {at}. Acknowledge in the desk.",
        "ack_link_used": "This acknowledge link was already used at {at}; each link works once.",
        "not_found": "The escalation this link is for does not exist.",
        "wrong_role": "This link acknowledges as {link_role}, but the escalation is raised to "
        "{role}: use the link in the message sent to {role}.",
        "already_acked": "This escalation was acknowledged by {by} at {at}.",
    },
}


def _local(iso: object, zone: str) -> str:
    if not isinstance(iso, str):
        return "—"
    return f"{datetime.fromisoformat(iso).astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} ({zone})"


def refusal_sentence(lang: str, exc: APIError, zone: str) -> str:
    """What the page says for a refusal with one of the link's codes; the API's own
    sentence for any other."""
    words = TEXT[lang]
    extra = exc.extra
    if exc.error == "ack_link_expired":
        return words["ack_link_expired"].format(at=_local(extra.get("expires_at"), zone))
    if exc.error == "ack_link_used":
        return words["ack_link_used"].format(at=_local(extra.get("used_at"), zone))
    if exc.error == "wrong_role":
        language: Lang = "en" if lang == "en" else "zh"
        return words["wrong_role"].format(
            link_role=role_text(str(extra.get("link_role")), language),
            role=role_text(str(extra.get("role")), language),
        )
    if exc.error == "already_acked":
        by = extra.get("acked_by") or "—"
        return words["already_acked"].format(by=by, at=_local(extra.get("acked_at"), zone))
    if exc.error in ("ack_link_invalid", "not_found"):
        return words[exc.error]
    return exc.detail
