# ruff: noqa: RUF001  (Chinese text uses full-width punctuation on purpose)
"""The API's refusals in the user's language. The API answers every error with a stable code
(`error`) and an English sentence naming the specifics (`detail`); the desk leads with the
code's sentence in Chinese and keeps the API's own sentence after it, so nothing specific (who
completed a task, which PO, which field) is lost. Field problems from validation are put in
Chinese by their pattern. A code missing here is a test failure (tests/desk/test_api_errors.py
scans the API's source for every code it can answer)."""

from __future__ import annotations

import re

ERRORS_ZH: dict[str, str] = {
    "already_acked": "该升级提醒已被确认",
    "already_resolved": "该升级提醒已被处理关闭",
    "body_too_large": "提交的内容过大",
    "change_refused": "该变更未被接受",
    "customer_confirmation_required": "需要客户确认编号",
    "delay_warning_refused": "该订单现在不能发出交期延误预警",
    "duplicate_delivery_note": "该送货单已收货",
    "duplicate_order": "该订单号已存在",
    "exception_overlaps": "与已有的日历例外日期重叠",
    "forbidden": "您的角色无权执行此操作",
    "idempotency_key_reused": "该幂等键已用于另一请求",
    "invalid_delay_warning": "交期延误预警填写有误",
    "invalid_payload": "填写的内容有误",
    "invalid_period": "期间格式有误",
    "invalid_range": "日期范围有误",
    "invalid_request": "请求内容有误",
    "issue_refused": "该问题报告未被接受",
    "item_not_on_po": "物料不在该采购订单上",
    "not_found": "未找到",
    "order_not_cancellable": "该订单已结束，无法取消",
    "picked_lot_unknown": "未知的领料批次",
    "po_not_open": "该采购订单已关闭",
    "report_not_found": "该报告尚未生成",
    "return_exceeds_holding": "退库数量超过持有数量",
    "return_exceeds_lot": "退库数量超过批次数量",
    "return_exceeds_picked": "退库数量超过领料数量",
    "task_not_found": "未找到该任务",
    "task_not_open": "该任务已不是待办状态",
    "unauthorized": "请先登录",
    "unavailable": "服务暂时不可用，请稍后重试",
    "unknown_item": "未知物料",
    "unknown_lot": "未知批次",
    "unknown_po": "未知采购订单",
    "workflow_closed": "该流程已结束",
    "workflow_missing": "该订单没有运行中的流程",
    "wrong_supplier": "供应商与采购订单不符",
    "unhealthy": "服务不可用",
    "unreadable": "无法读取服务的回答",
    # After-sales service cases (售后).
    "order_not_delivered": "该订单尚未交付客户，不能受理售后",
    "out_of_warranty": "该订单已过保修期，请按有偿服务受理",
    "case_resolved": "该售后服务单已解决关闭",
    "case_not_of_order": "该售后服务单不属于此订单",
    "insufficient_stock": "可用库存不足",
    "issue_exceeds_lot": "批次库存不足，无法按批次发放",
    # Money (issue 16).
    "four_eyes": "接单人不能审批自己接的订单（四眼原则），请由另一位负责人审批",
    "duplicate_payment": "该收款凭证号已登记在此订单上",
    "order_not_payable": "该订单已取消或已拒绝，不能登记收款",
    "overpayment": "收款金额超过该订单的未收金额",
    "invalid_as_of": "账龄日期有误",
    "invalid_capacity": "产能变更的生效日期不能早于今天",
    # Issue 16, procurement.
    "po_line_closed": "该采购订单行已无欠交，不能再改预计到货日期",
    "invalid_promise": "预计到货日期有误",
    "invalid_requisition": "物料需求申请有误",
    "unknown_order": "未知订单",
    # Issue 17: BOM drafts (uploaded BOMs released by draft_id).
    "invalid_bom": "BOM有误，请按所列的行号逐行修改",
    "bom_not_open": "该订单现在不能上传BOM草稿",
    "unknown_draft": "该订单没有此BOM草稿",
    "draft_released": "该BOM草稿已发布过",
    "unsupported_media_type": "不支持的文件格式，请上传JSON、CSV或XLSX",
}

# Validation messages (pydantic's, as the API passes them on) and their Chinese; `{0}` is the
# pattern's group.
_PROBLEMS_ZH: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), zh)
    for p, zh in (
        (r"^Field required$", "必填项"),
        (r"^Input should be greater than or equal to (.+)$", "应大于或等于 {0}"),
        (r"^Input should be greater than (.+)$", "应大于 {0}"),
        (r"^Input should be less than or equal to (.+)$", "应小于或等于 {0}"),
        (r"^Input should be less than (.+)$", "应小于 {0}"),
        (r"^String should have at least (\d+) characters?$", "至少 {0} 个字符"),
        (r"^String should have at most (\d+) characters?$", "最多 {0} 个字符"),
        (r"^List should have at least (\d+) items?.*$", "至少 {0} 项"),
        (r"^List should have at most (\d+) items?.*$", "最多 {0} 项"),
        (r"^Input should be a valid (?:number|decimal).*$", "应为有效数字"),
        (r"^Input should be a valid integer.*$", "应为整数"),
        (r"^Input should be a valid date.*$", "应为有效日期"),
        (r"^Input should be a valid boolean.*$", "应为是或否"),
        (r"^Input should be (.+)$", "应为 {0}"),
        (r"^Extra inputs are not permitted$", "不允许的字段"),
        (r"^Decimal input should have no more than (\d+) decimal places?$", "最多 {0} 位小数"),
    )
]


def localized_detail(error: str, detail: str, lang: str) -> str:
    """The refusal as the user reads it: the API's sentence (English), or in Chinese the
    code's sentence followed by the API's own."""
    if lang != "zh" or not (error or detail):
        return detail
    lead = ERRORS_ZH.get(error, "请求未被接受")
    return f"{lead}（{detail}）" if detail else lead


def localized_problem(problem: str, lang: str) -> str:
    """One field's problem in the user's language (the API's words when no pattern fits)."""
    if lang != "zh":
        return problem
    for pattern, chinese in _PROBLEMS_ZH:
        found = pattern.match(problem.strip())
        if found:
            return chinese.format(*found.groups())
    return problem
