"""Run an exercise's check: the learner's function against the reference.

Used by the CLI (``check``), by pytest, and by :func:`gradlab.check` in a
notebook, so all three give the same verdict with the same words.
"""

from __future__ import annotations

import copy
import functools
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gradlab.course.answers import WRONG_KIND, Mismatch, Tolerance, compare
from gradlab.course.catalogue import Lesson, lesson
from gradlab.course.describe import describe, describe_call
from gradlab.course.exercise import (
    Arguments,
    Exercise,
    Labelled,
    Mistake,
    exercises_of,
    find_exercise,
)
from gradlab.course.loading import load_exercise_cells, load_module_file, only_in_demo
from gradlab.course.messages import CourseError, first_line, line_in, one_line, shown
from gradlab.course.time_limit import (
    ExerciseTimeout,
    UserInterrupt,
    time_limit,
    user_interrupts_marked,
)
from gradlab.course.verdict import ERROR, FAIL, PASS, TODO, Verdict
from gradlab.tfsupport.quiet import tensorflow_warnings_hidden

# ── checking ─────────────────────────────────────────────────────────────────


def reference_functions(target: Lesson) -> dict[str, Any]:
    """The namespace of the lesson's reference solutions (loaded once per process; read only).

    Loading runs no TensorFlow operation (the solutions only import and
    define), so a process may load them and still fork fresh TensorFlow runtimes.
    """
    path = target.solution_path
    return _solutions(path.resolve(), path.stat().st_mtime_ns)


@functools.cache
def _solutions(path: Path, modified: int) -> dict[str, Any]:
    return load_module_file(path)


def load_learner(path: Path) -> dict[str, Any]:
    """Run the setup and exercise cells of ``path`` (an exit or interrupt there: CourseError)."""
    try:
        with user_interrupts_marked():
            return load_exercise_cells(path)
    except UserInterrupt:
        raise
    except (SystemExit, KeyboardInterrupt) as stop:
        raise CourseError(
            f"{shown(path)}: running its setup and exercise cells {stop_reason(stop)}"
        ) from None


def check_file(target: Lesson, path: Path, only: int | None = None) -> list[Verdict]:
    """Check the exercises of ``target`` as written in ``path`` (all, or exercise ``only``)."""
    exercises = select(target, only)
    learner = load_learner(path)
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
    # Every case, mistake and answer makes its own tf.function: TensorFlow would call that
    # retracing and print its warning inside the verdict.
    with tensorflow_warnings_hidden():
        try:
            cases = exercise.cases()
        except CourseError:
            raise  # the course explains what the checks need (e.g. lesson 7's devices)
        except Exception as error:
            return _checker_broken(exercise, error)
        for index, case in enumerate(cases):
            key = (exercise.lesson, exercise.number, exercise.cases, index)
            verdict = _check_case(exercise, candidate, solution, case.make, path, key)
            if verdict is not None:
                return verdict
    plural = "case agrees" if len(cases) == 1 else f"{len(cases)} cases agree"
    return Verdict(exercise, PASS, f"{plural} with the reference")


def own_arguments(make: Callable[[], Arguments]) -> Arguments:
    """Fresh arguments from ``make``, with shared function objects copied.

    Cases may hand every call the same function object (a module-level
    ``Labelled``); a copy per call means an answer that sets one of its
    attributes cannot change what the reference or a later check is given.
    """
    return {name: _own(value) for name, value in make().items()}


def _own(value: Any) -> Any:
    if isinstance(value, Labelled):
        return copy.copy(value)
    if isinstance(value, types.FunctionType):
        code, defaults, closure = value.__code__, value.__defaults__, value.__closure__
        clone = types.FunctionType(code, value.__globals__, value.__name__, defaults, closure)
        clone.__dict__.update(value.__dict__)
        clone.__kwdefaults__ = copy.copy(value.__kwdefaults__)
        return clone
    return value


_OBSERVED: dict[tuple, Any] = {}
"""What the reference and each known mistake gave on each case, kept for the process.

Both are fixed functions of a seeded case, and every answer judged needs them
again (a wrong one, every mistake's): the second answer is judged at the cost of
running the answer alone. Keyed by the function object, so a reloaded solutions
file is observed afresh.
"""


def _observed(exercise: Exercise, function: Callable[..., Any], make, key: tuple) -> Any:
    """What the reference gives on the case ``key`` (its errors are not kept: they propagate)."""
    slot = (*key, function)
    if slot not in _OBSERVED:
        _OBSERVED[slot] = exercise.observe(function, own_arguments(make))
    return _OBSERVED[slot]


def _mistake_output(exercise: Exercise, mistake: Mistake, make, key: tuple) -> Any:
    """What a known mistake gives on the case ``key``: a value, or the error it raised."""
    slot = (*key, mistake.answer)
    if slot not in _OBSERVED:
        try:
            _OBSERVED[slot] = exercise.observe(mistake.answer, own_arguments(make))
        except Exception as error:
            _OBSERVED[slot] = _Raised.of(error)
    return _OBSERVED[slot]


