"""The course engine: what ``python -m gradlab.lesson`` drives.

- :mod:`~gradlab.course.cli` — the command line and its verbs.
- :mod:`~gradlab.course.catalogue` — where the course is, and its lessons.
- :mod:`~gradlab.course.cells`, :mod:`~gradlab.course.source` — a lesson file's
  cells and functions, read without running them.
- :mod:`~gradlab.course.exercise` — what an exercise is; the per-lesson
  declarations live in :mod:`gradlab.course.checks`.
- :mod:`~gradlab.course.loading` — running a lesson's setup and exercise cells.
- :mod:`~gradlab.course.judge` — checking an answer against the reference
  (:mod:`~gradlab.course.isolation` runs each exercise's check in a child
  process the command can stop);
  :mod:`~gradlab.course.answers` compares values, :mod:`~gradlab.course.describe`
  shows them, :mod:`~gradlab.course.verdict` is the outcome,
  :mod:`~gradlab.course.time_limit` stops a runaway exercise.
- :mod:`~gradlab.course.script`, :mod:`~gradlab.course.notebook`,
  :mod:`~gradlab.course.pristine`, :mod:`~gradlab.course.progress` — running a
  lesson, pairing it with a notebook, resetting it, remembering what passed
  (:mod:`~gradlab.course.files` replaces their state files atomically).
- :mod:`~gradlab.course.watch` — re-checking at every save (:mod:`~gradlab.course.recheck`
  decides what a save can have changed, :mod:`~gradlab.course.watch_view` draws the
  terminal view).
- :mod:`~gradlab.course.workspace` — ``gradlab init``: a learner's workspace made
  from an installed wheel, and ``--update``.
- :mod:`~gradlab.course.zygote`, :mod:`~gradlab.course.execute` — a warm
  process that has imported TensorFlow once, forking kernels and lesson runs;
  executing lessons as notebooks on those kernels (the tests and the docs build).
"""

from gradlab.course.catalogue import Lesson, course_root, lesson, lessons
from gradlab.course.messages import CourseError

__all__ = ["CourseError", "Lesson", "course_root", "lesson", "lessons"]
