"""Switch TensorFlow's global NaN hunters on and reliably off, and read a dump back.

- :func:`check_numerics`: ``tf.debugging.enable_check_numerics()`` for the
  ``with`` block only. Every op then checks its outputs, and the first one to
  produce a NaN or an infinity raises ``InvalidArgumentError`` naming itself.
- :func:`dump_debug_info`: ``tf.debugging.experimental.enable_dump_debug_info``
  (Debugger V2) for the ``with`` block only, in ``FULL_HEALTH`` mode, into a
  fresh subfolder: for every op output it records how many elements are NaN,
  -inf and +inf.
- :func:`nonfinite_ops` reads such a dump back with TensorFlow's own
  ``DebugDataReader`` and lists the op outputs that held a NaN or an
  infinity, in the order they ran.

Both switches are process-wide, so leaving them on slows down and changes
everything that runs later; the context managers turn them off even when the
block raises.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gradlab.tfsupport.lazy import tf
from gradlab.tfsupport.quiet import tensorflow_warnings_hidden

_DUMP_FOLDER = "dump-"
_USED_FOLDERS: set[Path] = set()
"""Folders this process has dumped into: TensorFlow cannot dump into one twice."""
# FULL_HEALTH debug tensor layout: [tensor id, device id, dtype, rank, element count,
# -inf count, +inf count, NaN count, negative, zero, positive].
_ELEMENTS, _NEG_INF, _POS_INF, _NAN = 4, 5, 6, 7


@contextlib.contextmanager
def check_numerics() -> Iterator[None]:
    """Raise at the first op that outputs NaN or infinity, inside this block only."""
    tf.debugging.enable_check_numerics()
    try:
        yield
    finally:
        tf.debugging.disable_check_numerics()


@contextlib.contextmanager
def dump_debug_info(dump_root: str | os.PathLike[str]) -> Iterator[Path]:
    """Write a Debugger V2 dump of every op run inside this block; yield its folder.

    TensorFlow 2.21 cannot dump into the same folder twice in one process (the
    second ``enable_dump_debug_info`` crashes the interpreter with a
    segmentation fault), and a notebook cell is often run twice. So each block
    writes into a fresh subfolder ``dump-N`` of ``dump_root`` (the first free
    N not used by this process), after removing the ``dump-*`` folders left by
    earlier blocks: the yielded folder holds exactly this block's ops. Ops
    inside a ``tf.function`` are recorded only if the function is traced
    inside the block.
    """
    root = Path(dump_root)
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob(_DUMP_FOLDER + "*"):
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    number = 1
    while (root / f"{_DUMP_FOLDER}{number}").resolve() in _USED_FOLDERS:
        number += 1
    folder = (root / f"{_DUMP_FOLDER}{number}").resolve()
    _USED_FOLDERS.add(folder)
    folder.mkdir()
    # The dumper warns for every stack frame whose source file it cannot read
    # ("<frozen runpy>", a notebook cell): noise, not a problem with the dump.
    with tensorflow_warnings_hidden():
        tf.debugging.experimental.enable_dump_debug_info(
            str(folder), tensor_debug_mode="FULL_HEALTH", circular_buffer_size=-1
        )
        try:
            yield root / folder.name
        finally:
            tf.debugging.experimental.disable_dump_debug_info()


@dataclass(frozen=True)
class OpHealth:
    """How one op output looked in a dump: element count and non-finite counts."""

    op_name: str
    op_type: str
    output_slot: int
    elements: int
    nan: int
    neg_inf: int
    pos_inf: int
    created_in: str
    """The function that created the op (graph ops), or "eager"."""

    @property
    def finite(self) -> bool:
        return self.nan == 0 and self.neg_inf == 0 and self.pos_inf == 0

    def __str__(self) -> str:
        counts = f"{self.nan} NaN, {self.neg_inf} -inf, {self.pos_inf} +inf"
        return (
            f"{self.op_type} op {self.op_name!r} (output {self.output_slot}, "
            f"{self.elements} elements): {counts}"
        )


def read_health(dump_root: str | os.PathLike[str]) -> list[OpHealth]:
    """Every op output recorded in a ``FULL_HEALTH`` dump, in the order they ran.

    Ops run inside a ``tf.function`` are read from the graph execution
    traces; ops run eagerly from the eager executions (calls of a
    ``tf.function`` itself are skipped: their ops are listed one by one).
    """
    from tensorflow.python.debug.lib.debug_events_reader import DebugDataReader

    records: list[tuple[float, OpHealth]] = []
    with DebugDataReader(str(dump_root)) as reader:
        reader.update()
        for trace in reader.graph_execution_traces():
            records.append((trace.wall_time, _graph_record(reader, trace)))
        for execution in reader.executions():
            if execution.graph_id:  # a tf.function call: its ops are traced above
                continue
            for slot, values in enumerate(execution.debug_tensor_values or ()):
                health = _health(execution.op_type, execution.op_type, slot, values, "eager")
                records.append((execution.wall_time, health))
    records.sort(key=lambda pair: pair[0])
    return [health for _, health in records]


def nonfinite_ops(dump_root: str | os.PathLike[str]) -> list[OpHealth]:
    """The op outputs of a dump that held a NaN or an infinity, first one first."""
    return [health for health in read_health(dump_root) if not health.finite]


def _graph_record(reader, trace) -> OpHealth:
    created_in = ""
    try:
        digest = reader.graph_by_id(trace.graph_id).get_op_creation_digest(trace.op_name)
        _, frames = reader.read_graph_op_creation_stack_trace(digest)
        user = [frame for frame in frames if "site-packages" not in frame[0]]
        created_in = (user or frames)[-1][2] if frames else ""
    except (KeyError, ValueError, IndexError):
        pass
    return _health(
        trace.op_name, trace.op_type, trace.output_slot, trace.debug_tensor_value, created_in
    )


def _health(op_name, op_type, slot, values, created_in) -> OpHealth:
    values = list(values)
    return OpHealth(
        op_name=op_name,
        op_type=op_type,
        output_slot=int(slot),
        elements=int(values[_ELEMENTS]),
        nan=int(values[_NAN]),
        neg_inf=int(values[_NEG_INF]),
        pos_inf=int(values[_POS_INF]),
        created_in=created_in,
    )
