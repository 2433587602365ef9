"""Pair a lesson with a Jupyter notebook (jupytext) without ever losing an edit.

Which side changed is decided by content, not by modification times: each
sync records a hash of both sides (``runs/lessonNN/notebook-sync.json``).
Next time, a side whose hash differs from the record was edited since. One
side edited: it wins, and the other is saved to ``backups/`` before it is
overwritten. Both edited (or no record, so there is no telling): nothing is
written, and the learner chooses with ``--keep py`` or ``--keep ipynb``.
A notebook's outputs never count as an edit, and survive updates from the
``.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from gradlab.course.catalogue import Lesson
from gradlab.course.files import replace_atomically
from gradlab.course.messages import CourseError, shown
from gradlab.course.pristine import backup

KEEP = ("py", "ipynb")
"""The sides ``--keep`` can name: the lesson file or the notebook."""


def sync(target: Lesson, keep: str | None = None) -> tuple[Path, Path | None]:
    """Create or update the lesson's ``.ipynb`` pair; return it and any backup made.

    ``keep`` (``"py"`` or ``"ipynb"``) settles a conflict: that side wins, the
    other is backed up first. :class:`CourseError` when both sides changed
    since the last sync and ``keep`` is not given, or the notebook is unreadable.
    """
    import jupytext

    notebook_path = target.path.with_suffix(".ipynb")
    text = _read_lesson(target)
    if not notebook_path.exists():
        jupytext.write(jupytext.read(target.path), notebook_path)
        _record(target, text, notebook_path)
        return notebook_path, None
    notebook = _read_notebook(target, notebook_path, keep)
    if notebook is None:  # unreadable, and --keep py: rebuild it after saving it
        return _write_notebook(target, text, None, notebook_path)
    inputs = _inputs(notebook)
    if inputs == _inputs(jupytext.read(target.path)):
        _record(target, text, notebook_path, inputs)
        return notebook_path, None
    winner = keep or _changed_side(target, text, inputs, notebook_path)
    if winner == "py":
        return _write_notebook(target, text, notebook, notebook_path)
    saved = backup(target)
    target.path.write_text(inputs, encoding="utf-8")
    _record(target, inputs, notebook_path, inputs)
    return notebook_path, saved


def open_command(notebook: Path) -> str:
    """The command that opens ``notebook`` in JupyterLab, as the learner runs commands.

    ``uv run`` sets ``$UV``: a learner working through uv gets ``uv run jupyter lab``,
    one with an activated virtual environment gets ``jupyter lab``.
    """
    prefix = "uv run " if os.environ.get("UV") else ""
    return f"{prefix}jupyter lab {shown(notebook)}"


def _read_lesson(target: Lesson) -> str:
    try:
        return target.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CourseError(f"{shown(target.path)}: cannot read it ({error})") from None


def _read_notebook(target: Lesson, path: Path, keep: str | None) -> Any:
    """The notebook at ``path``; ``None`` if it is unreadable and ``keep`` is ``"py"``."""
    import jupytext

    try:
        return jupytext.read(path)
    except Exception as error:  # nbformat raises several kinds for a damaged file
        if keep == "py":
            return None
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CourseError(
            f"{shown(path)} is not a valid notebook ({reason[:120]}); it was left as it is. "
            f"Rebuild it from {shown(target.path)} with: python -m gradlab.lesson "
            f"{target.number} notebook --keep py  (it is saved in backups/ first)"
        ) from None


def _write_notebook(target: Lesson, text: str, old: Any, path: Path) -> tuple[Path, Path]:
    """Write the lesson's inputs to the notebook (keeping ``old``'s outputs), after a backup."""
    import jupytext
    from jupytext.combine import combine_inputs_with_outputs

    saved = backup(target, path)
    notebook = jupytext.read(target.path)
    if old is not None:
        notebook = combine_inputs_with_outputs(notebook, old)
    jupytext.write(notebook, path)
    _record(target, text, path)
    return path, saved


def _changed_side(target: Lesson, text: str, inputs: str, notebook_path: Path) -> str:
    """``"py"`` or ``"ipynb"``: the one side changed since the last sync (else CourseError)."""
    last = _last_sync(target)
    py_changed = last.get("py") != _hash(text)
    notebook_changed = last.get("ipynb") != _hash(inputs)
    if py_changed != notebook_changed:
        return "py" if py_changed else "ipynb"
    why = (
        "were both changed since they were last synced"
        if last
        else "differ, and there is no record of their last sync"
    )
    command = f"python -m gradlab.lesson {target.number} notebook --keep"
    raise CourseError(
        f"{shown(target.path)} and {shown(notebook_path)} {why}, so neither was overwritten. "
        f"Keep the .py: {command} py   Keep the notebook: {command} ipynb   "
        "(the other is saved in backups/ first)"
    )


def _inputs(notebook: Any) -> str:
    """The notebook's cells as ``py:percent`` text: what the ``.py`` holds, without outputs."""
    import jupytext

    return jupytext.writes(notebook, fmt="py:percent")


def _record(target: Lesson, text: str, notebook_path: Path, inputs: str | None = None) -> None:
    """Remember both sides as they are now, in sync."""
    import jupytext

    if inputs is None:
        inputs = _inputs(jupytext.read(notebook_path))
    state = {"py": _hash(text), "ipynb": _hash(inputs)}
    path = _state_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(path, json.dumps(state))


def _last_sync(target: Lesson) -> dict[str, str]:
    try:
        state = json.loads(_state_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _state_path(target: Lesson) -> Path:
    return target.run_dir / "notebook-sync.json"


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
