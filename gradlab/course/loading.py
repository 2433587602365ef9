"""Run a lesson file's setup and exercise cells, or a solutions file, into a namespace."""

from __future__ import annotations

from pathlib import Path
from types import CodeType
from typing import Any

from gradlab.course.cells import RUN_BEFORE_CHECKS, code_of, demo_definition, parse_cells
from gradlab.course.messages import CourseError, line_in, one_line, shown
from gradlab.course.source import read_source


def load_exercise_cells(path: Path) -> dict[str, Any]:
    """Run only the setup and exercise cells of a lesson file; return its namespace."""
    text = read_source(path)
    cells = parse_cells(text)
    if not any("exercise" in cell.tags for cell in cells):
        raise CourseError(
            f'{shown(path)} is not a gradlab lesson: it has no cell tagged "exercise"'
        )
    return _execute(code_of(cells, RUN_BEFORE_CHECKS, text.count("\n") + 1), path)


def only_in_demo(error: BaseException, path: Path | None) -> str | None:
    """Why ``error`` is a NameError in ``check`` but not in Jupyter, if that is why.

    When the missing name is defined by a demo cell of the lesson file
    ``path``, the one line that says so; else ``None``.
    """
    name = getattr(error, "name", None) if isinstance(error, NameError) else None
    if name is None or path is None:
        return None
    try:
        line = demo_definition(parse_cells(read_source(path)), name)
    except CourseError:
        return None
    if line is None:
        return None
    return (
        f"uses {name}, which only the demo cell at line {line} defines: checks run only "
        "setup and exercise cells — define it in your exercise cell"
    )


def load_module_file(path: Path) -> dict[str, Any]:
    """Run a whole Python file (a solutions file) and return its namespace."""
    return _execute(read_source(path), path)


def compiled(code: str, path: Path) -> CodeType:
    """``code`` compiled as the file ``path``; a syntax error is one :class:`CourseError` line."""
    try:
        return compile(code, str(path), "exec")
    except SyntaxError as error:
        raise CourseError(
            f"{shown(Path(path))}, line {error.lineno}: syntax error: {error.msg}"
        ) from None


def _execute(code: str, path: Path) -> dict[str, Any]:
    program = compiled(code, path)
    namespace: dict[str, Any] = {"__name__": "gradlab_exercises", "__file__": str(path)}
    try:
        exec(program, namespace)
    except Exception as error:
        reason = only_in_demo(error, path) or f"raised {one_line(error)}"
        raise CourseError(
            f"{shown(path)}{line_in(error, path)}: running its setup and exercise cells {reason}"
        ) from None
    return namespace
