"""Pair a lesson with a Jupyter notebook (jupytext)."""

from __future__ import annotations

from pathlib import Path

from gradlab.course.catalogue import Lesson
from gradlab.course.messages import shown
from gradlab.course.pristine import backup


def sync(target: Lesson) -> tuple[Path, Path | None]:
    """Create or update the lesson's ``.ipynb`` pair; return it and any backup made.

    The newer file wins, as with ``jupytext --sync``: a newer ``.py`` updates
    the notebook's inputs (keeping its outputs); a newer notebook (edited in
    Jupyter without the jupytext extension) rewrites the ``.py``, after the
    old ``.py`` is backed up.
    """
    import jupytext
    from jupytext.combine import combine_inputs_with_outputs

    notebook_path = target.path.with_suffix(".ipynb")
    lesson_notebook = jupytext.read(target.path)
    if notebook_path.exists() and notebook_path.stat().st_mtime > target.path.stat().st_mtime:
        newer = jupytext.writes(jupytext.read(notebook_path), fmt="py:percent")
        if newer == target.path.read_text(encoding="utf-8"):
            return notebook_path, None
        saved = backup(target)
        target.path.write_text(newer, encoding="utf-8")
        return notebook_path, saved
    if notebook_path.exists():
        lesson_notebook = combine_inputs_with_outputs(
            lesson_notebook, jupytext.read(notebook_path)
        )
    jupytext.write(lesson_notebook, notebook_path)
    return notebook_path, None


def open_command(notebook: Path) -> str:
    """The command that opens ``notebook`` in JupyterLab."""
    return f"uv run jupyter lab {shown(notebook)}"
