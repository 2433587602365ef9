"""Read a lesson file (jupytext ``py:percent``) as a list of cells.

A cell starts at a ``# %%`` line, which may carry a ``[markdown]`` type and
metadata such as ``tags=["exercise"]``. Lessons use three tags:

``setup``
    imports and definitions the exercises need; run before every check.
``exercise``
    one exercise function each; the only cells a learner edits.
``check``
    the ``gradlab.check(...)`` call under an exercise; never run by ``check``.

The parser is deliberately tiny (no jupytext import) because every ``check``
command uses it, and it keeps each cell's line numbers, so errors can point at
the learner's own file and line.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

_CELL_MARKER = re.compile(r"^# %%(?P<rest>.*)$")
_TAGS = re.compile(r"tags\s*=\s*(\[[^\]]*\])")

RUN_BEFORE_CHECKS = frozenset({"setup", "exercise"})


@dataclass(frozen=True)
class Cell:
    """One cell: its kind, tags, and the 1-based lines it spans (marker excluded)."""

    kind: str  # "code" or "markdown"
    tags: frozenset[str]
    first_line: int
    lines: tuple[str, ...] = field(repr=False)

    @property
    def source(self) -> str:
        """The cell's text, without its ``# %%`` marker line."""
        return "".join(self.lines)


def parse_cells(text: str) -> list[Cell]:
    """Split ``py:percent`` text into cells (text before the first marker is a cell too)."""
    cells: list[Cell] = []
    kind, tags, first, body = "code", frozenset(), 1, []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        marker = _CELL_MARKER.match(line.rstrip("\r\n"))
        if marker is None:
            body.append(line)
            continue
        if body or cells:
            cells.append(Cell(kind, tags, first, tuple(body)))
        kind, tags = _parse_marker(marker["rest"])
        first, body = number + 1, []
    cells.append(Cell(kind, tags, first, tuple(body)))
    return cells


def _parse_marker(rest: str) -> tuple[str, frozenset[str]]:
    kind = "markdown" if "[markdown]" in rest else "code"
    found = _TAGS.search(rest)
    if found is None:
        return kind, frozenset()
    try:
        tags = ast.literal_eval(found[1])
    except (SyntaxError, ValueError):
        return kind, frozenset()
    return kind, frozenset(str(tag) for tag in tags)


def code_of(cells: list[Cell], tags: frozenset[str], total_lines: int) -> str:
    """The code of the cells carrying any of ``tags``, every other line blanked.

    Blanking instead of dropping keeps line numbers equal to the file's, so a
    ``SyntaxError`` or a traceback names the line the learner sees.
    """
    lines = ["\n"] * total_lines
    for cell in cells:
        if cell.kind == "code" and cell.tags & tags:
            for offset, line in enumerate(cell.lines):
                lines[cell.first_line - 1 + offset] = line
    return "".join(lines)


def demo_definition(cells: list[Cell], name: str) -> int | None:
    """The line where a demo cell (untagged code) defines ``name`` at top level, if one does.

    Checks run only setup and exercise cells, so such a name exists in
    Jupyter but not in ``check``.
    """
    for cell in cells:
        if cell.kind != "code" or cell.tags:
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if name in defined_names(node):
                return cell.first_line + node.lineno - 1
    return None


def defined_names(node: ast.stmt) -> set[str]:
    """The names a top-level statement binds (functions, classes, assignments, imports)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
        targets = [node.target]
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in node.items if item.optional_vars]
    return {
        leaf.id
        for target in targets
        for leaf in ast.walk(target)
        if isinstance(leaf, ast.Name) and isinstance(leaf.ctx, ast.Store)
    }


def title_of(cells: list[Cell]) -> str | None:
    """The first Markdown heading of the file, without its ``#`` marks."""
    for cell in cells:
        if cell.kind != "markdown":
            continue
        for line in cell.lines:
            heading = re.match(r"^#\s+#+\s+(.*\S)", line)
            if heading:
                return heading[1]
    return None
