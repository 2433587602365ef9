"""Shared pytest set-up: a quiet TensorFlow and a non-interactive matplotlib."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import gradlab  # noqa: F401 - installs the quiet TensorFlow import first
