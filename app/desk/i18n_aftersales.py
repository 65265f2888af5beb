"""The after-sales service case forms' words in both languages (merged into
app/desk/i18n.MESSAGES): the first response, the visit on site and the resolution (the
visit's `findings` share their words with the workshop's checks, app/desk/i18n_workshop.py)."""

EN: dict[str, str] = {
    "field.response": "Response to the customer",
    "field.on_site": "A visit on site is needed",
    "field.engineer": "Service engineer",
    "field.outcome": "Outcome",
    "field.resolution": "What was done",
    "choice.repaired": "Repaired",
    "choice.exchanged": "Exchanged",
    "choice.advised": "Advised the customer",
    "choice.no_fault": "No fault found",
    "choice.refunded": "Refunded",
}

ZH: dict[str, str] = {
    "field.response": "给客户的答复",
    "field.on_site": "需要上门服务",
    "field.engineer": "服务工程师",
    "field.outcome": "处理结果",
    "field.resolution": "处理措施",
    "choice.repaired": "已维修",
    "choice.exchanged": "已更换",
    "choice.advised": "已指导客户",
    "choice.no_fault": "未发现故障",
    "choice.refunded": "已退款",
}
