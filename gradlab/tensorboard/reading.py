"""Read scalars and histograms back from TensorBoard event files into numpy.

The reading is TensorBoard's own (``plugin_event_accumulator``, which also
migrates TF1-style summaries): TF2 summaries are stored as tensors, so these
functions select tensors by the plugin that wrote them (``scalars`` or
``histograms``).

A log directory may hold several *runs*: every directory under it that
directly contains an event file (``train/``, ``validation/``, ...), named, as
TensorBoard names them, by their path relative to the log directory, with
``"."`` for the log directory itself. Results are keyed by run-qualified tag,
``"<run>/<tag>"`` (plain ``"<tag>"`` for the run ``"."``), or by plain tag when
one run is asked for with ``run=``.

A truncated or corrupted event file, or a file named like one that is not,
is reported by name (:class:`DamagedLogWarning`, or :class:`TensorBoardError`
with ``strict=True``) instead of silently giving partial data or nothing.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple, TypeVar

import numpy as np
from tensorboard.backend.event_processing import plugin_event_accumulator as accumulator
from tensorboard.util import tensor_util

from gradlab.tensorboard.errors import DamagedLogWarning, TensorBoardError
from gradlab.tensorboard.integrity import damage

_SCALARS_PLUGIN = "scalars"
_HISTOGRAMS_PLUGIN = "histograms"

_T = TypeVar("_T")


class ScalarSeries(NamedTuple):
    """All points of one scalar tag, in the order they were written.

    Unpacks as ``steps, values = series``.
    """

    steps: np.ndarray
    """The summary steps, ``int64``."""
    values: np.ndarray
    """The values, ``float64``."""


class HistogramSnapshot(NamedTuple):
    """One histogram of a tag at one step.

    ``counts[i]`` elements lie between ``edges[i]`` and ``edges[i + 1]``; the
    counts sum to the number of elements logged. ``plt.stairs(counts, edges)``
    draws it. When every element had the same value, all edges equal that value
    and only the last bucket is non-empty (TensorBoard's convention).
    """

    step: int
    """The summary step."""
    edges: np.ndarray
    """Bucket edges, ``float64``, one more than there are buckets."""
    counts: np.ndarray
    """Elements per bucket, ``float64`` as TensorBoard stores them."""


def list_runs(logdir: str | os.PathLike[str]) -> list[str]:
    """The runs under ``logdir``, sorted: directories holding event files.

    Raises :class:`TensorBoardError` if ``logdir`` does not exist, is not a
    directory, or holds no event files at any depth.
    """
    root = _existing_dir(logdir)
    runs = sorted(_run_name(root, Path(dirpath)) for dirpath in _event_dirs(root))
    if not runs:
        raise TensorBoardError(
            f"no TensorBoard event files (events.out.tfevents.*) in {root} or below it; "
            "was anything logged there, and was the writer flushed?"
        )
    return runs


def read_scalars(
    logdir: str | os.PathLike[str], *, run: str | None = None, strict: bool = False
) -> dict[str, ScalarSeries]:
    """Load every scalar under ``logdir`` as numpy arrays.

    Args:
        logdir: a log directory (searched recursively for runs).
        run: read only this run (e.g. ``"train"``; ``"."`` for ``logdir``
            itself) and key the result by plain tag.
        strict: raise on a damaged event file instead of warning.

    Returns:
        ``{tag: ScalarSeries(steps, values)}``, keyed by run-qualified tag
        unless ``run`` is given (see the module docstring), sorted by key.

    Warns:
        DamagedLogWarning: an event file is truncated, corrupted or not an
            event file (named in the message); what precedes the damage is
            returned.

    Raises:
        TensorBoardError: no such directory, no event files, or no such run;
            with ``strict=True``, also a damaged event file.
    """
    return _read(logdir, run, _SCALARS_PLUGIN, _scalar_series, strict)


def read_histograms(
    logdir: str | os.PathLike[str], *, run: str | None = None, strict: bool = False
) -> dict[str, list[HistogramSnapshot]]:
    """Load every histogram under ``logdir`` as numpy arrays.

    Args:
        logdir: a log directory (searched recursively for runs).
        run: read only this run and key the result by plain tag.
        strict: raise on a damaged event file instead of warning.

    Returns:
        ``{tag: [HistogramSnapshot(step, edges, counts), ...]}`` in the order
        written, keyed like :func:`read_scalars`.

    Warns:
        DamagedLogWarning: as :func:`read_scalars`.

    Raises:
        TensorBoardError: as :func:`read_scalars`.
    """
    return _read(logdir, run, _HISTOGRAMS_PLUGIN, _histogram_snapshots, strict)


def _read(
    logdir: str | os.PathLike[str],
    run: str | None,
    plugin: str,
    convert: Callable[[list], _T],
    strict: bool,
) -> dict[str, _T]:
    root = _existing_dir(logdir)
    runs = list_runs(root)
    if run is not None and run not in runs:
        raise TensorBoardError(f"no run {run!r} in {root}; its runs are: {', '.join(runs)}")
    result: dict[str, _T] = {}
    for run_name in [run] if run is not None else runs:
        _report_damage(root / run_name, strict)
        for tag, events in _tensor_events(root / run_name, plugin):
            key = tag if run is not None or run_name == "." else f"{run_name}/{tag}"
            if key in result:
                raise TensorBoardError(
                    f"two runs in {root} both give the key {key!r}; read one run at a time "
                    "with run=..."
                )
            result[key] = convert(events)
    return dict(sorted(result.items()))


def _report_damage(run_dir: Path, strict: bool) -> None:
    """Warn about (or, if ``strict``, raise for) each damaged event file of one run."""
    for name in sorted(os.listdir(run_dir)):
        path = run_dir / name
        if not (_is_event_file(name) and path.is_file()):
            continue
        why = damage(path)
        if why is None:
            continue
        message = f"event file {path} is damaged: {why}"
        if strict:
            raise TensorBoardError(message)
        warnings.warn(
            f"{message}; only what comes before the damage was read (pass strict=True to "
            "make this an error; if a program is still writing the file, read it again "
            "once it has flushed)",
            DamagedLogWarning,
            stacklevel=4,
        )


def _existing_dir(logdir: str | os.PathLike[str]) -> Path:
    root = Path(logdir)
    if not root.exists():
        raise TensorBoardError(f"log directory {root} does not exist")
    if not root.is_dir():
        raise TensorBoardError(f"{root} is not a directory")
    return root


def _event_dirs(root: Path) -> Iterator[str]:
    for dirpath, _dirnames, filenames in os.walk(root):
        if any(_is_event_file(name) for name in filenames):
            yield dirpath


def _is_event_file(name: str) -> bool:
    # TensorBoard's own test (io_wrapper.IsTensorFlowEventsFile), without the TensorFlow
    # import that one triggers: listing runs stays fast in a process without TensorFlow.
    return "tfevents" in name


def _run_name(root: Path, directory: Path) -> str:
    return Path(os.path.relpath(directory, root)).as_posix()


def _tensor_events(run_dir: Path, plugin: str) -> Iterator[tuple[str, list]]:
    """``(tag, events)`` for each tag of ``plugin`` in one run directory (not below it)."""
    events = accumulator.EventAccumulator(
        str(run_dir),
        size_guidance={accumulator.TENSORS: 0},  # 0 keeps every event
        purge_orphaned_data=False,  # keep everything written, even after a restart
    )
    events.Reload()
    for tag in sorted(events.Tags()[accumulator.TENSORS]):
        if events.SummaryMetadata(tag).plugin_data.plugin_name == plugin:
            yield tag, events.Tensors(tag)


def _scalar_series(events: list) -> ScalarSeries:
    steps = np.array([event.step for event in events], dtype=np.int64)
    values = np.array(
        [tensor_util.make_ndarray(event.tensor_proto).item() for event in events],
        dtype=np.float64,
    )
    return ScalarSeries(steps, values)


def _histogram_snapshots(events: list) -> list[HistogramSnapshot]:
    return [_histogram_snapshot(event) for event in events]


def _histogram_snapshot(event) -> HistogramSnapshot:
    buckets = np.asarray(tensor_util.make_ndarray(event.tensor_proto), dtype=np.float64)
    buckets = buckets.reshape(-1, 3)  # rows of (left edge, right edge, count)
    left, right, counts = buckets[:, 0], buckets[:, 1], buckets[:, 2]
    edges = np.append(left, right[-1:])
    return HistogramSnapshot(int(event.step), edges, counts)
