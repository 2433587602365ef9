"""Start Jupyter kernels with TensorFlow already imported, by forking a warm process.

Importing TensorFlow costs about 12 s of CPU, and every lesson's kernel pays
it. On a two-core machine that, not the lessons, decides how long the site
takes to build. So the build starts one process (the *zygote*) that imports
gradlab, TensorFlow, Keras, NumPy, Matplotlib and ipykernel once, and each
kernel is a ``fork()`` of it: a real ipykernel, talking to nbclient as usual,
whose imports are already done. The zygote runs no TensorFlow operation
before forking, so each kernel still starts with a fresh TensorFlow runtime
(a lesson may, for instance, still configure logical devices).

``python -m docs_build.zygote`` is the zygote: it reads one JSON request per
line, ``{"argv": [...], "cwd": ...}``, forks a kernel for it and
answers with the kernel's process id. :class:`Zygote` starts and talks to it;
:class:`ForkedKernelManager` is the jupyter_client kernel manager that asks it
for kernels instead of starting ``python -m ipykernel_launcher``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

ROOT = Path(__file__).resolve().parent.parent
PRELOAD = ("gradlab", "tensorflow", "keras", "numpy", "matplotlib", "ipykernel.kernelapp")


class Zygote:
    """A running zygote process; :meth:`fork` asks it for a kernel (thread-safe)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        if log.is_file():
            log.write_text("")  # this build's kernels only
        self._process = subprocess.Popen(
            [sys.executable, "-m", "docs_build.zygote", str(log)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
            env=env,
            text=True,
        )
        self._lock = threading.Lock()
        self._ready = False

    def wait_until_ready(self) -> None:
        """Block until the zygote has done its imports.

        Call it before a kernel manager picks its ports: a port chosen long
        before the kernel binds it may be taken by then.
        """
        with self._lock:
            if self._ready:
                return
            assert self._process.stdout is not None
            if self._process.stdout.readline().strip() != "ready":
                raise RuntimeError("the kernel zygote failed to import TensorFlow")
            self._ready = True

    def fork(self, argv: list[str], cwd: str) -> int:
        """Start a kernel with ipykernel's arguments ``argv`` in ``cwd``; return its pid."""
        request = json.dumps({"argv": argv, "cwd": cwd})
        self.wait_until_ready()
        with self._lock:
            assert self._process.stdin is not None and self._process.stdout is not None
            self._process.stdin.write(request + "\n")
            self._process.stdin.flush()
            answer = self._process.stdout.readline()
        if not answer.strip():
            raise RuntimeError("the kernel zygote exited before starting a kernel")
        return int(answer)

    def close(self) -> None:
        """Stop the zygote (kernels already forked are shut down by their managers)."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


class ForkedProcess:
    """Enough of ``subprocess.Popen`` for jupyter_client, for a process we did not start."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0  # the zygote reaped it; its status is not ours to know
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.05)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels are forked from a :class:`Zygote`."""

    zygote: Zygote | None = None

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        assert self.provisioner is not None and self.zygote is not None
        # kernel_cmd is [python, -m, ipykernel_launcher, -f, FILE, ...]: keep the arguments.
        argv = kernel_cmd[kernel_cmd.index("ipykernel_launcher") + 1 :]
        pid = self.zygote.fork(argv, str(kw.get("cwd") or os.getcwd()))
        provisioner: Any = self.provisioner
        provisioner.process = ForkedProcess(pid)
        provisioner.pid = pid
        provisioner.pgid = None
        self._reconcile_connection_info(provisioner.connection_info)


def _serve_kernel(argv: list[str], cwd: str, log: str) -> None:
    """In the forked child: become an ipykernel started with ``argv``, logging to ``log``."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.dup2(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644), 2)
    os.chdir(cwd)
    sys.path[0] = ""  # a kernel imports from its working folder, as ipykernel_launcher does
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(argv=argv)


def main() -> None:
    """The zygote: preload, then fork one kernel per request line until stdin closes."""
    import importlib

    log = sys.argv[1] if len(sys.argv) > 1 else os.devnull
    # What ipykernel sets when a kernel starts, set before matplotlib is preloaded.
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    importlib.import_module("gradlab").quiet_tensorflow()
    for name in PRELOAD:
        importlib.import_module(name)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                _serve_kernel(request["argv"], request["cwd"], log)
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                os._exit(0)
        sys.stdout.write(f"{pid}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
