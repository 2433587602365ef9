"""gradlab without a clone: the built wheel, installed in a fresh virtual environment.

The environment is made offline from the uv cache (``uv sync --frozen --offline
--no-install-project`` into a folder outside the repository, then the wheel with
``--no-deps``), so TensorFlow is linked from the cache, not downloaded. Every
command then runs outside the clone, with ``GRADLAB_HOME`` unset.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lesson_files import ROOT, replace_function

pytestmark = pytest.mark.slow

LIBRARY_SECTION = "## Use the tools in your own code"


def _uv(*arguments: str, env: dict[str, str] | None = None) -> None:
    uv = shutil.which("uv")
    assert uv, "these tests need uv on PATH (it builds the wheel and the environment)"
    subprocess.run([uv, *arguments], cwd=ROOT, check=True, env=env)


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh virtual environment outside the repository, with only the wheel installed."""
    place = tmp_path_factory.mktemp("wheel")
    _uv("build", "--wheel", "-q", "-o", str(place / "dist"))
    (wheel,) = (place / "dist").glob("gradlab-*.whl")
    environment = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    environment["UV_PROJECT_ENVIRONMENT"] = str(place / "venv")
    _uv(
        *("sync", "-q", "--frozen", "--offline", "--no-install-project", "--no-default-groups"),
        *("--python", sys.executable),  # the interpreter whose wheels the cache holds
        env=environment,
    )
    python = place / "venv" / "bin" / "python"
    _uv("pip", "install", "-q", "--offline", "--no-deps", "--python", str(python), str(wheel))
    return place / "venv"


@pytest.fixture
def learner(venv, tmp_path):
    """Run a command as a learner would: the venv's bin first on PATH, cwd outside the clone."""
    hidden = ("GRADLAB_HOME", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"

    def run(*command: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess:
        return subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600
        )

    return run


def test_init_check_solve_and_reset_without_a_clone(learner, tmp_path):
    made = learner("gradlab", "init", "course")
    assert made.returncode == 0, made.stderr
    course = tmp_path / "course"
    lesson = course / "lessons" / "01_gradient_tape.py"
    pristine = (ROOT / "lessons" / lesson.name).read_bytes()
    assert lesson.read_bytes() == pristine
    assert "python -m gradlab.lesson 1" in made.stdout

    stubs = learner("python", "-m", "gradlab.lesson", "1", "check", cwd=course)
    assert stubs.returncode == 1, stubs.stdout + stubs.stderr

    shown = learner("python", "-m", "gradlab.lesson", "1", "solution", "1", "--yes", cwd=course)
    assert shown.returncode == 0, shown.stderr
    pasted = replace_function(lesson.read_text(), "slope_at", shown.stdout)
    lesson.write_text(pasted)
    solved = learner("python", "-m", "gradlab.lesson", "1", "check", "1", cwd=course)
    assert solved.returncode == 0, solved.stdout + solved.stderr

    reset = learner("gradlab", "1", "reset", cwd=course)
    assert reset.returncode == 0, reset.stderr
    assert lesson.read_bytes() == pristine
    (backup,) = (course / "backups").iterdir()
    assert backup.read_text() == pasted


def test_init_into_a_non_empty_folder_is_one_line_and_exit_2(learner, tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    refused = learner("gradlab", "init", "taken")
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "not empty" in refused.stderr
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["notes.txt"]


def test_init_into_a_read_only_folder_is_one_line_and_exit_2(learner, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    # root ignores permission bits, so make the folder immutable instead
    lock = ["chattr", "+i"] if os.geteuid() == 0 else ["chmod", "0555"]
    subprocess.run([*lock, str(locked)], check=True)
    try:
        refused = learner("python", "-m", "gradlab", "init", str(locked / "course"))
    finally:
        unlock = ["chattr", "-i"] if os.geteuid() == 0 else ["chmod", "0755"]
        subprocess.run([*unlock, str(locked)], check=True)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "cannot write" in refused.stderr
    assert not (locked / "course").exists()


def test_lesson_commands_outside_a_workspace_say_how_to_get_one(learner):
    for command in (("python", "-m", "gradlab.lesson", "1", "check"), ("gradlab",)):
        outside = learner(*command)
        assert outside.returncode == 2
        assert outside.stderr.count("\n") == 1 and "gradlab init" in outside.stderr


LIBRARY = """
import logging, os, sys
os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)
import tensorflow as tf
tf.get_logger().setLevel(logging.DEBUG)
from gradlab.gradcheck import check_gradients
from gradlab.tensorboard import GradientTensorBoard, log_gradients
from gradlab.diagnose import diagnose
import gradlab
assert GradientTensorBoard.__name__ == "GradientTensorBoard"  # loads Keras lazily
assert tf.get_logger().level == logging.DEBUG, tf.get_logger().level
assert "TF_CPP_MIN_LOG_LEVEL" not in os.environ  # quiet_tensorflow() was not called
assert not [f for f in sys.meta_path if type(f).__module__.startswith("gradlab")]
course = [m for m in sys.modules if m.startswith(("gradlab.course", "gradlab.teaching"))]
assert not course, course
print(gradlab.__file__)
"""


def test_the_tools_import_without_the_course_and_leave_logging_alone(learner, venv):
    imported = learner("python", "-c", LIBRARY)
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert Path(imported.stdout.strip()).is_relative_to(venv)


def readme_examples() -> list[str]:
    """The Python blocks of the README's library section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(LIBRARY_SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)


def test_the_readme_has_one_example_per_tool():
    imported = [re.findall(r"from gradlab\.(\w+) import", code) for code in readme_examples()]
    assert imported == [["gradcheck"], ["tensorboard"], ["diagnose"]]


@pytest.mark.parametrize("index", range(3), ids=["gradcheck", "tensorboard", "diagnose"])
def test_the_readme_library_examples_run_from_the_wheel(learner, index):
    ran = learner("python", "-c", readme_examples()[index])
    assert ran.returncode == 0, ran.stderr[-3000:]
