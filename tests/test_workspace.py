"""`gradlab init` workspaces, in-process: the clone stands in for the installed course."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import gradlab
from gradlab.__main__ import main as gradlab_main
from gradlab.course import pristine, workspace
from gradlab.course.catalogue import MARKER, course_root, lesson, shipped_course
from gradlab.course.cli import main as lesson_main
from tests.lesson_files import ROOT


@pytest.fixture
def made(tmp_path, monkeypatch) -> Path:
    """A fresh workspace in tmp, as the current folder, with GRADLAB_HOME unset."""
    monkeypatch.delenv("GRADLAB_HOME", raising=False)
    folder = tmp_path / "course"
    assert gradlab_main(["init", str(folder)]) == 0
    monkeypatch.chdir(folder)
    return folder


def test_init_writes_lessons_readme_and_marker(made):
    shipped = sorted(p.name for p in (ROOT / "lessons").glob("[0-9][0-9]_*.py"))
    assert sorted(p.name for p in (made / "lessons").iterdir()) == shipped
    assert "python -m gradlab.lesson 1" in (made / "README.md").read_text()
    recorded = json.loads((made / MARKER).read_text())["pristine"]
    assert sorted(recorded) == shipped
    assert not (made / "solutions").exists()  # the solutions stay in the package


def test_the_engine_finds_the_workspace_from_a_subfolder(made, monkeypatch):
    monkeypatch.chdir(made / "lessons")
    assert course_root() == made
    target = lesson(1)
    assert target.root == made
    assert target.solution_path == shipped_course() / "solutions" / target.path.name


def test_reset_in_a_workspace_restores_the_shipped_copy_without_git(made, capsys):
    target = lesson(1)
    original = target.path.read_bytes()
    target.path.write_text("# my edits\n")
    assert lesson_main(["1", "reset"]) == 0
    assert target.path.read_bytes() == original
    (saved,) = (made / "backups").iterdir()
    assert saved.read_text() == "# my edits\n"
    assert pristine.pristine_text(target).encode() == original


def test_init_refuses_a_non_empty_folder(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert gradlab_main(["init", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "not empty" in error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_init_refuses_an_existing_workspace(made, capsys):
    assert gradlab_main(["init", str(made)]) == 2
    assert "--update" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["init", "a", "b"], ["init", "--force"]])
def test_init_usage_errors_are_one_line(tmp_path, monkeypatch, capsys, argv):
    monkeypatch.chdir(tmp_path)
    assert gradlab_main(argv) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "gradlab init --help" in error
    assert not any(tmp_path.iterdir())


def test_init_into_an_empty_folder_is_fine(tmp_path):
    assert gradlab_main(["init", str(tmp_path)]) == 0
    assert (tmp_path / MARKER).is_file()


def test_lesson_commands_outside_a_workspace_say_to_run_init(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GRADLAB_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("gradlab.course.catalogue._PACKAGE", tmp_path / "site" / "gradlab")
    assert lesson_main(["1", "check"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "gradlab init" in error


def test_update_adds_new_lessons_refreshes_unedited_ones_and_skips_edited_ones(made, capsys):
    lessons = made / "lessons"
    marker = json.loads((made / MARKER).read_text())
    new = "08_custom_gradients.py"  # as if the workspace predates lesson 8
    (lessons / new).unlink()
    del marker["pristine"][new]
    old = "02_tf_gradients.py"  # as if lesson 2 shipped differently before, never edited
    (lessons / old).write_text("# lesson 2, older edition\n")
    marker["pristine"][old] = workspace.digest(b"# lesson 2, older edition\n")
    (made / MARKER).write_text(json.dumps(marker))
    edited = lessons / "01_gradient_tape.py"
    edited.write_text(edited.read_text() + "\n# my notes\n")

    assert gradlab_main(["init", "--update"]) == 0
    out = capsys.readouterr().out
    assert f"added lessons/{new}" in out
    assert f"refreshed lessons/{old}" in out
    assert "skipped lessons/01_gradient_tape.py: you edited it" in out
    for name in (new, old):
        assert (lessons / name).read_bytes() == (ROOT / "lessons" / name).read_bytes()
    assert edited.read_text().endswith("# my notes\n")

    assert gradlab_main(["init", "--update"]) == 0  # the second time only the edit remains
    assert capsys.readouterr().out.splitlines() == [
        "skipped lessons/01_gradient_tape.py: you edited it (reset it to get the new version)"
    ]


def test_update_leaves_a_deleted_lesson_deleted(made, capsys):
    (made / "lessons" / "03_tensorboard.py").unlink()
    assert gradlab_main(["init", "--update"]) == 0
    assert not (made / "lessons" / "03_tensorboard.py").exists()


def test_update_outside_a_workspace_is_one_line(tmp_path, capsys):
    assert gradlab_main(["init", "--update", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "not a gradlab workspace" in error


def test_version_follows_the_locked_tensorflow_series():
    lock = (ROOT / "uv.lock").read_text()
    (locked,) = re.findall(r'^name = "tensorflow"\nversion = "(\d+\.\d+)\.', lock, re.M)
    assert gradlab.__version__.startswith(locked + ".")
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'"tensorflow>={locked},' in pyproject
