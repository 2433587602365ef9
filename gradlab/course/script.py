"""Run a lesson top to bottom as a script, saving its figures instead of showing them."""

from __future__ import annotations

import os
from pathlib import Path

from gradlab.course.catalogue import Lesson
from gradlab.course.loading import compiled
from gradlab.course.messages import line_in, one_line, shown


def run_lesson(target: Lesson) -> int:
    """Execute every cell of the lesson file; 0 if it ran to the end, 1 if a cell raised."""
    os.environ["MPLBACKEND"] = "Agg"  # never open a window, never block
    text = target.path.read_text(encoding="utf-8")
    code = compiled(text, target.path)
    _save_figures_on_show(target.run_dir)
    namespace = {"__name__": "__main__", "__file__": str(target.path)}
    try:
        exec(code, namespace)
    except Exception as error:
        print(f"error: {shown(target.path)}{line_in(error, target.path)}: {one_line(error)}")
        return 1
    return 0


def _save_figures_on_show(folder: Path) -> None:
    """Make ``plt.show()`` save each open figure to ``folder`` and close it."""
    import matplotlib.pyplot as plt

    counter = iter(range(1, 1000))

    def save_and_close(*args, **kwargs) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for number in plt.get_fignums():
            path = folder / f"figure-{next(counter):02d}.png"
            plt.figure(number).savefig(path, dpi=100)
            print(f"[figure saved: {shown(path)}]")
        plt.close("all")

    plt.show = save_and_close
