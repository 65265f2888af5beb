"""The workshop's check forms' words in both languages (merged into app/desk/i18n.MESSAGES):
the team leader's drawing check (§8.1), the appearance check of the material (§8.2) and the
certificates and manuals handed to quality (§8.4)."""

EN: dict[str, str] = {
    "field.clear": "Drawings clear",
    "field.unclear": "Unclear points (questions to engineering)",
    "field.answer": "Answer",
    "field.findings": "Findings",
    "field.documents": "Documents handed to quality",
    "field.ref": "Document number",
    "choice.certificate": "Certificate",
    "choice.manual": "Manual",
}

ZH: dict[str, str] = {
    "field.clear": "图纸清楚",
    "field.unclear": "不清楚之处(向技术部提问)",
    "field.answer": "答复",
    "field.findings": "检查发现",
    "field.documents": "移交质检的资料",
    "field.ref": "资料编号",
    "choice.certificate": "合格证",
    "choice.manual": "说明书",
}
