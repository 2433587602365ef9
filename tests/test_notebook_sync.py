"""``notebook`` never loses an edit: which side changed is known by content, not by mtime."""

from __future__ import annotations

import os
from pathlib import Path

import jupytext
import nbformat
import pytest

from gradlab.course.catalogue import lesson
from gradlab.lesson import main

ANSWER = "    return 'answer written in Jupyter'"
PY_EDIT = "# a note added in an editor\n"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def write_answer_in_notebook(ipynb: Path) -> None:
    """What a learner does in Jupyter: type an answer into the first exercise cell."""
    notebook = jupytext.read(ipynb)
    cell = next(c for c in notebook.cells if "exercise" in c.metadata.get("tags", []))
    cell.source += "\n" + ANSWER
    jupytext.write(notebook, ipynb)


def edit_lesson_later(path: Path, ipynb: Path) -> None:
    """An editor (or a git pull) changes the .py a moment after the notebook was saved."""
    path.write_text(path.read_text(encoding="utf-8") + PY_EDIT, encoding="utf-8")
    later = ipynb.stat().st_mtime + 5
    os.utime(path, (later, later))


def inputs(ipynb: Path) -> str:
    """The notebook's cells as the .py text they stand for."""
    return jupytext.writes(jupytext.read(ipynb), fmt="py:percent")


def make_newer(path: Path, than: Path) -> None:
    later = than.stat().st_mtime + 5
    os.utime(path, (later, later))


def backups(course: Path, suffix: str) -> list[str]:
    folder = course / "backups"
    return [p.read_text(encoding="utf-8") for p in sorted(folder.glob(f"*{suffix}"))]


@pytest.fixture
def paired(course, capsys):
    """Lesson 1 paired with its notebook: (lesson file, notebook)."""
    target = lesson(1)
    status, _, _ = run(capsys, "1", "notebook")
    assert status == 0
    return target.path, target.path.with_suffix(".ipynb")


def test_both_sides_edited_refuses_names_both_and_overwrites_nothing(course, capsys, paired):
    path, ipynb = paired
    write_answer_in_notebook(ipynb)
    edit_lesson_later(path, ipynb)
    notebook_before, py_before = ipynb.read_bytes(), path.read_bytes()
    status, _out, err = run(capsys, "1", "notebook")
    assert status == 2 and err.count("\n") == 1 and err.startswith("gradlab: ")
    assert "lessons/01_gradient_tape.py and lessons/01_gradient_tape.ipynb" in err
    assert "both changed" in err and "--keep py" in err and "--keep ipynb" in err
    assert ipynb.read_bytes() == notebook_before and path.read_bytes() == py_before
    assert not (course / "backups").exists()


def test_keep_ipynb_takes_the_notebook_after_saving_the_py(course, capsys, paired):
    path, ipynb = paired
    write_answer_in_notebook(ipynb)
    edit_lesson_later(path, ipynb)
    py_before = path.read_text(encoding="utf-8")
    status, out, _ = run(capsys, "1", "notebook", "--keep", "ipynb")
    assert status == 0 and "backups/" in out
    assert ANSWER in path.read_text(encoding="utf-8")
    assert backups(course, ".py") == [py_before]
    assert run(capsys, "1", "notebook")[0] == 0  # in sync from now on


def test_keep_py_takes_the_lesson_after_saving_the_notebook(course, capsys, paired):
    path, ipynb = paired
    write_answer_in_notebook(ipynb)
    edit_lesson_later(path, ipynb)
    notebook_before = ipynb.read_text(encoding="utf-8")
    status, out, _ = run(capsys, "1", "notebook", "--keep", "py")
    assert status == 0 and "backups/" in out
    assert PY_EDIT in inputs(ipynb) and ANSWER not in inputs(ipynb)
    assert backups(course, ".ipynb") == [notebook_before]


def test_an_edited_notebook_wins_even_when_the_py_looks_newer(course, capsys, paired):
    path, ipynb = paired
    write_answer_in_notebook(ipynb)
    before = path.read_text(encoding="utf-8")
    make_newer(path, ipynb)  # e.g. touched by a checkout: a later mtime, the same text
    status, _out, _ = run(capsys, "1", "notebook")
    assert status == 0
    assert ANSWER in path.read_text(encoding="utf-8")
    assert backups(course, ".py") == [before]


def test_an_edited_py_wins_even_when_the_notebook_looks_newer(course, capsys, paired):
    path, ipynb = paired
    path.write_text(path.read_text(encoding="utf-8") + PY_EDIT, encoding="utf-8")
    make_newer(ipynb, path)  # e.g. Jupyter re-saved it without a change
    status, _out, _ = run(capsys, "1", "notebook")
    assert status == 0
    assert PY_EDIT in inputs(ipynb) and PY_EDIT in path.read_text(encoding="utf-8")


def test_outputs_are_not_an_edit(course, capsys, paired):
    path, ipynb = paired
    notebook = jupytext.read(ipynb)
    code = next(c for c in notebook.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\n")]
    jupytext.write(notebook, ipynb)
    edit_lesson_later(path, ipynb)
    status, _, err = run(capsys, "1", "notebook")
    assert status == 0, err
    assert "42" in ipynb.read_text(encoding="utf-8") and PY_EDIT in inputs(ipynb)


def test_a_notebook_that_is_not_json_is_one_line_and_left_untouched(course, capsys, paired):
    _, ipynb = paired
    ipynb.write_text('{"cells": [', encoding="utf-8")
    status, _, err = run(capsys, "1", "notebook")
    assert status == 2 and err.startswith("gradlab: ") and err.count("\n") == 1
    assert "not a valid notebook" in err and "--keep py" in err
    assert ipynb.read_text(encoding="utf-8") == '{"cells": ['
    status, _out, _ = run(capsys, "1", "notebook", "--keep", "py")
    assert status == 0 and backups(course, ".ipynb") == ['{"cells": [']
    assert jupytext.read(ipynb).cells


def test_differing_sides_without_a_record_are_not_guessed(course, capsys, paired):
    path, ipynb = paired
    for record in (course / "runs").rglob("notebook-sync.json"):
        record.unlink()
    write_answer_in_notebook(ipynb)
    status, _, err = run(capsys, "1", "notebook")
    assert status == 2 and "no record of their last sync" in err
    assert ANSWER not in path.read_text(encoding="utf-8")


def test_keep_goes_with_notebook_only(course, capsys):
    status, _, err = run(capsys, "1", "check", "--keep", "py")
    assert status == 2 and "--keep goes with notebook" in err
