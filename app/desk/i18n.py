# ruff: noqa: RUF001  (Chinese text uses full-width punctuation on purpose)
"""The desk's two languages: Simplified Chinese and English, picked from the browser's
`Accept-Language` unless the user switched (the `lang` cookie). Every label, task-kind title,
stage, department and escalation kind has both; a key missing from one language is a test
failure (tests/desk/test_i18n.py), never an English word on a Chinese page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import Request

from app.desk.i18n_actions import ACTIONS_EN, ACTIONS_ZH
from app.desk.i18n_aftersales import EN as AFTERSALES_EN
from app.desk.i18n_aftersales import ZH as AFTERSALES_ZH
from app.desk.i18n_forms import EN as FORMS_EN
from app.desk.i18n_forms import ZH as FORMS_ZH
from app.desk.i18n_orders import EN as ORDERS_EN
from app.desk.i18n_orders import ZH as ORDERS_ZH
from app.desk.i18n_workshop import EN as WORKSHOP_EN
from app.desk.i18n_workshop import ZH as WORKSHOP_ZH

LANGUAGES = ("zh", "en")
LANG_COOKIE = "lang"

# Departments, stages, task kinds and escalation kinds: the words the plant uses.
_EN: dict[str, str] = {
    "dept.sales": "Sales",
    "dept.planning": "Planning",
    "dept.engineering": "Engineering",
    "dept.procurement": "Procurement",
    "dept.warehouse": "Warehouse",
    "dept.quality": "Quality",
    "dept.production": "Production",
    "dept.aftersales": "After-sales",
    "stage.review": "Contract review",
    "stage.planning": "Planning",
    "stage.engineering": "Engineering",
    "stage.materials": "Materials",
    "stage.production": "Production",
    "stage.final_inspection": "Final inspection",
    "stage.delivery": "Delivery",
    "stage.commissioning": "Commissioning",
    "stage.closing": "Closing",
    "stage.closed": "Closed",
    "stage.declined": "Declined",
    "stage.cancelled": "Cancelled",
    "kind.engineering.contract_review": "Contract technical review",
    "kind.procurement.lead_time_review": "Lead-time review",
    "kind.planning.delivery_review": "Delivery date review",
    "kind.sales.management_approval": "Management approval",
    "kind.sales.confirm_delivery": "Confirm delivery date with customer",
    "kind.planning.master_plan": "Master plan",
    "kind.sales.renegotiate_delivery": "Renegotiate delivery date",
    "kind.engineering.release_bom": "Release the BOM",
    "kind.engineering.release_drawings": "Release the drawings",
    "kind.procurement.special_approval": "Approve special purchase",
    "kind.procurement.stock_approval": "Approve stock purchase",
    "kind.procurement.place_po": "Place purchase order",
    "kind.procurement.chase_supply": "Chase supply",
    "kind.quality.incoming_inspection": "Incoming inspection",
    "kind.quality.ncr_judgement": "Nonconformance judgement",
    "kind.planning.ncr_disposition": "Nonconformance disposition",
    "kind.warehouse.picking": "Pick material",
    "kind.engineering.design_change": "Design change (DCN)",
    "kind.production.assembly": "Assembly",
    "kind.production.confirm_issue": "Confirm assembly issue",
    "kind.planning.missing_part_analysis": "Missing part analysis",
    "kind.quality.process_confirmation": "Special process confirmation",
    "kind.production.submit_inspection": "Submit for final inspection",
    "kind.quality.final_inspection": "Final inspection",
    "kind.production.correct_defects": "Correct defects",
    "kind.sales.ship": "Ship",
    "kind.sales.delivery_confirmed": "Delivery confirmed",
    "kind.aftersales.commissioning": "Commissioning",
    "kind.aftersales.case_response": "Service case: first response",
    "kind.aftersales.case_on_site": "Service case: on site",
    "kind.aftersales.case_resolve": "Service case: resolved",
    "kind.sales.settlement": "Settlement",
    "kind.sales.evaluation": "Order evaluation",
    "kind.sales.ship_date": "Ship date",
    "kind.sales.change_agreement": "Customer change agreement",
    "kind.production.fit_missing_parts": "Fit missing parts",
    "kind.quality.sign_fitted_parts": "Sign fitted parts",
    "kind.sales.missing_parts_shipment": "Missing parts: ship separately?",
    "kind.sales.order_audit": "Order audit (terms and credit)",
    "kind.sales.collect_payment": "Collect payment",
    "kind.sales.cancellation_settlement": "Cancellation fee or compensation",
    "kind.sales.shipping_check": "Shipping check (address, packaging)",
    "kind.production.drawing_check": "Drawing check",
    "kind.engineering.drawing_question": "Drawing question",
    "kind.production.appearance_check": "Material appearance check",
    "kind.production.hand_over_documents": "Hand certificates and manuals to quality",
    "kind.procurement.confirm_promise": "Confirm promised date",
    "esc.task_overdue": "Task overdue",
    "esc.milestone_overdue": "Milestone overdue",
    "esc.delivery_delay": "Delivery delay",
    "esc.material_shortage": "Material shortage",
    "esc.drawings_late": "Drawings late",
    "esc.picking_late": "Picking late",
    "esc.short_pick": "Short pick",
    "esc.delivery_refused": "Delivery refused",
    "esc.late_supply": "Late supply",
    "esc.design_change_overdue": "Design change overdue",
    "esc.serious_nonconformance": "Serious nonconformance",
    "esc.bad_data": "Bad data",
    "esc.branch_failed": "Step failed",
    "esc.calendar_unconfirmed": "Calendar year unconfirmed",
    "esc.delivery_failed": "Bot delivery failed",
    "esc.channel_failing": "Chat channel failing",
}

_ZH: dict[str, str] = {
    "dept.sales": "销售部",
    "dept.planning": "计划部",
    "dept.engineering": "技术部",
    "dept.procurement": "采购部",
    "dept.warehouse": "仓库",
    "dept.quality": "质量部",
    "dept.production": "生产部",
    "dept.aftersales": "售后服务部",
    "stage.review": "合同评审",
    "stage.planning": "计划",
    "stage.engineering": "设计",
    "stage.materials": "物料",
    "stage.production": "生产",
    "stage.final_inspection": "成品检验",
    "stage.delivery": "发货",
    "stage.commissioning": "安装调试",
    "stage.closing": "结算",
    "stage.closed": "已关闭",
    "stage.declined": "已拒绝",
    "stage.cancelled": "已取消",
    "kind.engineering.contract_review": "合同技术评审",
    "kind.procurement.lead_time_review": "采购周期评审",
    "kind.planning.delivery_review": "交期评审",
    "kind.sales.management_approval": "领导审批",
    "kind.sales.confirm_delivery": "与客户确认交期",
    "kind.planning.master_plan": "主计划",
    "kind.sales.renegotiate_delivery": "重新协商交期",
    "kind.engineering.release_bom": "发布BOM",
    "kind.engineering.release_drawings": "发布图纸",
    "kind.procurement.special_approval": "特殊采购审批",
    "kind.procurement.stock_approval": "备库采购审批",
    "kind.procurement.place_po": "下采购订单",
    "kind.procurement.chase_supply": "催货",
    "kind.quality.incoming_inspection": "来料检验",
    "kind.quality.ncr_judgement": "不合格品评审",
    "kind.planning.ncr_disposition": "不合格品处置",
    "kind.warehouse.picking": "领料配送",
    "kind.engineering.design_change": "设计变更(DCN)",
    "kind.production.assembly": "装配",
    "kind.production.confirm_issue": "确认装配问题",
    "kind.planning.missing_part_analysis": "缺件分析",
    "kind.quality.process_confirmation": "特殊过程确认",
    "kind.production.submit_inspection": "报检",
    "kind.quality.final_inspection": "成品检验",
    "kind.production.correct_defects": "整改缺陷",
    "kind.sales.ship": "发货",
    "kind.sales.delivery_confirmed": "到货确认",
    "kind.aftersales.commissioning": "安装调试",
    "kind.aftersales.case_response": "售后首次响应",
    "kind.aftersales.case_on_site": "售后上门服务",
    "kind.aftersales.case_resolve": "售后问题解决",
    "kind.sales.settlement": "结算",
    "kind.sales.evaluation": "订单评价",
    "kind.sales.ship_date": "发货日期",
    "kind.sales.change_agreement": "客户变更协议",
    "kind.production.fit_missing_parts": "缺件装配",
    "kind.quality.sign_fitted_parts": "缺件装配签字确认",
    "kind.sales.missing_parts_shipment": "缺件是否另行发货",
    "kind.sales.order_audit": "订单审核（付款条件与资信）",
    "kind.sales.collect_payment": "催收货款",
    "kind.sales.cancellation_settlement": "取消订单费用或补偿",
    "kind.sales.shipping_check": "发货前检查（地址、包装）",
    "kind.production.drawing_check": "图纸确认",
    "kind.engineering.drawing_question": "图纸疑问",
    "kind.production.appearance_check": "物料外观确认",
    "kind.production.hand_over_documents": "合格证、说明书移交质检",
    "kind.procurement.confirm_promise": "确认预计到货日期",
    "esc.task_overdue": "任务超时",
    "esc.milestone_overdue": "节点逾期",
    "esc.delivery_delay": "交期延误",
    "esc.material_shortage": "物料短缺",
    "esc.drawings_late": "图纸延误",
    "esc.picking_late": "领料延误",
    "esc.short_pick": "领料短缺",
    "esc.delivery_refused": "来货拒收",
    "esc.late_supply": "供货延误",
    "esc.design_change_overdue": "设计变更超时",
    "esc.serious_nonconformance": "严重不合格",
    "esc.bad_data": "数据错误",
    "esc.branch_failed": "步骤失败",
    "esc.calendar_unconfirmed": "年度日历待确认",
    "esc.delivery_failed": "机器人推送失败",
    "esc.channel_failing": "消息通道推送失败",
}

# The desk's own words.
_EN.update(
    {
        "app.name": "orderflow desk",
        "nav.inbox": "Inbox",
        "nav.orders": "Orders",
        "nav.escalations": "Escalations",
        "nav.kpis": "KPIs",
        "nav.sign_out": "Sign out",
        "nav.language": "中文",
        "sign_in.title": "Sign in",
        "sign_in.name": "Your name",
        "sign_in.roles": "Roles",
        "sign_in.token": "Or paste a token",
        "sign_in.submit": "Sign in",
        "sign_in.dev_note": "Development sign-in: the token is minted with the local dev key.",
        "sign_in.bad_token": "The token is not valid here.",
        "sign_in.need_name": "Give your name and at least one role.",
        "sign_in.failed": "Sign-in failed",
        "sign_in.with_idp": "Sign in with the plant's account",
        "forbidden.title": "Not allowed",
        "forbidden.missing": "This needs one of the roles:",
        "error.csrf": "The form expired. Open the page again and resubmit.",
        "error.title": "Something went wrong",
        "home.title": "Your desks",
        "home.none": "Your roles hold no department inbox.",
        "order.actions": "Actions on this order",
    }
)
_ZH.update(
    {
        "app.name": "orderflow 工作台",
        "nav.inbox": "待办",
        "nav.orders": "订单",
        "nav.escalations": "升级提醒",
        "nav.kpis": "指标",
        "nav.sign_out": "退出",
        "nav.language": "English",
        "sign_in.title": "登录",
        "sign_in.name": "姓名",
        "sign_in.roles": "角色",
        "sign_in.token": "或粘贴令牌",
        "sign_in.submit": "登录",
        "sign_in.dev_note": "开发环境登录：令牌由本地开发密钥签发。",
        "sign_in.bad_token": "该令牌在此无效。",
        "sign_in.need_name": "请填写姓名并至少选择一个角色。",
        "sign_in.failed": "登录失败",
        "sign_in.with_idp": "使用工厂账号登录",
        "forbidden.title": "无权访问",
        "forbidden.missing": "需要以下角色之一：",
        "error.csrf": "表单已过期，请重新打开页面后再提交。",
        "error.title": "出错了",
        "home.title": "我的工作台",
        "home.none": "您的角色没有部门待办。",
        "order.actions": "订单操作",
    }
)

_EN.update(ORDERS_EN)  # the order pages, the escalations board, the KPI dashboard
_ZH.update(ORDERS_ZH)
_EN.update(FORMS_EN)  # the inbox and the task forms: labels, payload fields, choices
_ZH.update(FORMS_ZH)
_EN.update(AFTERSALES_EN)  # the after-sales service case forms
_ZH.update(AFTERSALES_ZH)
_EN.update(WORKSHOP_EN)  # the workshop's checks
_ZH.update(WORKSHOP_ZH)

_EN.update(ACTIONS_EN), _ZH.update(ACTIONS_ZH)  # the action forms' words

# Issue 16's task forms: the cancellation settlement and the shipping check.
_EN.update(
    {
        "field.settlement": "Settlement agreed",
        "choice.fee": "Cancellation fee (customer pays)",
        "choice.compensation": "Compensation (plant pays)",
        "choice.none": "Neither pays",
        "field.reference": "Reference of the agreement",
        "field.delivery_address": "Delivery address",
        "field.consignee": "Consignee",
        "field.contact_phone": "Contact phone",
        "field.address_confirmed": "Address and contact confirmed with the customer",
        "field.packaging": "Packaging",
        "field.packaging_ok": "Packaging fit for the transport",
    }
)
_ZH.update(
    {
        "field.settlement": "协商结果",
        "choice.fee": "收取取消费用（客户付）",
        "choice.compensation": "补偿客户（工厂付）",
        "choice.none": "双方互不支付",
        "field.reference": "协议编号或依据",
        "field.delivery_address": "收货地址",
        "field.consignee": "收货人",
        "field.contact_phone": "联系电话",
        "field.address_confirmed": "已与客户再次确认地址和联系方式",
        "field.packaging": "包装方式",
        "field.packaging_ok": "包装满足运输要求",
    }
)
MESSAGES: dict[str, dict[str, str]] = {"en": _EN, "zh": _ZH}


def language(request: Request) -> str:
    """The user's switch (cookie), else the first of the browser's languages the desk has."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return str(chosen)
    header = request.headers.get("accept-language", "")
    ranked = []
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        ranked.append((weight, tag.strip().lower()))
    for _, tag in sorted(ranked, key=lambda pair: -pair[0]):
        base = tag.split("-")[0]
        if base in LANGUAGES:
            return base
    return "zh"


def translator(lang: str) -> Callable[..., str]:
    """`t(key, **values)`: the key's text in `lang` (the key itself if neither has it)."""
    table = MESSAGES.get(lang, _ZH)

    def t(key: str, **values: object) -> str:
        text = table.get(key) or _EN.get(key) or key
        return text.format(**values) if values else text

    return t


def local_time(instant: datetime | str | None, zone: str) -> str:
    """An instant as the plant reads it: `2026-12-14 16:00` in its zone."""
    if instant is None or instant == "":
        return ""
    moment = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
