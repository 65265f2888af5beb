# ruff: noqa: RUF001  (Chinese text uses full-width punctuation on purpose)
"""The words the escalation bots' messages are made of, in Chinese and English.

Escalation kinds, task kinds, departments and roles each have a phrase per language; a code
with no phrase (a kind added later) is shown as it is. Durations and times are written here
too, so every message says them the same way.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from shared.channels.model import Lang

# Escalation kinds: what is late or wrong, (zh, en).
ESCALATION_KINDS: dict[str, tuple[str, str]] = {
    "bad_data": ("数据异常", "Bad data"),
    "branch_failed": ("流程分支失败", "A process branch failed"),
    "delivery_delay": ("交期延误", "Delivery delayed"),
    "delivery_refused": ("客户拒收", "Delivery refused by the customer"),
    "design_change_overdue": ("设计变更超期", "Design change overdue"),
    "drawings_late": ("图纸发布超期", "Drawings late"),
    "late_supply": ("供货延迟", "Supplier delivery late"),
    "material_shortage": ("物料短缺", "Material shortage"),
    "milestone_overdue": ("计划节点超期", "Plan milestone overdue"),
    "ncr": ("不合格品待处理", "Nonconformance (NCR) open"),
    "picking_late": ("配料超期", "Picking late"),
    "requisition": ("请购待处理", "Purchase requisition waiting"),
    "reserved": ("库存预留待处理", "Stock reservation waiting"),
    "serious_nonconformance": ("严重不合格", "Serious nonconformance"),
    "short_pick": ("配料不齐", "Short pick"),
    "task_overdue": ("任务超期", "Task overdue"),
    "delivery_failed": ("消息推送失败", "Bot delivery failed"),
    "channel_failing": ("通知渠道故障", "Notification channel failing"),
    "calendar_unconfirmed": ("工厂日历未确认", "Plant calendar not confirmed"),
}

# Task kinds (shared/tasks/kinds.py): the work a task asks for, (zh, en).
TASK_KINDS: dict[str, tuple[str, str]] = {
    "engineering.contract_review": ("合同技术评审", "Contract review"),
    "procurement.lead_time_review": ("采购周期评审", "Lead-time review"),
    "planning.delivery_review": ("交期评审", "Delivery-date review"),
    "sales.management_approval": ("管理层审批", "Management approval"),
    "sales.confirm_delivery": ("与客户确认交期", "Confirm delivery with the customer"),
    "planning.master_plan": ("编制主计划", "Master plan"),
    "sales.renegotiate_delivery": ("重新商定交期", "Renegotiate delivery"),
    "engineering.release_bom": ("发布BOM", "Release the BOM"),
    "engineering.release_drawings": ("发布图纸", "Release the drawings"),
    "procurement.special_approval": ("特殊采购审批", "Special purchase approval"),
    "procurement.stock_approval": ("备库审批", "Stock purchase approval"),
    "procurement.place_po": ("下采购订单", "Place the purchase order"),
    "procurement.chase_supply": ("催货", "Chase the supplier"),
    "quality.incoming_inspection": ("来料检验", "Incoming inspection"),
    "quality.ncr_judgement": ("不合格品评审", "NCR judgement"),
    "planning.ncr_disposition": ("不合格品处置", "NCR disposition"),
    "warehouse.picking": ("配料出库", "Picking"),
    "engineering.design_change": ("设计变更", "Design change"),
    "production.assembly": ("装配", "Assembly"),
    "production.confirm_issue": ("确认领料", "Confirm the material issue"),
    "planning.missing_part_analysis": ("缺件分析", "Missing-part analysis"),
    "quality.process_confirmation": ("工序确认", "Process confirmation"),
    "production.submit_inspection": ("报检", "Submit for final inspection"),
    "quality.final_inspection": ("出厂检验", "Final inspection"),
    "production.correct_defects": ("缺陷整改", "Correct the defects"),
    "sales.ship": ("发货", "Ship"),
    "sales.delivery_confirmed": ("确认客户签收", "Confirm the customer received it"),
    "aftersales.commissioning": ("安装调试", "Commissioning"),
    "sales.settlement": ("结算回款", "Settlement"),
    "sales.evaluation": ("项目评价", "Evaluation"),
    "sales.ship_date": ("确认发货日期", "Expected ship date"),
    "sales.change_agreement": ("变更协议", "Change agreement"),
    "production.fit_missing_parts": ("缺件装配", "Fit the missing parts"),
    "quality.sign_fitted_parts": ("缺件装配签字", "Sign the fitted parts"),
    "sales.missing_parts_shipment": ("缺件另行发货", "Missing parts: ship separately?"),
    "aftersales.case_response": ("售后首次响应", "Service case: first response"),
    "aftersales.case_on_site": ("售后上门服务", "Service case: on site"),
    "aftersales.case_resolve": ("售后问题解决", "Service case: resolved"),
    "sales.order_audit": ("订单审核", "Order audit"),
    "sales.collect_payment": ("催收货款", "Collect payment"),
    "sales.cancellation_settlement": ("取消订单费用或补偿", "Cancellation fee or compensation"),
    "sales.shipping_check": ("发货前检查（地址、包装）", "Shipping check (address, packaging)"),
    "production.drawing_check": ("图纸确认", "Drawing check"),
    "engineering.drawing_question": ("图纸疑问答复", "Answer a drawing question"),
    "production.appearance_check": ("物料外观确认", "Material appearance check"),
    "production.hand_over_documents": ("合格证说明书移交", "Hand documents to quality"),
    "procurement.confirm_promise": ("确认到货日期", "Confirm the promised date"),
}

DEPARTMENT_NAMES: dict[str, tuple[str, str]] = {
    "sales": ("销售部", "Sales"),
    "planning": ("计划部", "Planning"),
    "engineering": ("技术部", "Engineering"),
    "procurement": ("采购部", "Procurement"),
    "warehouse": ("仓储部", "Warehouse"),
    "quality": ("质量部", "Quality"),
    "production": ("生产部", "Production"),
    "aftersales": ("售后服务部", "After-sales"),
}

# The plan's milestones (shared/payloads.py MILESTONES), (zh, en).
MILESTONE_NAMES: dict[str, tuple[str, str]] = {
    "design_done": ("设计完成", "Design done"),
    "bom_release": ("BOM发布", "BOM released"),
    "drawings_release": ("图纸发布", "Drawings released"),
    "material_required": ("物料齐套", "Material in"),
    "production_start": ("开始生产", "Production started"),
    "production_end": ("生产完成", "Production finished"),
    "final_inspection": ("出厂检验合格", "Final inspection passed"),
    "ship": ("发货", "Shipped"),
}

ROLES: dict[str, tuple[str, str]] = {
    "division": ("事业部领导", "Division management"),
    "ops": ("运维值班", "Ops on duty"),
    "admin": ("系统管理员", "Administrator"),
}

# The fixed words of a message, by language.
WORDS: dict[str, dict[Lang, str]] = {
    "test_title": {
        "zh": "orderflow 测试消息：{channel}",
        "en": "orderflow test message: {channel}",
    },
    "test_line": {
        "zh": "消息通道 {channel} 配置正确：路由到这里的升级和通知都会在此送达。",
        "en": "Channel {channel} works: escalations and notices routed to it arrive here.",
    },
    "test_by": {"zh": "发送人", "en": "Sent by"},
    "test_at": {"zh": "发送时间", "en": "Sent at"},
    "order": {"zh": "订单", "en": "Order"},
    "customer": {"zh": "客户", "en": "Customer"},
    "what": {"zh": "事项", "en": "What"},
    "late_by": {"zh": "超期", "en": "Late by"},
    "due_in": {"zh": "距到期", "en": "Due in"},
    "since_breach": {"zh": "触发至今", "en": "Open since the breach"},
    "who": {"zh": "请处理", "en": "Who must act"},
    "due": {"zh": "到期时间", "en": "Due"},
    "breached": {"zh": "触发时间", "en": "Breached"},
    "level": {"zh": "升级级别", "en": "Level"},
    "open_order": {"zh": "查看订单", "en": "Open order"},
    "acknowledge": {"zh": "确认收到", "en": "Acknowledge"},
    "unknown_customer": {"zh": "（未登记）", "en": "(not recorded)"},
    "digest_title": {
        "zh": "{dept} {day} 未处理升级 {count} 条",
        "en": "{dept}: {count} open escalation(s) on {day}",
    },
    "digest_none": {"zh": "当前没有未处理的升级。", "en": "No open escalations."},
    "report_title": {
        "zh": "计划达成率{period_kind} {period}",
        "en": "Plan achievement, {period_kind} {period}",
    },
    "week": {"zh": "周报", "en": "week"},
    "month": {"zh": "月报", "en": "month"},
    "report_line": {
        "zh": "{dept}：应完成 {due} 项，按期完成 {met} 项，达成率 {rate}",
        "en": "{dept}: {met} of {due} met on time ({rate})",
    },
    "report_nothing": {"zh": "{dept}：本期无到期节点", "en": "{dept}: nothing due"},
    "report_none": {"zh": "本期没有部门有到期节点。", "en": "No department had milestones due."},
    "generated": {"zh": "生成时间", "en": "Generated"},
    # customer_notice (shared/notices.py)
    "notice_milestone": {
        "zh": "客户进度通知：{order_no} {milestone}",
        "en": "Customer notice: {order_no} {milestone}",
    },
    "notice_plan": {
        "zh": "客户进度通知：{order_no} 计划第{revision}版",
        "en": "Customer notice: {order_no} plan revision {revision}",
    },
    "notice_actual": {"zh": "实际日期", "en": "Reached on"},
    "notice_planned": {"zh": "计划日期", "en": "Planned for"},
    "notice_reason": {"zh": "调整原因", "en": "Why"},
    "notice_ship": {"zh": "预计发货", "en": "Forecast to ship"},
    "notice_due": {"zh": "约定交期", "en": "Due date"},
}


def word(key: str, lang: Lang) -> str:
    return WORDS[key][lang]


def _pick(table: dict[str, tuple[str, str]], code: str, lang: Lang) -> str:
    found = table.get(code)
    if found is None:
        return code
    return found[0] if lang == "zh" else found[1]


def escalation_kind_text(kind: str, lang: Lang) -> str:
    """An escalation kind in words (the code itself when it has no phrase)."""
    return _pick(ESCALATION_KINDS, kind, lang)


def task_kind_text(kind: str, lang: Lang) -> str:
    """A task kind in words (the code itself when it has no phrase)."""
    return _pick(TASK_KINDS, kind, lang)


def department_text(department: str, lang: Lang) -> str:
    return _pick(DEPARTMENT_NAMES, department, lang)


def milestone_text(milestone: str, lang: Lang) -> str:
    """A plan milestone in words (the code itself when it has no phrase)."""
    return _pick(MILESTONE_NAMES, milestone, lang)


def role_text(role: str, lang: Lang) -> str:
    """Who a role is, in words: `head:quality` is the head of the quality department,
    `quality` the department itself, `division` and `ops` their own phrases."""
    head, sep, department = role.partition(":")
    if sep and head == "head":
        if department not in DEPARTMENT_NAMES:
            return role
        name = department_text(department, lang)
        return f"{name}负责人" if lang == "zh" else f"Head of {name}"
    if role in DEPARTMENT_NAMES:
        return department_text(role, lang)
    return _pick(ROLES, role, lang)


def duration_text(delta: timedelta, lang: Lang) -> str:
    """A duration as people say it: `2 h 15 min` / `2小时15分`, days when a day or more
    (`3 d 4 h` / `3天4小时`), minutes under an hour; under a minute is `< 1 min` / `不到1分钟`.
    The sign is dropped (the caller says whether it is past or ahead)."""
    minutes = int(abs(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        parts = [(days, "天", "d"), (hours, "小时", "h")]
    elif hours:
        parts = [(hours, "小时", "h"), (mins, "分", "min")]
    elif mins:
        parts = [(mins, "分钟", "min")]
    else:
        return "不到1分钟" if lang == "zh" else "< 1 min"
    shown = [(n, zh, en) for n, zh, en in parts if n]
    if lang == "zh":
        return "".join(f"{n}{zh}" for n, zh, _ in shown)
    return " ".join(f"{n} {en}" for n, _, en in shown)


def local_time(moment: datetime, zone: str) -> str:
    """A moment in the plant's zone: `2026-12-04 14:30 (Asia/Shanghai)`."""
    return f"{moment.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} ({zone})"


def percent(rate: float) -> str:
    """A rate (0.625) as a percentage (`62.5%`), without trailing zeros."""
    text = f"{rate * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def one_line(text: str) -> str:
    """Free text (a customer's name, an escalation's message) on one line."""
    return " ".join(text.split())
