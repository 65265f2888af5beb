"""`ast.parse` for the tests that read the project's source, safe from a CPython 3.11 bug.

Python 3.11 before 3.11.8 (gh-106905) checks the AST constructor's recursion depth against a
counter that Python code run in the middle of the construction moves: a garbage collection
there that finalizes an abandoned coroutine (a workflow evicted by an earlier test) makes the
parse fail with "SystemError: AST constructor recursion depth mismatch" (seen once in CI, in
tests/test_process_trace.py). The collector is held for the parse; it runs again after.
"""

from __future__ import annotations

import ast
import gc


def parse(source: str, filename: str = "<unknown>") -> ast.Module:
    """`ast.parse(source, filename)` with the cycle collector held while it runs."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return ast.parse(source, filename=filename)
    finally:
        if enabled:
            gc.enable()
