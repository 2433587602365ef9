"""Start Jupyter kernels with TensorFlow already imported, by forking a warm process.

Importing TensorFlow costs about 12 s of CPU, and every lesson's kernel pays
it. On a two-core machine that, not the lessons, decides how long executing
the lessons takes (for the docs site, the test suite, or any command that runs
them). So one process (the *zygote*) imports gradlab, TensorFlow, Keras,
NumPy, Matplotlib and ipykernel once, and each kernel is a ``fork()`` of it: a
real ipykernel, talking to nbclient as usual, whose imports are already done.
The zygote runs no TensorFlow operation before forking, so each kernel still
starts with a fresh TensorFlow runtime (a lesson may, for instance, still
configure logical devices).

``python -m gradlab.course.zygote`` is the zygote: it reads one JSON request per
line, ``{"argv": [...], "cwd": ...}``, forks a kernel for it and
answers with the kernel's process id. :class:`Zygote` starts and talks to it;
:class:`ForkedKernelManager` is the jupyter_client kernel manager that asks it
for kernels instead of starting ``python -m ipykernel_launcher``.

A request with ``"command": true`` forks ``python -m gradlab.lesson ARGV``
instead (:meth:`Zygote.run_command`): its output goes to the files the request
names and its exit status to a third, since only the zygote can wait for it.
Give such a zygote the command's environment (``MPLBACKEND=Agg`` for a script).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

PRELOAD = ("gradlab", "tensorflow", "keras", "numpy", "matplotlib", "ipykernel.kernelapp")


class Zygote:
    """A running zygote process; :meth:`fork` asks it for a kernel (thread-safe)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        if log.is_file():
            log.write_text("")  # this build's kernels only
        self._process = subprocess.Popen(
            [sys.executable, "-m", "gradlab.course.zygote", str(log)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
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
        return self.fork_request({"argv": argv, "cwd": cwd})

    def fork_request(self, fields: dict[str, Any]) -> int:
        """Send one request line; return the pid of the process forked for it."""
        request = json.dumps(fields)
        self.wait_until_ready()
        with self._lock:
            assert self._process.stdin is not None and self._process.stdout is not None
            self._process.stdin.write(request + "\n")
            self._process.stdin.flush()
            answer = self._process.stdout.readline()
        if not answer.strip():
            raise RuntimeError("the kernel zygote exited before starting a kernel")
        return int(answer)

    def run_command(self, argv: list[str], cwd: Path, timeout: float = 600) -> CommandResult:
        """``python -m gradlab.lesson *argv`` in ``cwd``, forked; wait for it and return it.

        Raises :class:`subprocess.TimeoutExpired` (after killing it) if it
        outlives ``timeout`` seconds.
        """
        folder = Path(tempfile.mkdtemp(prefix="gradlab-command-"))
        files = {name: folder / name for name in ("stdout", "stderr", "status")}
        request = {"command": True, "argv": argv, "cwd": str(cwd)}
        process = ForkedProcess(self.fork_request({**request, **_as_text(files)}))
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        texts = {name: path.read_text() if path.exists() else "" for name, path in files.items()}
        shutil.rmtree(folder, ignore_errors=True)
        status = int(texts["status"]) if texts["status"].strip() else -1  # it died
        return CommandResult(argv, status, texts["stdout"], texts["stderr"])

    def close(self) -> None:
        """Stop the zygote (kernels already forked are shut down by their managers)."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


@dataclass(frozen=True)
class CommandResult:
    """What a forked command did, as :class:`subprocess.CompletedProcess` tells it."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def _as_text(paths: dict[str, Path]) -> dict[str, str]:
    return {name: str(path) for name, path in paths.items()}


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


def _run_command(request: dict[str, Any]) -> int:
    """In the forked child: be ``python -m gradlab.lesson ARGV``; return its exit status."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    for fd, name in ((1, "stdout"), (2, "stderr")):
        os.dup2(os.open(request[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
    os.chdir(request["cwd"])
    sys.path[0] = request["cwd"]  # as ``python -m`` run in that folder
    sys.argv = ["gradlab.lesson", *request["argv"]]
    from gradlab.course.cli import main as lesson_main

    try:
        status = lesson_main(request["argv"])
    except SystemExit as leaving:
        code = leaving.code
        status = code if isinstance(code, int) else (0 if code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    Path(request["status"]).write_text(str(status))
    return status


def _serve(request: dict[str, Any], log: str) -> None:
    """In the forked child: serve ``request``, then leave without the zygote's clean-up."""
    status = 0
    try:
        if request.get("command"):
            status = _run_command(request)
        else:
            _serve_kernel(request["argv"], request["cwd"], log)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(status)


def _reap_children(signum: int, frame: Any) -> None:
    """Wait for every finished child, so their CPU time counts as the zygote's children's."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def main() -> None:
    """The zygote: preload, then fork one kernel per request line until stdin closes."""
    import importlib

    log = sys.argv[1] if len(sys.argv) > 1 else os.devnull
    # What ipykernel sets when a kernel starts, set before matplotlib is preloaded.
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    importlib.import_module("gradlab").quiet_tensorflow()
    for name in PRELOAD:
        importlib.import_module(name)
    signal.signal(signal.SIGCHLD, _reap_children)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _serve(request, log)
        sys.stdout.write(f"{pid}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
