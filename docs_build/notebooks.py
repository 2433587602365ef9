"""The site's executed notebooks: executed by :mod:`gradlab.course.execute`, cached by content.

A notebook is executed again only when its source, the :mod:`gradlab`
package or the lock file changed (see :func:`content_key`), so ``mkdocs serve``
re-renders an edited page in seconds. Execution is strict (see
:mod:`gradlab.course.execute`): a failed notebook stops the build with the
notebook and cell that caused it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from gradlab.course.execute import ExecutionFailed, Job, execute_many

ROOT = Path(__file__).resolve().parent.parent
METADATA_KEY = "gradlab_docs"


@dataclass(frozen=True)
class Planned:
    """A notebook the site needs: the job that makes it, its content key, where it is kept."""

    job: Job
    key: str
    path: Path


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


def cached(path: Path, key: str) -> NotebookNode | None:
    """The executed notebook stored at ``path`` if it was made from ``key``, else ``None``."""
    if not path.exists():
        return None
    notebook = nbformat.read(path, as_version=4)
    if notebook.metadata.get(METADATA_KEY, {}).get("key") != key:
        return None
    return notebook


def store(plan: Planned, notebook: NotebookNode, seconds: float) -> None:
    """Keep an executed notebook at ``plan.path``, marked with the key it was made from."""
    notebook.metadata[METADATA_KEY] = {"key": plan.key, "seconds": round(seconds, 1)}
    plan.path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, plan.path)


def execute_all(
    plans: Iterable[Planned],
    log: Callable[[str], None] = print,
    kernel_log: Path | None = None,
) -> dict[str, NotebookNode]:
    """Execute each planned notebook not already cached, a few at a time; return all by name.

    Every job is run to the end even if another fails, then an
    :class:`~gradlab.course.execute.ExecutionFailed` names every failure.
    """
    results: dict[str, NotebookNode] = {}
    pending: dict[str, Planned] = {}
    for plan in plans:
        hit = cached(plan.path, plan.key)
        if hit is None:
            pending[plan.job.name] = plan
        else:
            results[plan.job.name] = hit
    jobs = [plan.job for plan in pending.values()]
    outcomes = execute_many(jobs, log=log, kernel_log=kernel_log)
    for outcome in outcomes:
        if outcome.notebook is not None:  # kept even if another failed: the next build is shorter
            store(pending[outcome.job.name], outcome.notebook, outcome.seconds)
            results[outcome.job.name] = outcome.notebook
    failures = [str(outcome.error) for outcome in outcomes if outcome.error is not None]
    if failures:
        raise ExecutionFailed("; ".join(failures))
    return results
