"""Helpers that serve the lessons, not the tools.

- :mod:`~gradlab.teaching.plots` — the figures the lessons show.
- :mod:`~gradlab.teaching.graphs` — the gradient ops in a traced graph (lesson 2).
- :mod:`~gradlab.teaching.devices` — logical CPU devices for ``tf.distribute`` (lesson 7).
- :mod:`~gradlab.teaching.gradient_checker` — the second article's API, working (lesson 4).

Each is also importable as ``gradlab.<name>`` (``from gradlab import plots``).
"""
