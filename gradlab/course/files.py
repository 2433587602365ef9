"""Writing the course's state files (progress, notebook sync) so a killed writer loses nothing."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def replace_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``.

    A reader sees the old file or the new one, never half of one; a writer
    killed mid-write leaves a temporary file that :func:`leftover_temporaries` finds.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def leftover_temporaries(path: Path) -> list[Path]:
    """The temporary files that writers of ``path`` killed mid-write left behind."""
    return list(path.parent.glob(f".{path.name}.*.tmp"))
