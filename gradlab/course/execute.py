"""Execute notebooks on Jupyter kernels: two at a time, forked from a warm process.

Each lesson imports TensorFlow (about 12 s of CPU), so executing the lessons
one after another takes minutes. Kernels are separate processes, so running two
at once uses both cores of a small machine; more only makes them fight. Where
``fork`` exists the kernels are forked from one :class:`~gradlab.course.zygote.Zygote`
that has already imported TensorFlow.

Execution is strict: an error in any cell, a Python traceback or TensorFlow's
C++ start-up noise in any output is an :class:`ExecutionFailed` naming the
notebook and the cell. The docs site and the test suite both execute lessons
through :func:`execute_many`.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat import NotebookNode

from gradlab.course.zygote import ForkedKernelManager, Zygote
from gradlab.tfsupport.quiet import TENSORFLOW_NOISE


class ExecutionFailed(Exception):
    """A notebook could not be executed cleanly; the message says which and where."""


@dataclass(frozen=True)
class Job:
    """One notebook to execute: a name for messages, the notebook, the folder it runs in."""

    name: str
    notebook: NotebookNode
    cwd: Path


@dataclass(frozen=True)
class Outcome:
    """What executing a :class:`Job` gave: the executed notebook, or why it failed."""

    job: Job
    notebook: NotebookNode | None
    error: ExecutionFailed | None
    seconds: float


def kernel_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment kernels start in (``base``, else this process's): figures shown
    inline, and TensorFlow's log level left for the lesson to set."""
    env = dict(os.environ if base is None else base)
    env.pop("MPLBACKEND", None)  # pytest sets Agg; a kernel must use its inline backend
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # the lesson's setup cell must do this
    return env


def problems(notebook: NotebookNode) -> list[str]:
    """Tracebacks and TensorFlow noise found in a notebook's outputs, one line each."""
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                found.append(f"cell {index}: {output.ename}: {output.evalue}")
                continue
            text = output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
            if "Traceback (most recent call last)" in text:
                found.append(f"cell {index}: a traceback was printed")
            noisy = [marker for marker in TENSORFLOW_NOISE if marker in text]
            if noisy:
                found.append(f"cell {index}: TensorFlow noise ({', '.join(noisy)})")
    return found


def _failing_cell(notebook: NotebookNode) -> str:
    for index, cell in enumerate(notebook.cells):
        if any(output.output_type == "error" for output in cell.get("outputs", [])):
            first_line = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            return f" (cell {index}: {first_line})"
    return ""


def execute(
    job: Job,
    timeout: int = 600,
    zygote: Zygote | None = None,
    env: dict[str, str] | None = None,
) -> NotebookNode:
    """Run every cell of ``job``'s notebook on a fresh kernel; raise if anything went wrong.

    The kernel is forked from ``zygote`` if given (TensorFlow already imported,
    the zygote's environment), else started as usual in ``env`` (default:
    :func:`kernel_environment`).
    """
    notebook = nbformat.from_dict(job.notebook)
    manager = None
    if zygote is not None:
        zygote.wait_until_ready()
        manager = ForkedKernelManager(kernel_name="python3")
        manager.zygote = zygote
    client = NotebookClient(
        notebook,
        km=manager,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=False,
        record_timing=False,
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(job.cwd)}},
    )
    try:
        # The kernel's own log ("running over TCP without encryption") is not the notebook's.
        client.execute(env=env or kernel_environment(), stderr=subprocess.DEVNULL, cleanup_kc=True)
    except CellExecutionError as error:
        raise ExecutionFailed(
            f"{job.name}: a cell raised: {error.ename}: {error.evalue}{_failing_cell(notebook)}"
        ) from None
    finally:
        # nbclient leaves this registered when a kernel fails to start, then trips on it.
        atexit.unregister(client._cleanup_kernel)
    found = problems(notebook)
    if found:
        raise ExecutionFailed(f"{job.name}: " + "; ".join(found))
    return notebook


def forking() -> bool:
    """Whether kernels are forked from a warm zygote: yes where ``fork`` exists, unless
    ``$GRADLAB_FORK`` is ``0``."""
    return hasattr(os, "fork") and os.environ.get("GRADLAB_FORK", "1") != "0"


def jobs_count() -> int:
    """How many kernels run at once: ``$GRADLAB_JOBS``, else two (or one on one core)."""
    chosen = os.environ.get("GRADLAB_JOBS")
    if chosen:
        return max(1, int(chosen))
    return max(1, min(2, os.cpu_count() or 1))


def _execute_once_more_if_the_kernel_died(
    job: Job, zygote: Zygote | None, env: dict[str, str], log: Callable[[str], None]
) -> Outcome:
    started = time.perf_counter()
    try:
        try:
            notebook = execute(job, zygote=zygote, env=env)
        except RuntimeError as error:
            if "Kernel died before replying" not in str(error):
                raise
            log(f"{job.name}: the kernel died while starting; trying once more")
            notebook = execute(job, zygote=zygote, env=env)
    except ExecutionFailed as error:
        return Outcome(job, None, error, time.perf_counter() - started)
    except Exception as error:  # a kernel that would not start, a timeout: this job's failure
        failed = ExecutionFailed(f"{job.name}: {type(error).__name__}: {error}")
        return Outcome(job, None, failed, time.perf_counter() - started)
    seconds = time.perf_counter() - started
    log(f"executed {job.name} in {seconds:.1f} s")
    return Outcome(job, notebook, None, seconds)


def execute_many(
    jobs: Iterable[Job],
    env: dict[str, str] | None = None,
    log: Callable[[str], None] = print,
    kernel_log: Path | None = None,
) -> list[Outcome]:
    """Execute every job, :func:`jobs_count` at a time; one :class:`Outcome` per job, in order.

    Every job runs to its end even if another fails. ``env`` is the kernels'
    environment before :func:`kernel_environment` (default: this process's);
    ``kernel_log`` collects forked kernels' own stderr.
    """
    pending = list(jobs)
    if not pending:
        return []
    workers = jobs_count()
    kernel_env = kernel_environment(env)
    zygote = Zygote(kernel_env, kernel_log or Path(os.devnull)) if forking() else None
    how = "forked from a process with TensorFlow imported" if zygote else "fresh kernels"
    log(f"executing {len(pending)} notebook(s), {workers} at a time, {how}")

    def run(job: Job) -> Outcome:
        return _execute_once_more_if_the_kernel_died(job, zygote, kernel_env, log)

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(run, pending))
    finally:
        if zygote is not None:
            zygote.close()
