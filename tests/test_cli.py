"""The learner's commands, run in-process on a private copy of the course."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gradlab.course.catalogue import lesson, lessons
from gradlab.course.cli import command_lines, exit_status_sentence
from gradlab.lesson import main
from tests.lesson_files import ROOT, replace_function, run_in_course, with_solutions

LESSON_FILE = "lessons/01_gradient_tape.py"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def write_variant(course: Path, name: str, function: str, source: str) -> Path:
    """A copy of lesson 1 kept elsewhere, with one exercise rewritten."""
    text = (course / LESSON_FILE).read_text(encoding="utf-8")
    path = course / name
    path.write_text(replace_function(text, function, source), encoding="utf-8")
    return path


def test_list_shows_every_lesson_with_passed_over_total(course, capsys):
    status, out, _ = run(capsys)
    assert status == 0
    assert "GradientTape" in out and "0/6" in out


def test_list_of_a_pristine_course_does_not_import_tensorflow(course):
    listing = (
        "import sys; from gradlab.lesson import main; status = main([]); "
        "sys.exit(status or ('tensorflow' in sys.modules and 'imported TensorFlow'))"
    )
    result = run_in_course(course, "-c", listing, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_list_counts_exercises_that_pass(course, capsys):
    target = lesson(1)
    target.path.write_text(with_solutions(target), encoding="utf-8")
    status, out, _ = run(capsys)
    assert status == 0 and "6/6" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["9"],
        ["x"],
        ["-1"],
        ["1", "bogus"],
        ["1", "hint"],
        ["1", "hint", "7"],
        ["1", "hint", "2.1"],
        ["1", "check", "x"],
        ["1", "run", "2"],
        ["1", "hint", "1", "--file", "a.py"],
        ["1", "check", "--file", "missing.py"],
        ["1", "check", "--file", "pyproject.toml"],
    ],
)
def test_bad_input_gets_one_line_and_exit_2(course, capsys, argv):
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert err.startswith("gradlab: ") and err.count("\n") == 1
    assert "Traceback" not in out + err


def test_pristine_lesson_fails_with_a_verdict_per_exercise(course, capsys):
    status, out, _ = run(capsys, "1", "check")
    assert status == 1
    assert out.count("not written yet") == 6
    assert "0 of 6 exercises passed" in out


def test_reference_solutions_pass(course, capsys):
    status, out, _ = run(capsys, "1", "check", "--solutions")
    assert status == 0 and "6 of 6 exercises passed" in out


def test_file_with_solutions_pasted_in_passes(course, capsys):
    path = course / "my_copy.py"
    path.write_text(with_solutions(lesson(1)), encoding="utf-8")
    status, out, _ = run(capsys, "1", "check", "--file", str(path))
    assert status == 0 and "6 of 6 exercises passed" in out


def test_check_one_exercise_only(course, capsys):
    status, out, _ = run(capsys, "1", "check", "2")
    assert status == 1
    assert "1.2" in out and "1.1" not in out


@pytest.mark.parametrize(
    "argv", [("1", "check", "--solutions", "3"), ("1", "check", "3", "--solutions")]
)
def test_options_may_come_before_or_after_the_exercise_number(course, capsys, argv):
    status, out, _ = run(capsys, *argv)
    assert status == 0
    assert "✓ 1.3" in out and "1.2" not in out


def test_syntax_error_names_the_line_and_leaves_the_file_untouched(course, capsys):
    path = write_variant(course, "broken.py", "slope_at", "def slope_at(f, x):\n    return (\n")
    before = path.read_text(encoding="utf-8")
    status, _, err = run(capsys, "1", "check", "--file", str(path))
    line = before.splitlines().index("    return (") + 1
    assert status == 2
    assert f"broken.py, line {line}" in err and "syntax error" in err
    assert path.read_text(encoding="utf-8") == before


def test_exercise_that_raises_shows_the_exception_line(course, capsys):
    source = "def slope_at(f, x):\n    return {}['missing']\n"
    path = write_variant(course, "raises.py", "slope_at", source)
    status, out, err = run(capsys, "1", "check", "1", "--file", str(path))
    assert status == 2
    assert "KeyError: 'missing'" in err and "raises.py, line" in err
    assert "Traceback" not in out + err


def test_wrong_shape_is_reported_as_such(course, capsys):
    source = "def gradient_wrt_constant(f, x):\n    return tf.zeros((7,))\n"
    path = write_variant(course, "shape.py", "gradient_wrt_constant", source)
    status, _, err = run(capsys, "1", "check", "2", "--file", str(path))
    assert status == 2
    assert "wrong shape" in err and "expected shape" in err


def test_wrong_dtype_is_reported_as_such(course, capsys):
    source = (
        "def gradient_wrt_constant(f, x):\n"
        "    x = tf.cast(x, tf.float64)\n"
        "    with tf.GradientTape() as tape:\n"
        "        tape.watch(x)\n"
        "        y = tf.reduce_sum(x ** 2)\n"
        "    return tape.gradient(y, x)\n"
    )
    path = write_variant(course, "dtype.py", "gradient_wrt_constant", source)
    status, _, err = run(capsys, "1", "check", "2", "--file", str(path))
    assert status == 2 and "expected dtype float32, got dtype float64" in err


def test_exercise_that_loops_forever_is_stopped(course, capsys):
    source = "def slope_at(f, x):\n    while True:\n        pass\n"
    path = write_variant(course, "loop.py", "slope_at", source)
    status, _, err = run(capsys, "1", "check", "1", "--file", str(path))
    assert status == 2 and "still running after 5 s" in err


def test_hint_asks_a_question(course, capsys):
    status, out, _ = run(capsys, "1", "hint", "2")
    assert status == 0 and "?" in out


def test_solution_of_an_unpassed_exercise_is_not_shown_without_consent(course, capsys):
    status, out, err = run(capsys, "1", "solution", "3")
    assert status == 1
    assert "persistent" not in out and "--yes" in err


def test_solution_with_yes_shows_the_reference(course, capsys):
    status, out, _ = run(capsys, "1", "solution", "3", "--yes")
    assert status == 0 and "def two_gradients" in out and "persistent=True" in out


def test_reset_backs_up_the_learners_copy_then_restores_the_lesson(course, capsys):
    target = lesson(1)
    pristine = target.path.read_text(encoding="utf-8")
    mine = with_solutions(target)
    target.path.write_text(mine, encoding="utf-8")
    status, out, _ = run(capsys, "1", "reset")
    assert status == 0
    assert target.path.read_text(encoding="utf-8") == pristine
    backups = list((course / "backups").glob("01_gradient_tape.*.py"))
    assert [b.read_text(encoding="utf-8") for b in backups] == [mine]
    assert "backups/" in out


def test_reset_of_a_pristine_lesson_changes_nothing(course, capsys):
    status, out, _ = run(capsys, "1", "reset")
    assert status == 0 and "already pristine" in out
    assert not (course / "backups").exists()


def test_notebook_pairs_the_lesson_without_touching_it(course, capsys):
    target = lesson(1)
    before = target.path.read_text(encoding="utf-8")
    status, out, _ = run(capsys, "1", "notebook")
    assert status == 0
    assert target.path.with_suffix(".ipynb").is_file()
    assert "jupyter lab" in out
    assert target.path.read_text(encoding="utf-8") == before


def test_notebook_edited_in_jupyter_updates_the_lesson_after_a_backup(course, capsys):

    import jupytext

    target = lesson(1)
    run(capsys, "1", "notebook")
    ipynb = target.path.with_suffix(".ipynb")
    notebook = jupytext.read(ipynb)
    notebook.cells[-1].source += "\n\nWritten in Jupyter."
    jupytext.write(notebook, ipynb)
    later = target.path.stat().st_mtime + 5
    os.utime(ipynb, (later, later))
    before = target.path.read_text(encoding="utf-8")
    status, out, _ = run(capsys, "1", "notebook")
    assert "backups/" in out
    assert status == 0 and "Written in Jupyter." in target.path.read_text(encoding="utf-8")
    assert [b.read_text(encoding="utf-8") for b in (course / "backups").iterdir()] == [before]


def _line_of(path: Path, text: str) -> int:
    return path.read_text(encoding="utf-8").splitlines().index(text) + 1


def test_answer_using_a_demo_only_name_is_told_which_cell(course, capsys):
    source = "def slope_at(f, x):\n    return piecewise(x)\n"
    path = write_variant(course, "demo_name.py", "slope_at", source)
    status, out, err = run(capsys, "1", "check", "1", "--file", str(path))
    line = _line_of(path, "def piecewise(x):")
    assert status == 2
    assert f"uses piecewise, which only the demo cell at line {line} defines" in err
    assert "define it in your exercise cell" in err and "Traceback" not in out + err


def test_exercise_cell_using_a_demo_only_name_is_one_line(course, capsys):
    source = "def slope_at(f, x, shape=piecewise):\n    return 0.0\n"
    path = write_variant(course, "demo_default.py", "slope_at", source)
    status, _, err = run(capsys, "1", "check", "--file", str(path))
    assert status == 2 and err.count("\n") == 1
    assert "uses piecewise, which only the demo cell at line" in err


def _readme_section(title: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_readme_lists_the_commands_the_cli_knows():
    block = _readme_section("The learner's commands").split("```")[1].strip("\n")
    assert block.splitlines() == command_lines()


def test_readme_states_the_exit_statuses_the_cli_uses():
    section = " ".join(_readme_section("The learner's commands").split())
    assert exit_status_sentence(bold=True) in section


def test_help_shows_the_same_commands_and_exit_statuses(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert all(" ".join(line.split()) in out for line in command_lines())
    assert exit_status_sentence() in out


@pytest.mark.slow
def test_every_lesson_with_its_solutions_pasted_in_passes_its_check(course, capsys):
    for target in lessons():
        target.path.write_text(with_solutions(target), encoding="utf-8")
        status, out, err = run(capsys, str(target.number), "check")
        assert status == 0, out + err
