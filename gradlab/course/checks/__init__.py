"""One module per lesson, ``lessonNN``, each declaring its ``EXERCISES``."""
