"""The learner's command line: ``python -m gradlab.lesson [N [VERB [K]]]``.

Its commands and exit statuses are written once, in :data:`COMMANDS` and
:data:`EXIT_STATUS`: the usage text and ``--help`` are made from them, and a
test keeps the README's command list and exit-status sentence equal to them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from gradlab import quiet_tensorflow
from gradlab.course.catalogue import Lesson, lesson, lessons
from gradlab.course.exercise import Exercise, find_exercise
from gradlab.course.messages import CourseError, shown

PROGRAM = "python -m gradlab.lesson"

COMMANDS: tuple[tuple[str, str], ...] = (
    ("", "list lessons with exercises passed / total"),
    ("N", "run lesson N top to bottom (figures saved in runs/)"),
    ("N check", "check the exercises in lessons/NN_*.py"),
    ("N check K", "only exercise K"),
    ("N check --file PATH", "check a copy of the lesson kept elsewhere"),
    ("N check --solutions", "check the reference solutions"),
    ("N watch", "check lesson N again at every save (Ctrl-C stops); keys h, l, q"),
    ("watch", "watch the first lesson not fully passed"),
    ("N hint K", "a hint for exercise K"),
    ("N solution K", "the reference solution (asks first if K is not passed; --yes skips)"),
    ("N reset", "restore the pristine lesson; your copy goes to backups/"),
    (
        "N notebook",
        "pair the lesson with a .ipynb and say how to open it (--open starts JupyterLab)",
    ),
    ("N notebook --keep SIDE", "both edited since the last sync: keep SIDE (py or ipynb)"),
)
"""Every command: its arguments after ``python -m gradlab.lesson``, and what it does."""

EXIT_STATUS: tuple[tuple[int, str], ...] = (
    (0, "everything passed"),
    (1, "an exercise is wrong or not written yet"),
    (
        2,
        "a usage or input error (no such lesson or exercise, a missing or unreadable file, "
        "a syntax error), or an exercise that could not be judged because it raised, ran "
        "longer than its time limit, exited or ended its process, or returned the wrong "
        "type, shape or dtype",
    ),
)
"""What each exit status of the command line means."""


def command_lines() -> list[str]:
    """The command list as the README and ``--help`` show it, one line per command."""
    return [f"{PROGRAM} {arguments:<24}{text}" for arguments, text in COMMANDS]


def exit_status_sentence(bold: bool = False) -> str:
    """``Exit status: 0 ...; 1 ...; 2 ....`` (with Markdown bold numbers if ``bold``)."""
    mark = "**" if bold else ""
    parts = [f"{mark}{status}{mark} {meaning}" for status, meaning in EXIT_STATUS]
    return f"Exit status: {'; '.join(parts)}."


VERBS = ("run", "check", "watch", "hint", "solution", "reset", "notebook")
NEEDS_EXERCISE = ("hint", "solution")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        raise CourseError(f"{message} (see python -m gradlab.lesson --help)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROGRAM,
        usage="\n".join(command_lines()),
        description="Run, check and get help with the gradlab lessons.",
        epilog=exit_status_sentence(),
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
        options = _parser().parse_intermixed_args(argv)
        if options.lesson is None:
            return show_catalogue()
        if options.lesson == "watch" and options.verb == "run" and options.exercise is None:
            if options.file or options.solutions or options.keep:
                raise CourseError("watch takes no --file, --solutions or --keep")
            return watch(None)
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
    exercise = None if options.exercise is None else find_exercise(options.exercise, target.number)
    if verb in NEEDS_EXERCISE and exercise is None:
        raise CourseError(f"say which exercise: {PROGRAM} {target.number} {verb} K")
    if exercise is not None and verb not in (*NEEDS_EXERCISE, "check"):
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
        return check(target, exercise, options.file, options.solutions)
    if verb == "watch":
        return watch(target)
    if verb == "hint":
        return hint(exercise)
    if verb == "solution":
        return solution(target, exercise, options.yes)
    if verb == "reset":
        return reset(target)
    return notebook(target, options.open, options.keep)


# ── verbs ────────────────────────────────────────────────────────────────────


def show_catalogue() -> int:
    """Print every lesson with its exercises passed / total (2 if a lesson cannot be read)."""
    catalogue = lessons()
    if not catalogue:
        raise CourseError("the lessons/ folder has no lessons")
    print(" #  lesson                                                       passed")
    problems = []
    for item in catalogue:
        try:
            status = _progress_of(item)
        except CourseError as error:
            problems.append(error)
            status = "cannot read it (see below)"
        print(f"{item.number:2d}  {item.title[:60]:60} {status}")
    print(f"\nRun lesson N: {PROGRAM} N    check it: {PROGRAM} N check")
    if problems:
        print(f"gradlab: {problems[0]}", file=sys.stderr)
        return 2
    return 0


def _progress_of(item: Lesson) -> str:
    """``passed/total`` for one lesson, checking it if its progress is not known."""
    from gradlab.course import progress
    from gradlab.course.exercise import exercises_of

    if not item.exists:
        return f"missing: restore it with {item.restore_command}"
    total = len(exercises_of(item.number))
    known = progress.passed(item)
    if known is None:
        known = {v.exercise.number for v in _check_and_record(item) if v.passed}
    return f"{len(known)}/{total}"


def _check_and_record(target: Lesson):
    from gradlab.course import progress
    from gradlab.course.isolation import check_file

    try:
        verdicts = check_file(target, target.path)
    except CourseError:
        return []
    progress.record(target, verdicts)
    return verdicts


def run(target: Lesson) -> int:
    """Run the whole lesson as a script."""
    from gradlab.course.script import run_lesson

    target.require_readable()
    return run_lesson(target)


def check(target: Lesson, exercise: Exercise | None, file: Path | None, solutions: bool) -> int:
    """Check the lesson's exercises and print a verdict on each."""
    from gradlab.course import progress
    from gradlab.course.isolation import check_file, check_solutions
    from gradlab.course.verdict import ERROR, exit_status, tally_line

    number = None if exercise is None else exercise.number
    if solutions:
        verdicts = check_solutions(target, number)
    else:
        if file is None:
            target.require_readable()
        verdicts = check_file(target, file or target.path, number)
        if file is None and number is None:
            progress.record(target, verdicts)
    for verdict in verdicts:
        stream = sys.stderr if verdict.status == ERROR else sys.stdout
        print(verdict, file=stream, flush=True)
    print(f"\n{tally_line(target.number, verdicts)}")
    return exit_status(verdicts)


