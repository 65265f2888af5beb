# ruff: noqa: RUF001  (Chinese text uses full-width punctuation on purpose)
"""The API's refusals read in Chinese at the desk: every error code the API can answer has its
Chinese sentence (found by scanning the API's source, so a new code without one fails here),
the API's own sentence follows it, and validation problems are put in Chinese by pattern."""

from __future__ import annotations

import re
from pathlib import Path

from app.desk.api import Answer
from app.desk.api_errors import ERRORS_ZH, localized_problem

ROOT = Path(__file__).resolve().parents[2]
# Every way the API names an error code: its helpers (conflict, invalid, APIError, the limits'
# _answer), the update rejections' answers, and the fixed codes of the error helpers.
CODE = re.compile(
    r'(?:conflict|invalid|APIError|_answer)\(\s*(?:send,\s*\d+,\s*)?(?:HTTP_\w+,\s*)?"([a-z_]+)"'
)
FIXED = {"unauthorized", "forbidden", "not_found", "unavailable", "task_not_found"}


def test_every_error_code_the_api_answers_has_its_chinese_sentence() -> None:
    codes = set(FIXED)
    for folder in ("services", "shared", "app"):
        for path in (ROOT / folder).rglob("*.py"):
            codes |= set(CODE.findall(path.read_text()))
    missing = sorted(codes - set(ERRORS_ZH))
    assert not missing, f"no Chinese sentence for the API's codes {missing}"
    assert len(codes) > 25  # the scan found the API's codes at all


def test_a_refusal_leads_in_chinese_and_keeps_the_apis_specifics() -> None:
    body = {"error": "task_not_open", "detail": "task T1 is already done: lin completed it"}
    chinese = Answer(status=409, body=body, lang="zh")
    assert chinese.detail == f"{ERRORS_ZH['task_not_open']}（{body['detail']}）"
    assert Answer(status=409, body=body, lang="en").detail == body["detail"]
    problems = {
        "error": "invalid_payload",
        "detail": "design_days: Input should be greater than or equal to 0",
        "problems": [
            {"field": "design_days", "problem": "Input should be greater than or equal to 0"},
            {"field": "lines", "problem": "Field required"},
            {"field": "x", "problem": "something the patterns do not know"},
        ],
    }
    assert Answer(status=422, body=problems, lang="zh").problems() == {
        "design_days": "应大于或等于 0",
        "lines": "必填项",
        "x": "something the patterns do not know",
    }


def test_validation_patterns() -> None:
    cases = {
        "String should have at most 64 characters": "最多 64 个字符",
        "Input should be a valid date or datetime, input is too short": "应为有效日期",
        "Input should be a valid integer, unable to parse string as an integer": "应为整数",
        "Extra inputs are not permitted": "不允许的字段",
    }
    for english, chinese in cases.items():
        assert localized_problem(english, "zh") == chinese
        assert localized_problem(english, "en") == english
