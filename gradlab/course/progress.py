"""Remember which exercises passed, so the lesson list needs no TensorFlow.

``runs/progress.json`` maps each lesson to a fingerprint of what decides its
verdicts (the learner's setup and exercise cells, the lesson's checks and its
reference solutions) and the numbers of the exercises that passed. A record
whose fingerprint no longer matches is stale and ignored.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path

from gradlab.course.catalogue import Lesson
from gradlab.course.cells import RUN_BEFORE_CHECKS, code_of, parse_cells
from gradlab.course.exercise import exercises_of
from gradlab.course.source import functions_in, is_stub
from gradlab.course.verdict import Verdict


def fingerprint(target: Lesson) -> str:
    """A hash of everything a check of ``target``'s lesson file depends on."""
    text = target.path.read_text(encoding="utf-8")
    learner = code_of(parse_cells(text), RUN_BEFORE_CHECKS, text.count("\n") + 1)
    checks = "".join(
        inspect.getsource(inspect.getmodule(item.cases))
        for item in exercises_of(target.number)[:1]
    )
    solutions = target.solution_path.read_text(encoding="utf-8")
    digest = hashlib.sha256()
    for part in (learner, checks, solutions):
        digest.update(part.encode())
    return digest.hexdigest()


def _store(target: Lesson) -> Path:
    return target.root / "runs" / "progress.json"


def _load(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def record(target: Lesson, verdicts: list[Verdict]) -> None:
    """Store the verdicts of a full check of ``target``'s lesson file."""
    path = _store(target)
    records = _load(path)
    passed = sorted(verdict.exercise.number for verdict in verdicts if verdict.passed)
    records[str(target.number)] = {"fingerprint": fingerprint(target), "passed": passed}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    except OSError:
        pass  # progress is a convenience; a read-only checkout still checks fine


def passed(target: Lesson) -> set[int] | None:
    """The exercises known to pass, or ``None`` if that needs a fresh check.

    A lesson whose exercises are all pristine stubs needs no check: none pass.
    """
    exercises = exercises_of(target.number)
    functions = functions_in(target.path.read_text(encoding="utf-8"))
    if all(is_stub(functions[e.function]) for e in exercises if e.function in functions):
        return set()
    entry = _load(_store(target)).get(str(target.number))
    if entry and entry.get("fingerprint") == fingerprint(target):
        return set(entry.get("passed", []))
    return None
