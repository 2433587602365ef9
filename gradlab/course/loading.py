"""Run a lesson file's setup and exercise cells, or a solutions file, into a namespace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gradlab.course.cells import RUN_BEFORE_CHECKS, code_of, parse_cells
from gradlab.course.messages import CourseError, line_in, one_line, shown


def load_exercise_cells(path: Path) -> dict[str, Any]:
    """Run only the setup and exercise cells of a lesson file; return its namespace."""
    if not path.is_file():
        raise CourseError(f"{shown(path)}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CourseError(f"{shown(path)}: cannot read it ({error})") from None
    cells = parse_cells(text)
    if not any("exercise" in cell.tags for cell in cells):
        raise CourseError(
            f'{shown(path)} is not a gradlab lesson: it has no cell tagged "exercise"'
        )
    return _execute(code_of(cells, RUN_BEFORE_CHECKS, text.count("\n") + 1), path)


def load_module_file(path: Path) -> dict[str, Any]:
    """Run a whole Python file (a solutions file) and return its namespace."""
    return _execute(path.read_text(encoding="utf-8"), path)


def _execute(code: str, path: Path) -> dict[str, Any]:
    try:
        compiled = compile(code, str(path), "exec")
    except SyntaxError as error:
        raise CourseError(
            f"{shown(path)}, line {error.lineno}: syntax error: {error.msg}"
        ) from None
    namespace: dict[str, Any] = {"__name__": "gradlab_exercises", "__file__": str(path)}
    try:
        exec(compiled, namespace)
    except Exception as error:
        raise CourseError(
            f"{shown(path)}{line_in(error, path)}: running its setup and exercise cells "
            f"raised {one_line(error)}"
        ) from None
    return namespace