def watch(target: Lesson | None) -> int:
    """Check the lesson (or the first not fully passed) at every save until Ctrl-C."""
    from gradlab.course.watch import first_unfinished, watch_lesson

    return watch_lesson(target or first_unfinished())


def hint(exercise: Exercise) -> int:
    """Print the hint for one exercise."""
    print(f"Hint for {exercise.id} {exercise.function} ({exercise.title}):\n\n  {exercise.hint}")
    return 0


def solution(target: Lesson, exercise: Exercise, yes: bool) -> int:
    """Show the reference solution, asking first if the exercise is not passed yet."""
    from gradlab.course.source import function_source, read_source

    if not yes and not _passed(target, exercise) and not _confirm(exercise.id):
        print(
            f"Not shown. Try the hint first: {exercise.hint_command}"
            "  (or add --yes to see the solution)",
            file=sys.stderr,
        )
        return 1
    print(function_source(read_source(target.solution_path), exercise.function))
    return 0


def _passed(target: Lesson, exercise: Exercise) -> bool:
    from gradlab.course import progress
    from gradlab.course.isolation import check_file

    known = progress.passed(target)
    if known is not None:
        return exercise.number in known
    try:
        return check_file(target, target.path, exercise.number)[0].passed
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

    was_there = target.exists
    copy = restore(target)
    if not was_there:
        print(f"{shown(target.path)} was missing; it is restored, pristine.")
    elif copy is None:
        print(f"{shown(target.path)} is already pristine: nothing to do.")
    else:
        print(f"Your copy is saved as {shown(copy)}; {shown(target.path)} is pristine again.")
    return 0


def notebook(target: Lesson, open_it: bool, keep: str | None = None) -> int:
    """Create or sync the lesson's notebook, then open it or say how."""
    from gradlab.course.notebook import open_command, sync

    target.require_readable()
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
