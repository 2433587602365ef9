"""``runs/progress.json``: a fingerprint that cannot go stale, and writes that lose nothing.

The writers here are real processes (killed for real), as ``check``, ``watch``
and ``list`` would be.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.lesson_files import ROOT

WRITER = """
import sys
from gradlab.course import progress
from gradlab.course.catalogue import lesson

target = lesson(int(sys.argv[1]))
progress.record(target, [])
print("ready", flush=True)
for _ in range(int(sys.argv[2])):
    progress.record(target, [])
"""

FINGERPRINT = """
import gradlab
from gradlab.course import progress
from gradlab.course.catalogue import lesson
assert gradlab.__file__.startswith(sys.argv[1]), gradlab.__file__
print(progress.fingerprint(lesson(7)))
"""


def _python(
    course: Path, code: str, *arguments: str, site: Path | None = None
) -> subprocess.Popen:
    """``python -c code arguments`` in the course copy (with ``site`` first on its path)."""
    environment = {**os.environ, "GRADLAB_HOME": str(course)}
    if site is not None:
        environment["PYTHONPATH"] = str(site)
    return subprocess.Popen(
        [sys.executable, "-c", code, *arguments],
        cwd=course,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _seed(store: Path, count: int) -> dict:
    """A progress file with ``count`` made-up records, large enough that a write takes time."""
    records = {str(100 + n): {"fingerprint": "0" * 64, "passed": [1, 2, 3]} for n in range(count)}
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps(records, indent=2), encoding="utf-8")
    return records


def _records(store: Path) -> dict:
    return json.loads(store.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_two_writers_never_lose_each_others_record(course):
    store = course / "runs" / "progress.json"
    seeded = _seed(store, 2000)
    writers = [_python(course, WRITER, number, "150") for number in ("1", "2")]
    seen_broken = []
    while any(writer.poll() is None for writer in writers):
        try:
            records = _records(store)
        except (OSError, ValueError) as error:
            seen_broken.append(repr(error)[:80])
            continue
        if not seeded.keys() <= records.keys():
            seen_broken.append("a seeded record was lost")
    for writer in writers:
        assert writer.wait() == 0, writer.stderr.read()[-2000:]
    final = _records(store)
    assert {"1", "2"} <= final.keys() and seeded.keys() <= final.keys()
    assert seen_broken == [], f"{len(seen_broken)} broken reads, e.g. {seen_broken[:3]}"


@pytest.mark.slow
def test_a_killed_writer_leaves_the_file_whole(course):
    store = course / "runs" / "progress.json"
    seeded = _seed(store, 20_000)  # 2 MB: each write takes a while
    whole = store.stat().st_size
    damaged = []
    for attempt in range(8):
        writer = _python(course, WRITER, "1", "100000")
        assert writer.stdout.readline() == "ready\n", writer.stderr.read()[-2000:]
        # Kill it the moment the file is seen half written (a writer killed then leaves
        # it so: an in-place write shows that state), or else at a deadline.
        deadline = time.monotonic() + 0.1 * (attempt + 1)
        while time.monotonic() < deadline:
            size = store.stat().st_size
            if size < whole // 2:
                damaged.append(f"seen at {size} bytes while being written")
                break
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        try:
            records = _records(store)
        except ValueError as error:
            damaged.append(f"left at {store.stat().st_size} bytes: {error}")
            continue
        if not seeded.keys() <= records.keys():
            damaged.append("records lost")
    assert damaged == [], f"{len(damaged)} problems in 8 kills: {damaged[:3]}"


@pytest.fixture
def package_copy(tmp_path) -> Path:
    """A copy of the gradlab package that a test may edit, first on ``sys.path``."""
    folder = tmp_path / "site"
    shutil.copytree(ROOT / "gradlab", folder / "gradlab", ignore=shutil.ignore_patterns("*.pyc"))
    return folder


def _fingerprint(course: Path, site: Path) -> str:
    process = _python(course, "import sys\n" + FINGERPRINT, str(site), site=site)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-2000:]
    return out.strip()


@pytest.mark.parametrize(
    "edited",
    [
        "course/checks/models.py",  # a helper the checks share
        "course/checks/lesson07.py",  # the lesson's own checks
        "course/checks/lesson05.py",  # another lesson's checks: the engine as a whole
        "course/judge.py",  # the engine
        "teaching/devices.py",  # imported by lesson 7's checks
        "tfsupport/lazy.py",  # imported by everything that touches TensorFlow
    ],
)
def test_fingerprint_changes_with_what_a_verdict_depends_on(course, package_copy, edited):
    before = _fingerprint(course, package_copy)
    with open(package_copy / "gradlab" / edited, "a", encoding="utf-8") as source:
        source.write("\n# changed\n")
    assert _fingerprint(course, package_copy) != before


def test_fingerprint_ignores_what_no_check_imports(course, package_copy):
    before = _fingerprint(course, package_copy)
    with open(package_copy / "gradlab" / "teaching" / "plots.py", "a", encoding="utf-8") as source:
        source.write("\n# changed\n")
    assert _fingerprint(course, package_copy) == before


def test_a_writer_clears_what_killed_writers_left(course):
    from gradlab.course import progress
    from gradlab.course.catalogue import lesson

    runs = course / "runs"
    runs.mkdir()
    orphan = runs / ".progress.json.k1ll3d.tmp"
    orphan.write_text('{"half": ', encoding="utf-8")
    progress.record(lesson(1), [])
    assert not orphan.exists()
    assert set(json.loads((runs / "progress.json").read_text(encoding="utf-8"))) == {"1"}
