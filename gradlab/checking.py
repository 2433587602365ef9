"""Run an exercise's check: the learner's function against the reference.

Used by the CLI (``check``), by pytest, and by :func:`gradlab.check` in a
notebook, so all three give the same verdict with the same words.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gradlab.cells import RUN_BEFORE_CHECKS, code_of, parse_cells
from gradlab.compare import WRONG_KIND, Mismatch, Tolerance, compare
from gradlab.course import CourseError, Lesson, lesson
from gradlab.describe import describe, describe_call
from gradlab.exercise import Arguments, Exercise, Mistake, exercises_of
from gradlab.report import ERROR, FAIL, PASS, TODO, Verdict
from gradlab.timeout import ExerciseTimeout, time_limit

_MESSAGE_LIMIT = 300


def shown(path: Path) -> str:
    """``path`` relative to the current folder when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# ── loading ──────────────────────────────────────────────────────────────────


def load_exercise_cells(path: Path) -> dict[str, Any]:
    """Run only the setup and exercise cells of a lesson file; return its namespace."""
    if not path.is_file():
        raise CourseError(f"{shown(path)}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CourseError(f"{shown(path)}: cannot read it ({error})") from None
    cells = parse_cells(text)
    if not any("exercise" in cell.tags for cell in cells):
        raise CourseError(
            f'{shown(path)} is not a gradlab lesson: it has no cell tagged "exercise"'
        )
    return _execute(code_of(cells, RUN_BEFORE_CHECKS, text.count("\n") + 1), path)


def load_module_file(path: Path) -> dict[str, Any]:
    """Run a whole Python file (a solutions file) and return its namespace."""
    return _execute(path.read_text(encoding="utf-8"), path)


def _execute(code: str, path: Path) -> dict[str, Any]:
    try:
        compiled = compile(code, str(path), "exec")
    except SyntaxError as error:
        raise CourseError(
            f"{shown(path)}, line {error.lineno}: syntax error: {error.msg}"
        ) from None
    namespace: dict[str, Any] = {"__name__": "gradlab_exercises", "__file__": str(path)}
    try:
        exec(compiled, namespace)
    except Exception as error:
        raise CourseError(
            f"{shown(path)}{line_in(error, path)}: running its setup and exercise cells "
            f"raised {one_line(error)}"
        ) from None
    return namespace


# ── checking ─────────────────────────────────────────────────────────────────


def reference_functions(target: Lesson) -> dict[str, Any]:
    """The namespace of the lesson's reference solutions."""
    return load_module_file(target.solution_path)


def check_file(target: Lesson, path: Path, only: int | None = None) -> list[Verdict]:
    """Check the exercises of ``target`` as written in ``path`` (all, or exercise ``only``)."""
    exercises = select(target, only)
    learner = load_exercise_cells(path)
    return _check_all(exercises, learner, reference_functions(target), path)


def check_solutions(target: Lesson, only: int | None = None) -> list[Verdict]:
    """Check the reference solutions themselves (they must pass their own checks)."""
    exercises = select(target, only)
    reference = reference_functions(target)
    return _check_all(exercises, reference, reference, target.solution_path)


def _check_all(exercises, functions, reference, path) -> list[Verdict]:
    return [
        check_exercise(item, functions.get(item.function), reference, path) for item in exercises
    ]


def select(target: Lesson, only: int | None) -> list[Exercise]:
    """The lesson's exercises, or just exercise ``only``; :class:`CourseError` if absent."""
    exercises = exercises_of(target.number)
    if only is None:
        return exercises
    chosen = [item for item in exercises if item.number == only]
    if not chosen:
        raise CourseError(
            f"lesson {target.number} has no exercise {only}: "
            f"its exercises are 1 to {len(exercises)}"
        )
    return chosen


def check_exercise(
    exercise: Exercise,
    candidate: Callable[..., Any] | None,
    reference: dict[str, Any],
    path: Path | None = None,
) -> Verdict:
    """Compare ``candidate`` with the reference on every case of ``exercise``."""
    if not callable(candidate):
        where = f"{shown(path)} has" if path else "there is"
        return Verdict(
            exercise,
            ERROR,
            f"{where} no function named {exercise.function}",
            (("try", f"keep the name and signature of the stub: def {exercise.function}(...)"),),
        )
    solution = reference[exercise.function]
    cases = exercise.cases()
    for case in cases:
        verdict = _check_case(exercise, candidate, solution, case.make, path)
        if verdict is not None:
            return verdict
    plural = "case agrees" if len(cases) == 1 else f"{len(cases)} cases agree"
    return Verdict(exercise, PASS, f"{plural} with the reference")


def _check_case(exercise, candidate, solution, make, path) -> Verdict | None:
    expected = exercise.observe(solution, make())
    arguments = make()
    call = describe_call(exercise.function, arguments)
    try:
        with time_limit(exercise.time_limit):
            got = exercise.observe(candidate, arguments)
    except NotImplementedError:
        return _todo(exercise, path)
    except ExerciseTimeout:
        return Verdict(
            exercise,
            ERROR,
            f"still running after {exercise.time_limit:g} s, so it was stopped",
            (
                ("call", call),
                ("try", "look for a loop that never ends"),
                ("hint", exercise.hint_command),
            ),
        )
    except Exception as error:
        return _raised(exercise, error, make, call, path)
    mismatch = compare(got, expected, _tolerance(exercise))
    if mismatch is None:
        return None
    return _wrong(exercise, mismatch, got, expected, make, call)


def _tolerance(exercise: Exercise) -> Tolerance:
    return Tolerance(exercise.rtol, exercise.atol, exercise.exact_dtype)


def _todo(exercise: Exercise, path: Path | None) -> Verdict:
    where = f" in {shown(path)}" if path else ""
    return Verdict(
        exercise,
        TODO,
        "not written yet (it still raises NotImplementedError)",
        (
            ("next", f"write its body below '# YOUR CODE HERE'{where}"),
            ("hint", exercise.hint_command),
        ),
    )


def _raised(exercise, error, make, call, path) -> Verdict:
    mistake = _recognise(exercise, make, _Raised.of(error))
    details = [("call", call), ("raised", one_line(error) + line_in(error, path, prefix=" at"))]
    if mistake:
        details.append(("mistake", f"{mistake.name}: {mistake.advice}"))
    details.append(("hint", exercise.hint_command))
    if mistake:
        return Verdict(
            exercise, FAIL, f"raised an exception ({mistake.name})", (*details,), mistake
        )
    return Verdict(exercise, ERROR, "raised an exception", tuple(details))


def _wrong(exercise, mismatch: Mismatch, got, expected, make, call) -> Verdict:
    mistake = _recognise(exercise, make, got)
    details = [("call", call), ("got", _at(got, mismatch)), ("expected", _at(expected, mismatch))]
    if mismatch.kind == "value":
        details.append(("largest error", _error_text(mismatch)))
    else:
        details.append(("problem", mismatch.detail))
    if mistake:
        details.append(("mistake", f"{mistake.name}: {mistake.advice}"))
    details.append(("hint", exercise.hint_command))
    wrong_kind = mismatch.kind in WRONG_KIND and mistake is None
    summary = f"returned the wrong {mismatch.kind}" if wrong_kind else "returned a wrong answer"
    if mistake:
        summary = f"returned a wrong answer ({mistake.name})"
    return Verdict(exercise, ERROR if wrong_kind else FAIL, summary, tuple(details), mistake)


def _at(value: Any, mismatch: Mismatch) -> str:
    text = describe(value)
    return f"{text}   (at {mismatch.where})" if mismatch.where and len(text) < 70 else text


def _error_text(mismatch: Mismatch) -> str:
    where = f"{mismatch.where}" if mismatch.where else ""
    index = f"[{', '.join(map(str, mismatch.index))}]" if mismatch.index else ""
    place = f" at {where}{index}" if where or index else ""
    return f"{mismatch.max_error:.3g}{place} ({mismatch.detail})"


# ── known mistakes ───────────────────────────────────────────────────────────


class _Raised:
    """An exception reduced to what identifies it: its type and first line."""

    def __init__(self, kind: type, message: str) -> None:
        self.kind, self.message = kind, message

    @classmethod
    def of(cls, error: BaseException) -> _Raised:
        return cls(type(error), _first_line(error))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Raised) and (self.kind, self.message) == (
            other.kind,
            other.message,
        )

    __hash__ = None  # type: ignore[assignment]


