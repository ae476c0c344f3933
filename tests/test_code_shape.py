"""The code keeps the shape docs/architecture.md asks for: no module in `services/` longer
than about 450 lines and no function longer than about 60, unless it says why.

A module says why in its first 40 lines, a function between its `def` and the fifth line
of its body, with a sentence starting "Long on purpose:".
"""

import ast
from pathlib import Path

ROOT = Path(__file__).parents[1]
MODULE_LINES = 450
FUNCTION_LINES = 60
REASON = "Long on purpose:"


def sources() -> list[Path]:
    return sorted(
        path for path in (ROOT / "services").glob("*/src/**/*.py") if "migrations" not in path.parts
    )


def test_no_module_is_longer_than_about_450_lines_without_saying_why() -> None:
    long = []
    for path in sources():
        lines = path.read_text().splitlines()
        if len(lines) > MODULE_LINES and not any(REASON in line for line in lines[:40]):
            long.append(f"{path.relative_to(ROOT)}: {len(lines)} lines")
    assert not long, long


def test_no_function_is_longer_than_about_60_lines_without_saying_why() -> None:
    long = []
    for path in sources():
        text = path.read_text()
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            length = (node.end_lineno or node.lineno) - start + 1
            body_start = node.body[0].lineno - 1
            said = any(REASON in line for line in lines[node.lineno - 1 : body_start + 5])
            if length > FUNCTION_LINES and not said:
                long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {length} lines")
    assert not long, long
