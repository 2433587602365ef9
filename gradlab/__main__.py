"""The ``gradlab`` command: ``gradlab init [DIR]`` makes a workspace; anything else is a
lesson command (``gradlab 1 check`` is ``python -m gradlab.lesson 1 check``)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run ``gradlab ...``; return the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["init"]:
        from gradlab.course.workspace import main as init

        return init(argv[1:])
    from gradlab.course.cli import main as lesson_command

    return lesson_command(argv)


if __name__ == "__main__":
    sys.exit(main())
