"""Read a lesson's source, and its exercise functions, without running anything.

Used where importing TensorFlow would cost more than the answer is worth:
telling a pristine stub from written code, showing a reference solution.
:func:`read_source` is the one place a lesson or solutions file is read, so
every command words a missing, unreadable or non-UTF-8 file the same way.
"""

from __future__ import annotations

import ast
from pathlib import Path

from gradlab.course.messages import CourseError, shown


def read_source(path: Path) -> str:
    """The text of a Python source file; :class:`CourseError` (one line) if it cannot be read."""
    if path.is_dir():
        raise CourseError(f"{shown(path)} is a directory, not a lesson file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CourseError(f"{shown(path)}: no such file") from None
    except OSError as error:
        raise CourseError(f"{shown(path)}: cannot read it ({error.strerror})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CourseError(
            f"{shown(path)}, line {line}: cannot read it: byte 0x{data[error.start]:02x} is not "
            "UTF-8 (save the file as UTF-8)"
        ) from None


def functions_in(text: str) -> dict[str, ast.FunctionDef]:
    """Top-level function definitions by name (empty if the text does not parse)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return {}
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def is_stub(function: ast.FunctionDef) -> bool:
    """Whether the body is only a docstring and ``raise NotImplementedError(...)``."""
    body = list(function.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    raised = body[0].exc
    target = raised.func if isinstance(raised, ast.Call) else raised
    return isinstance(target, ast.Name) and target.id == "NotImplementedError"


def function_source(text: str, name: str) -> str | None:
    """The source of the top-level function ``name``, with its decorators."""
    function = functions_in(text).get(name)
    if function is None:
        return None
    lines = text.splitlines()
    start = min([function.lineno, *(d.lineno for d in function.decorator_list)])
    return "\n".join(lines[start - 1 : function.end_lineno])
