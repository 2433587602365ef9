"""The learner's command line: ``python -m gradlab.lesson [N [VERB [K]]]``.

Exit status: 0 all good, 1 an exercise failed or is not written yet, 2 the
command or a file could not be used, or an exercise could not be judged (it
raised, timed out, or returned the wrong kind of value).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from gradlab import quiet_tensorflow
from gradlab.course.catalogue import Lesson, lesson, lessons
from gradlab.course.messages import CourseError, shown

USAGE = """\
python -m gradlab.lesson                         list lessons and exercises passed
python -m gradlab.lesson N                       run lesson N as a script
python -m gradlab.lesson N check [K]             check the exercises (or only K)
    --file PATH                                  ... in a copy kept elsewhere
    --solutions                                  ... in the reference solutions
python -m gradlab.lesson N hint K                the hint for exercise K
python -m gradlab.lesson N solution K [--yes]    the reference solution of K
python -m gradlab.lesson N reset                 restore the pristine lesson (backs yours up)
python -m gradlab.lesson N notebook [--open]     pair the lesson with a .ipynb and open it
    --keep py|ipynb                              ... keeping this side if both changed"""

VERBS = ("run", "check", "hint", "solution", "reset", "notebook")
NEEDS_EXERCISE = ("hint", "solution")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        raise CourseError(f"{message} (see python -m gradlab.lesson --help)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m gradlab.lesson",
        usage=USAGE,
        description="Run, check and get help with the gradlab lessons.",
        epilog="Exit status: 0 all passed; 1 an exercise failed or is not written yet; "
        "2 a usage or input error, or an exercise that raised, timed out or returned "
        "the wrong kind of value.",
    )
    parser.add_argument("lesson", nargs="?", help="lesson number")
    parser.add_argument("verb", nargs="?", default="run", help="what to do (default: run)")
    parser.add_argument("exercise", nargs="?", help="exercise number K (or L.K)")
    parser.add_argument("--file", type=Path, help="check this file instead of lessons/NN_*.py")
    parser.add_argument("--solutions", action="store_true", help="check the reference solutions")
    parser.add_argument("--yes", action="store_true", help="show a solution without asking")
    parser.add_argument("--open", action="store_true", help="start JupyterLab on the notebook")
    parser.add_argument(
        "--keep", choices=("py", "ipynb"), help="notebook: the side that wins if both changed"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    quiet_tensorflow()
    try:
        options = _parser().parse_args(argv)
        if options.lesson is None:
            return show_catalogue()
        return dispatch(options)
    except CourseError as error:
        print(f"gradlab: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gradlab: interrupted", file=sys.stderr)
        return 2


def dispatch(options: argparse.Namespace) -> int:
    """Validate the verb and its arguments, then run it."""
    target = lesson(options.lesson)
    verb = options.verb
    if verb not in VERBS:
        raise CourseError(f"unknown command {verb!r}: use one of {', '.join(VERBS)}")
    number = _exercise_number(target, options.exercise)
    if verb in NEEDS_EXERCISE and number is None:
        raise CourseError(f"say which exercise: python -m gradlab.lesson {target.number} {verb} K")
    if number is not None and verb not in (*NEEDS_EXERCISE, "check"):
        raise CourseError(f"{verb} takes no exercise number")
    if (options.file or options.solutions) and verb != "check":
        raise CourseError("--file and --solutions go with check")
    if options.keep and verb != "notebook":
        raise CourseError("--keep goes with notebook")
    if options.file and options.solutions:
        raise CourseError("use either --file or --solutions, not both")
    if verb == "run":
        return run(target)
    if verb == "check":
        return check(target, number, options.file, options.solutions)
    if verb == "hint":
        return hint(target, number)
    if verb == "solution":
        return solution(target, number, options.yes)
    if verb == "reset":
        return reset(target)
    return notebook(target, options.open, options.keep)


def _exercise_number(target: Lesson, text: str | None) -> int | None:
    if text is None:
        return None
    lesson_part, dot, exercise_part = text.partition(".")
    if dot and lesson_part != str(target.number):
        raise CourseError(f"exercise {text} is not in lesson {target.number}")
    digits = exercise_part if dot else text
    if not digits.isdigit():
        raise CourseError(f"{text!r} is not an exercise number")
    from gradlab.course.exercise import exercises_of

    count = len(exercises_of(target.number))
    if not 1 <= int(digits) <= count:
        raise CourseError(f"lesson {target.number} has no exercise {digits}: it has 1 to {count}")
    return int(digits)


# ── verbs ────────────────────────────────────────────────────────────────────


def show_catalogue() -> int:
    """Print every lesson with its exercises passed / total."""
    from gradlab.course import progress
    from gradlab.course.exercise import exercises_of

    catalogue = lessons()
    if not catalogue:
        raise CourseError("the lessons/ folder has no lessons")
    print(" #  lesson                                                       passed")
    for item in catalogue:
        total = len(exercises_of(item.number))
        known = progress.passed(item)
        if known is None:
            known = {v.exercise.number for v in _check_and_record(item) if v.passed}
        print(f"{item.number:2d}  {item.title[:60]:60} {len(known)}/{total}")
    print(
        "\nRun lesson N: python -m gradlab.lesson N    check it: python -m gradlab.lesson N check"
    )
    return 0


def _check_and_record(target: Lesson):
    from gradlab.course import progress
    from gradlab.course.judge import check_file

    try:
        verdicts = check_file(target, target.path)
    except CourseError:
        return []
    progress.record(target, verdicts)
    return verdicts


def run(target: Lesson) -> int:
    """Run the whole lesson as a script."""
    from gradlab.course.script import run_lesson

    return run_lesson(target)


def check(target: Lesson, number: int | None, file: Path | None, solutions: bool) -> int:
    """Check the lesson's exercises and print a verdict on each."""
    from gradlab.course import progress
    from gradlab.course.isolation import check_file, check_solutions
    from gradlab.course.verdict import ERROR, exit_status, tally

    if solutions:
        verdicts = check_solutions(target, number)
    else:
        verdicts = check_file(target, file or target.path, number)
        if file is None and number is None:
            progress.record(target, verdicts)
    for verdict in verdicts:
        stream = sys.stderr if verdict.status == ERROR else sys.stdout
        print(verdict, file=stream, flush=True)
    print(f"\nlesson {target.number}: {tally(verdicts)}")
    return exit_status(verdicts)


