"""Execute notebooks for the site: at most two kernels at a time, results cached by content.

Each lesson imports TensorFlow (about 12 s of CPU), so executing seven of them
one after another takes minutes. Kernels are separate processes, so running two
at once uses both cores of a small machine; more only makes them fight.

A notebook is executed again only when its source, the :mod:`gradlab`
package or the lock file changed (see :func:`content_key`), so ``mkdocs serve``
re-renders an edited page in seconds. Execution is strict: an error in any
cell, a Python traceback or TensorFlow's C++ start-up noise in any output
stops the build with the notebook and cell that caused it.
"""

from __future__ import annotations

import atexit
import hashlib
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

from docs_build.zygote import ForkedKernelManager, Zygote
from gradlab.tfsupport.quiet import TENSORFLOW_NOISE

ROOT = Path(__file__).resolve().parent.parent
METADATA_KEY = "gradlab_docs"


class ExecutionFailed(Exception):
    """A notebook could not be executed cleanly; the message says which and where."""


@dataclass(frozen=True)
class Job:
    """One notebook to execute: a name for messages, the notebook, where it runs."""

    name: str
    notebook: NotebookNode
    cwd: Path
    key: str


def content_key(*texts: str) -> str:
    """A hash of ``texts``, the gradlab package and ``uv.lock``: what an execution depends on."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
    for path in sorted((ROOT / "gradlab").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    lock = ROOT / "uv.lock"
    if lock.exists():
        digest.update(lock.read_bytes())
    return digest.hexdigest()


def kernel_environment() -> dict[str, str]:
    """The environment kernels start in: figures shown inline, TF left to quieten itself."""
    env = dict(os.environ)
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


def execute(job: Job, timeout: int = 600, zygote: Zygote | None = None) -> NotebookNode:
    """Run every cell of ``job``'s notebook on a fresh kernel; raise if anything went wrong.

    The kernel is forked from ``zygote`` if given (TensorFlow already imported),
    else started as usual.
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
    started = time.perf_counter()
    try:
        # The kernel's own log ("running over TCP without encryption") is not the page's.
        client.execute(env=kernel_environment(), stderr=subprocess.DEVNULL, cleanup_kc=True)
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
    notebook.metadata[METADATA_KEY] = {
        "key": job.key,
        "seconds": round(time.perf_counter() - started, 1),
    }
    return notebook


def cached(path: Path, key: str) -> NotebookNode | None:
    """The executed notebook stored at ``path`` if it was made from ``key``, else ``None``."""
    if not path.exists():
        return None
    notebook = nbformat.read(path, as_version=4)
    if notebook.metadata.get(METADATA_KEY, {}).get("key") != key:
        return None
    return notebook


def forking() -> bool:
    """Whether kernels are forked from a warm zygote: yes where ``fork`` exists, unless
    ``$GRADLAB_DOCS_FORK`` is ``0``."""
    return hasattr(os, "fork") and os.environ.get("GRADLAB_DOCS_FORK", "1") != "0"


def jobs_count() -> int:
    """How many kernels run at once: ``$GRADLAB_DOCS_JOBS``, else two (or one on one core)."""
    chosen = os.environ.get("GRADLAB_DOCS_JOBS")
    if chosen:
        return max(1, int(chosen))
    return max(1, min(2, os.cpu_count() or 1))


def execute_all(
    jobs: Iterable[tuple[Job, Path]],
    log: Callable[[str], None] = print,
    kernel_log: Path | None = None,
) -> dict[str, NotebookNode]:
    """Execute each job not already cached at its path, a few at a time; return all by name.

    Every job is run to the end even if another fails, then the first failure
    is raised (with every failure in its message).
    """
    results: dict[str, NotebookNode] = {}
    pending: list[tuple[Job, Path]] = []
    for job, path in jobs:
        hit = cached(path, job.key)
        if hit is None:
            pending.append((job, path))
        else:
            results[job.name] = hit
    if not pending:
        return results
    workers = jobs_count()
    kernel_log = kernel_log or Path(os.devnull)
    zygote = Zygote(kernel_environment(), kernel_log) if forking() else None
    how = "forked from a process with TensorFlow imported" if zygote else "fresh kernels"
    log(f"executing {len(pending)} notebook(s), {workers} at a time, {how}")

    def run(item: tuple[Job, Path]) -> tuple[str, NotebookNode | Exception]:
        job, path = item
        try:
            try:
                notebook = execute(job, zygote=zygote)
            except RuntimeError as error:
                if "Kernel died before replying" not in str(error):
                    raise
                log(f"{job.name}: the kernel died while starting; trying once more")
                notebook = execute(job, zygote=zygote)
        except Exception as error:  # reported below, after the other jobs finish
            return job.name, error
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, path)
        log(f"executed {job.name} in {notebook.metadata[METADATA_KEY]['seconds']} s")
        return job.name, notebook

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outcomes = list(pool.map(run, pending))
    finally:
        if zygote is not None:
            zygote.close()
    failures = [outcome for _, outcome in outcomes if isinstance(outcome, Exception)]
    if failures:
        raise ExecutionFailed("; ".join(str(failure) for failure in failures))
    results.update({name: outcome for name, outcome in outcomes})
    return results