def _recognise(exercise: Exercise, make: Callable[[], Arguments], got: Any) -> Mistake | None:
    """The known mistake whose answer matches ``got`` on this case, if any."""
    for mistake in exercise.mistakes:
        try:
            theirs = exercise.observe(mistake.answer, make())
        except Exception as error:
            theirs = _Raised.of(error)
        if isinstance(got, _Raised) or isinstance(theirs, _Raised):
            if isinstance(got, _Raised) and got == theirs:
                return mistake
            continue
        if compare(got, theirs, _tolerance(exercise)) is None:
            return mistake
    return None


# ── messages ─────────────────────────────────────────────────────────────────


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else ""


def one_line(error: BaseException) -> str:
    message = _first_line(error)
    if len(message) > _MESSAGE_LIMIT:
        message = message[: _MESSAGE_LIMIT - 1] + "…"
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def line_in(error: BaseException, path: Path | None, prefix: str = ", line") -> str:
    """``, line N`` of the last traceback frame inside ``path`` (empty if none)."""
    if path is None:
        return ""
    frames = [
        frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename == str(path)
    ]
    if not frames:
        return ""
    if prefix == ", line":
        return f", line {frames[-1].lineno}"
    return f"{prefix} {shown(path)}, line {frames[-1].lineno}"


# ── notebooks ────────────────────────────────────────────────────────────────


def check_in_notebook(exercise_id: str, function: Callable[..., Any]) -> None:
    """Print the verdict on one exercise; never raises."""
    try:
        number, item = _parse_id(exercise_id)
        target = lesson(number)
        verdict = check_exercise(select(target, item)[0], function, reference_functions(target))
    except CourseError as error:
        print(f"✗ {exercise_id}: {error}")
    except Exception as error:  # never break "Run All"
        print(f"✗ {exercise_id}: could not be checked: {one_line(error)}")
    else:
        print(verdict)


def _parse_id(exercise_id: str) -> tuple[int, int]:
    lesson_part, _, exercise_part = str(exercise_id).partition(".")
    if not (lesson_part.isdigit() and exercise_part.isdigit()):
        raise CourseError(f'{exercise_id!r} is not an exercise id like "1.2"')
    return int(lesson_part), int(exercise_part)