def hint(target: Lesson, number: int) -> int:
    """Print the hint for one exercise."""
    from gradlab.course.exercise import exercises_of

    exercise = exercises_of(target.number)[number - 1]
    print(f"Hint for {exercise.id} {exercise.function} ({exercise.title}):\n\n  {exercise.hint}")
    return 0


def solution(target: Lesson, number: int, yes: bool) -> int:
    """Show the reference solution, asking first if the exercise is not passed yet."""
    from gradlab.course.exercise import exercises_of
    from gradlab.course.source import function_source

    exercise = exercises_of(target.number)[number - 1]
    if not yes and not _passed(target, number) and not _confirm(exercise.id):
        print(
            f"Not shown. Try the hint first: {exercise.hint_command}"
            "  (or add --yes to see the solution)",
            file=sys.stderr,
        )
        return 1
    text = target.solution_path.read_text(encoding="utf-8")
    print(function_source(text, exercise.function))
    return 0


def _passed(target: Lesson, number: int) -> bool:
    from gradlab.course import progress
    from gradlab.course.judge import check_file

    known = progress.passed(target)
    if known is not None:
        return number in known
    try:
        return check_file(target, target.path, number)[0].passed
    except CourseError:
        return False


def _confirm(exercise_id: str) -> bool:
    if not sys.stdin.isatty():
        return False
    answer = input(f"You have not passed {exercise_id} yet. Show its solution anyway? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def reset(target: Lesson) -> int:
    """Restore the pristine lesson, backing up the learner's copy first."""
    from gradlab.course.pristine import reset as restore

    copy = restore(target)
    if copy is None:
        print(f"{shown(target.path)} is already pristine: nothing to do.")
    else:
        print(f"Your copy is saved as {shown(copy)}; {shown(target.path)} is pristine again.")
    return 0


def notebook(target: Lesson, open_it: bool, keep: str | None = None) -> int:
    """Create or sync the lesson's notebook, then open it or say how."""
    from gradlab.course.notebook import open_command, sync

    ipynb, saved = sync(target, keep)
    print(f"{shown(target.path)} and {shown(ipynb)} are paired and in sync.")
    if saved is not None:
        side = "notebook" if saved.suffix == ".ipynb" else ".py"
        print(f"(Your previous {side} was overwritten; it is saved as {shown(saved)}.)")
    if open_it:
        return subprocess.call([sys.executable, "-m", "jupyter", "lab", str(ipynb)])
    print(f"Open it with:  {open_command(ipynb)}")
    print("Edits saved in Jupyter update both files.")
    return 0
