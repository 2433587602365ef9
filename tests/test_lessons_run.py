"""Every lesson runs as a script and as a notebook on a real kernel, quietly."""

from __future__ import annotations

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from gradlab.course.catalogue import lessons
from gradlab.tfsupport.quiet import TENSORFLOW_NOISE
from tests.lesson_files import run_in_course

LESSONS = lessons()


def _quiet(text: str) -> bool:
    return not any(marker in text for marker in TENSORFLOW_NOISE)


@pytest.mark.slow
@pytest.mark.parametrize("target", LESSONS, ids=lambda t: f"lesson{t.number}")
def test_lesson_runs_as_a_script_without_noise(target, course):
    result = run_in_course(course, "-m", "gradlab.lesson", str(target.number))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert _quiet(result.stdout + result.stderr), result.stderr[-2000:]
    assert "Traceback" not in result.stdout + result.stderr
    assert list((course / "runs" / f"lesson{target.number:02d}").glob("figure-*.png"))


@pytest.mark.slow
@pytest.mark.parametrize("target", LESSONS, ids=lambda t: f"lesson{t.number}")
def test_lesson_executes_as_a_notebook_with_no_error_cell(target, course, monkeypatch):
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel shows figures inline
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)  # the lesson must quieten itself
    notebook = jupytext.read(course / "lessons" / target.path.name)
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(course / "lessons")}},
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert _quiet(text), text[:2000]
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure was shown"
    assert "✗ 1.1" in text if target.number == 1 else True


@pytest.mark.parametrize("target", LESSONS, ids=lambda t: f"lesson{t.number}")
def test_notebook_pair_regenerates_the_lesson_without_a_diff(target, tmp_path):
    source = target.path.read_text(encoding="utf-8")
    notebook_path = tmp_path / "lesson.ipynb"
    nbformat.write(jupytext.reads(source, fmt="py:percent"), notebook_path)
    back = jupytext.writes(nbformat.read(notebook_path, as_version=4), fmt="py:percent")
    assert back == source
