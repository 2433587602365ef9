"""``python -m gradlab.lesson``: the learner's command line (see :mod:`gradlab.course.cli`)."""

import sys

from gradlab.course.cli import main

if __name__ == "__main__":
    sys.exit(main())