def _check_case(exercise, candidate, solution, make, path, key) -> Verdict | None:
    try:
        expected = _observed(exercise, solution, make, key)
    except CourseError:
        raise
    except Exception as error:
        return _checker_broken(exercise, error)
    arguments = own_arguments(make)
    call = describe_call(exercise.function, arguments)
    try:
        with time_limit(exercise.time_limit, call):
            got = exercise.observe(candidate, arguments)
    except NotImplementedError:
        return _todo(exercise, path)
    except ExerciseTimeout:
        return timeout_verdict(exercise, call)
    except Exception as error:
        return _raised(exercise, error, make, key, call, path)
    except UserInterrupt:
        raise
    except (SystemExit, KeyboardInterrupt) as stop:
        return _stopped(exercise, stop, call)
    try:
        mismatch = compare(got, expected, _tolerance(exercise))
        if mismatch is None:
            return None
        return _wrong(exercise, mismatch, got, expected, make, key, call)
    except Exception as error:
        return _checker_broken(exercise, error)


def timeout_verdict(exercise: Exercise, call: str) -> Verdict:
    """The verdict on a call of the learner's function that outlived the exercise's limit."""
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


def stop_reason(stop: BaseException) -> str:
    """``"exited with sys.exit(0)"`` or ``"raised KeyboardInterrupt"``: how code stopped."""
    if isinstance(stop, SystemExit):
        code = "" if stop.code is None else repr(stop.code)
        return f"exited with sys.exit({code})"
    return f"raised {one_line(stop)}"


def _stopped(exercise: Exercise, stop: BaseException, call: str) -> Verdict:
    return Verdict(
        exercise,
        ERROR,
        f"{stop_reason(stop)} instead of returning, so it could not be judged",
        (
            ("call", call),
            ("try", "return the answer: exiting or interrupting stops the checker too"),
            ("hint", exercise.hint_command),
        ),
    )


def _checker_broken(exercise: Exercise, error: Exception) -> Verdict:
    """The checker's own side (reference, cases, comparison) raised: one verdict, no traceback."""
    return Verdict(
        exercise,
        ERROR,
        f"could not be judged: the checker's own code raised {one_line(error)}",
        (
            (
                "try",
                "if your code changes TensorFlow (tf.GradientTape = ...) or the objects it is "
                "given, undo that; in a notebook, restart the kernel and run the setup cell",
            ),
        ),
    )


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


def _raised(exercise, error, make, key, call, path) -> Verdict:
    if demo := only_in_demo(error, path):
        return Verdict(exercise, ERROR, demo, (("call", call), ("hint", exercise.hint_command)))
    mistake = _recognise(exercise, make, key, _Raised.of(error))
    details = [("call", call), ("raised", one_line(error) + line_in(error, path, prefix=" at"))]
    if mistake:
        details.append(("mistake", f"{mistake.name}: {mistake.advice}"))
    details.append(("hint", exercise.hint_command))
    if mistake:
        return Verdict(
            exercise, FAIL, f"raised an exception ({mistake.name})", (*details,), mistake
        )
    return Verdict(exercise, ERROR, "raised an exception", tuple(details))


def _wrong(exercise, mismatch: Mismatch, got, expected, make, key, call) -> Verdict:
    mistake = _recognise(exercise, make, key, got)
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
        return cls(type(error), first_line(error))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Raised) and (self.kind, self.message) == (
            other.kind,
            other.message,
        )

    __hash__ = None  # type: ignore[assignment]


def _recognise(
    exercise: Exercise, make: Callable[[], Arguments], key: tuple, got: Any
) -> Mistake | None:
    """The known mistake whose answer matches ``got`` on this case, if any."""
    for mistake in exercise.mistakes:
        theirs = _mistake_output(exercise, mistake, make, key)
        if isinstance(got, _Raised) or isinstance(theirs, _Raised):
            # Only a _Raised equals a _Raised; never ask a tensor (whose == is element-wise).
            if isinstance(got, _Raised) and got == theirs:
                return mistake
            continue
        if compare(got, theirs, _tolerance(exercise)) is None:
            return mistake
    return None


# ── notebooks ────────────────────────────────────────────────────────────────


def check_in_notebook(exercise_id: str, function: Callable[..., Any]) -> None:
    """Print the verdict on one exercise; never raises."""
    try:
        exercise = find_exercise(exercise_id)
        target = lesson(exercise.lesson)
        verdict = check_exercise(exercise, function, reference_functions(target))
    except CourseError as error:
        print(f"✗ {exercise_id}: {error}")
    except UserInterrupt:
        raise  # the learner pressed stop: stopping "Run All" is what they asked for
    except (Exception, SystemExit, KeyboardInterrupt) as error:  # never break "Run All"
        print(f"✗ {exercise_id}: could not be checked: {one_line(error)}")
    else:
        print(verdict)
