"""Hostile but realistic input to every verb: one line on stderr, exit 2, never a traceback.

Each fault is tried against every verb it can reach: a lesson file with a byte
that is not UTF-8, a lesson or exercise number written with non-ASCII digits,
``--file`` pointing at a directory, a lesson file or ``backups/`` that cannot be
written, and a lesson file the learner deleted.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gradlab.course.catalogue import lesson
from gradlab.lesson import main
from tests.lesson_files import with_solutions

VERBS = {
    "list": [],
    "run": ["1"],
    "check": ["1", "check"],
    "check one": ["1", "check", "2"],
    "hint": ["1", "hint", "2"],
    "solution": ["1", "solution", "2"],
    "reset": ["1", "reset"],
    "notebook": ["1", "notebook"],
}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line(status: int, out: str, err: str, *words: str) -> None:
    assert status == 2, (out, err)
    assert err.startswith("gradlab: ") and err.count("\n") == 1, err
    assert "Traceback" not in out + err
    for word in words:
        assert word in err, err


# ── a lesson file that is not UTF-8 ──────────────────────────────────────────


def spoil_encoding(path: Path) -> bytes:
    """Put a Latin-1 byte in a comment on line 3, as an editor set to Latin-1 would."""
    lines = path.read_bytes().split(b"\n")
    lines[2] += b"  # caf\xe9"
    spoiled = b"\n".join(lines)
    path.write_bytes(spoiled)
    return spoiled


@pytest.mark.parametrize("verb", ["list", "run", "check", "check one", "solution", "notebook"])
def test_non_utf8_lesson_is_one_line_naming_the_line(course, capsys, verb):
    spoil_encoding(lesson(1).path)
    status, out, err = run(capsys, *VERBS[verb])
    assert_one_line(status, out, err, "01_gradient_tape.py, line 3", "0xe9 is not UTF-8")


def test_non_utf8_lesson_still_has_a_hint(course, capsys):
    spoil_encoding(lesson(1).path)
    status, out, _ = run(capsys, *VERBS["hint"])
    assert status == 0 and "?" in out


def test_reset_repairs_a_non_utf8_lesson_and_keeps_its_bytes(course, capsys):
    target = lesson(1)
    pristine = target.path.read_bytes()
    spoiled = spoil_encoding(target.path)
    status, _, err = run(capsys, "1", "reset")
    assert status == 0, err
    assert target.path.read_bytes() == pristine
    assert [b.read_bytes() for b in (course / "backups").iterdir()] == [spoiled]


# ── numbers written with digits that are not ASCII ──────────────────────────


@pytest.mark.parametrize("digit", ["²", "١", "１"])
@pytest.mark.parametrize("verb", [verb for verb in VERBS if verb != "list"])
def test_non_ascii_lesson_number(course, capsys, verb, digit):
    argv = [digit, *VERBS[verb][1:]]
    assert_one_line(*run(capsys, *argv), "no lesson")


@pytest.mark.parametrize("exercise", ["²", "1.²", "².1", "١"])
@pytest.mark.parametrize("verb", ["check", "hint", "solution"])
def test_non_ascii_exercise_number(course, capsys, verb, exercise):
    assert_one_line(*run(capsys, "1", verb, exercise), "not an exercise number")


@pytest.mark.parametrize("exercise", ["²", "1.²", "١.١"])
def test_notebook_check_with_a_non_ascii_id_says_so(course, capsys, exercise):
    import gradlab

    gradlab.check(exercise, lambda f, x: 0.0)
    out = capsys.readouterr().out
    assert out.startswith(f"✗ {exercise}: ") and "not an exercise number" in out


# ── --file pointing at a directory ──────────────────────────────────────────


@pytest.mark.parametrize("verb", ["check", "check one"])
def test_file_that_is_a_directory_is_called_one(course, capsys, verb):
    assert_one_line(*run(capsys, *VERBS[verb], "--file", "lessons"), "lessons is a directory")


@pytest.mark.parametrize(
    "verb", [verb for verb in VERBS if verb not in ("list", "check", "check one")]
)
def test_file_option_with_other_verbs(course, capsys, verb):
    assert_one_line(*run(capsys, *VERBS[verb], "--file", "lessons"), "go with check")


# ── reset when something cannot be written ──────────────────────────────────


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    """``chattr +i``: not even root may write, rename or delete it (undone on the way out)."""
    if shutil.which("chattr") is None:
        pytest.skip("needs chattr")
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"chattr +i does not work here: {made.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_reset_of_an_unwritable_lesson_keeps_the_copy_it_saved(course, capsys):
    target = lesson(1)
    mine = with_solutions(target)
    target.path.write_text(mine, encoding="utf-8")
    with immutable(target.path):
        status, out, err = run(capsys, "1", "reset")
    assert_one_line(status, out, err, "cannot write lessons/01_gradient_tape.py", "backups/")
    assert target.path.read_text(encoding="utf-8") == mine
    assert [b.read_text(encoding="utf-8") for b in (course / "backups").iterdir()] == [mine]


def test_reset_with_unwritable_backups_leaves_the_lesson_alone(course, capsys):
    target = lesson(1)
    mine = with_solutions(target)
    target.path.write_text(mine, encoding="utf-8")
    (course / "backups").mkdir()
    with immutable(course / "backups"):
        status, out, err = run(capsys, "1", "reset")
    assert_one_line(status, out, err, "cannot save a backup", "left as it is")
    assert target.path.read_text(encoding="utf-8") == mine


# ── a lesson file the learner deleted ───────────────────────────────────────


def test_reset_restores_a_deleted_lesson(course, capsys):
    target = lesson(1)
    pristine = target.path.read_text(encoding="utf-8")
    target.path.unlink()
    status, out, err = run(capsys, "1", "reset")
    assert status == 0, err
    assert target.path.read_text(encoding="utf-8") == pristine
    assert "restored" in out


def test_list_shows_a_deleted_lesson_as_missing_with_the_command(course, capsys):
    lesson(1).path.unlink()
    status, out, _ = run(capsys)
    assert status == 0
    row = next(line for line in out.splitlines() if line.startswith(" 1 "))
    assert "missing" in row and "python -m gradlab.lesson 1 reset" in row


@pytest.mark.parametrize("verb", ["run", "check", "notebook"])
def test_verbs_on_a_deleted_lesson_say_how_to_restore_it(course, capsys, verb):
    lesson(1).path.unlink()
    assert_one_line(*run(capsys, *VERBS[verb]), "missing", "python -m gradlab.lesson 1 reset")
