"""Remember which exercises passed, so the lesson list needs no TensorFlow.

``runs/progress.json`` maps each lesson to a fingerprint of what decides its
verdicts and the numbers of the exercises that passed. A record whose
fingerprint no longer matches is stale and ignored. The fingerprint covers
the learner's setup and exercise cells, the lesson's reference solutions, the
whole engine (``gradlab/course``, every lesson's checks included) and every
gradlab module those import, transitively, found by reading their import
statements, not by running them (``list`` must not import TensorFlow). Like
the docs build's cache key, it errs on the side of checking again.

Several commands may write at once (``check`` in a terminal, ``watch``, ``list``),
so a record is merged under a lock on ``runs/progress.json.lock`` and the file
is replaced atomically: a writer that is killed leaves the old file whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from gradlab.course.catalogue import Lesson
from gradlab.course.cells import RUN_BEFORE_CHECKS, code_of, parse_cells
from gradlab.course.exercise import exercises_of
from gradlab.course.files import leftover_temporaries, replace_atomically
from gradlab.course.source import functions_in, is_stub
from gradlab.course.verdict import Verdict

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; the atomic replace still holds
    fcntl = None

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # the gradlab package
_ENGINE = Path(__file__).resolve().parent  # gradlab/course


def fingerprint(target: Lesson) -> str:
    """A hash of everything a check of ``target``'s lesson file depends on."""
    text = target.text
    learner = code_of(parse_cells(text), RUN_BEFORE_CHECKS, text.count("\n") + 1)
    # The engine, without the copy of the course an installed wheel carries in content/:
    # its pristine lessons decide no verdict, and the lesson's solutions are added below.
    engine = sorted(
        p for p in _ENGINE.rglob("*.py") if "content" not in p.relative_to(_ENGINE).parts
    )
    digest = hashlib.sha256(learner.encode())
    for path in sorted(gradlab_sources([*engine, target.solution_path])):
        where = target.root if path.is_relative_to(target.root) else _PACKAGE_ROOT.parent
        digest.update(b"\0" + path.relative_to(where).as_posix().encode() + b"\0")
        digest.update(_read(path))
    return digest.hexdigest()


def gradlab_sources(start: list[Path]) -> set[Path]:
    """``start`` and every gradlab source file they import, transitively."""
    found: set[Path] = set()
    pending = list(start)
    while pending:
        path = pending.pop()
        if path in found or not path.is_file():
            continue
        found.add(path)
        pending += [_module_file(name) for name in _imported(path)]
    return found


def _read(path: Path) -> bytes:
    return _read_version(path, path.stat().st_mtime_ns)


@cache
def _read_version(path: Path, mtime: int) -> bytes:
    return path.read_bytes()


def _imported(path: Path) -> frozenset[str]:
    """The gradlab modules ``path`` imports anywhere (also inside functions)."""
    return _imported_version(path, path.stat().st_mtime_ns)


# ``import gradlab.x[, ...]`` and ``from gradlab.x import a, b`` (parenthesised too), at
# any indentation: read with a pattern, not ast.parse, which costs ten times more.
_IMPORT = re.compile(
    r"^[ \t]*import[ \t]+(?P<modules>gradlab[\w.]*(?:[ \t]*,[ \t]*[\w.]+)*)", re.M
)
_FROM = re.compile(
    r"^[ \t]*from[ \t]+(?P<module>gradlab[\w.]*)[ \t]+import[ \t]+"
    r"(?:\((?P<grouped>[^)]*)\)|(?P<names>[^\n#]*))",
    re.M,
)


@cache
def _imported_version(path: Path, mtime: int) -> frozenset[str]:
    text = _read(path).decode("utf-8", errors="replace")
    names = {
        module.strip()
        for found in _IMPORT.finditer(text)
        for module in found["modules"].split(",")
    }
    for found in _FROM.finditer(text):
        listed = (found["grouped"] or found["names"] or "").replace("\\", " ")
        imported = [item.split(" as ")[0].strip() for item in listed.split(",")]
        # ``from gradlab.x import y``: y may be a module or a name in x; try both.
        names |= {found["module"], *(f"{found['module']}.{name}" for name in imported if name)}
    return frozenset(name for name in names if name == "gradlab" or name.startswith("gradlab."))


@cache
def _module_file(name: str) -> Path:
    relative = Path(*name.split(".")[1:])
    module = _PACKAGE_ROOT / relative.with_suffix(".py") if relative.parts else None
    if module is not None and module.is_file():
        return module
    return _PACKAGE_ROOT / relative / "__init__.py"


def _store(target: Lesson) -> Path:
    return target.root / "runs" / "progress.json"


def _load(path: Path) -> dict:
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return records if isinstance(records, dict) else {}


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path``'s lock file (released if the process dies)."""
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _remove_orphans(path: Path) -> None:
    """Delete temporary files killed writers left: under the lock, no other write is going on."""
    for orphan in leftover_temporaries(path):
        with contextlib.suppress(OSError):
            orphan.unlink()


def record(target: Lesson, verdicts: list[Verdict]) -> None:
    """Store the verdicts of a full check of ``target``'s lesson file."""
    path = _store(target)
    passed = sorted(verdict.exercise.number for verdict in verdicts if verdict.passed)
    entry = {"fingerprint": fingerprint(target), "passed": passed}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(path):
            _remove_orphans(path)
            records = _load(path)
            records[str(target.number)] = entry
            replace_atomically(path, json.dumps(records, indent=2) + "\n")
    except OSError:
        pass  # progress is a convenience; a read-only checkout still checks fine


def passed(target: Lesson) -> set[int] | None:
    """The exercises known to pass, or ``None`` if that needs a fresh check.

    A lesson whose exercises are all pristine stubs needs no check: none pass.
    Raises :class:`CourseError` if the lesson file is missing or unreadable.
    """
    exercises = exercises_of(target.number)
    functions = functions_in(target.text)
    if all(is_stub(functions[e.function]) for e in exercises if e.function in functions):
        return set()
    entry = _load(_store(target)).get(str(target.number))
    if isinstance(entry, dict) and entry.get("fingerprint") == fingerprint(target):
        return set(entry.get("passed", []))
    return None
