"""Start a real TensorBoard on 127.0.0.1 for a log directory, and stop it.

TensorBoard runs in a child process (``tensorboard.main``, the program the
``tensorboard`` command runs) that listens on the loopback interface only.
:func:`start_tensorboard` returns once the server answers HTTP and lists the
log directory's runs; :meth:`TensorBoardServer.stop` (or leaving its ``with``
block) ends it. A server that is never stopped is stopped when it is garbage
collected or when Python exits, and the child also exits by itself if this
process dies, so no TensorBoard is left behind.

By default the server does not import TensorFlow (it starts in about two
seconds instead of fifteen); scalars, histograms, distributions, images,
text and graphs work the same. Pass ``load_tensorflow=True`` for the rest.
"""

from __future__ import annotations

import contextlib
import errno
import json
import numbers
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from pathlib import Path
from types import TracebackType

from gradlab.tensorboard.errors import TensorBoardError
from gradlab.tensorboard.reading import list_runs

HOST = "127.0.0.1"
"""The only interface the server listens on."""

_LAUNCHER = """\
import os, signal, sys, threading, types

def _stop_when_parent_exits():
    while os.read(0, 4096):  # b"" at end of file: the parent closed the pipe or died
        pass
    os.kill(os.getpid(), signal.SIGTERM)  # TensorBoard's own clean shutdown

threading.Thread(target=_stop_when_parent_exits, daemon=True).start()
if {without_tensorflow!r}:
    sys.modules["tensorboard.compat.notf"] = types.ModuleType("tensorboard.compat.notf")
from tensorboard.main import run_main
run_main()
"""

_URL_LINE = re.compile(r"TensorBoard \S+ at (http://127\.0\.0\.1:(\d+)/)")


class TensorBoardServer:
    """A running TensorBoard child process; use :func:`start_tensorboard` to make one.

    Stop it with :meth:`stop`, or use it as a context manager::

        with start_tensorboard("runs/03") as board:
            print(board.url)
    """

    def __init__(self, process: subprocess.Popen, output_path: Path, logdir: Path) -> None:
        self.process = process
        """The ``subprocess.Popen`` of the TensorBoard process."""
        self.logdir = logdir
        """The log directory being served."""
        self.url: str = ""
        """The address to open in a browser, ``http://127.0.0.1:PORT/``."""
        self.port: int = 0
        """The port the server listens on."""
        self._output_path = output_path
        self._finalizer = weakref.finalize(self, _end_process, process, output_path)

    @property
    def pid(self) -> int:
        """The process id of the TensorBoard process."""
        return self.process.pid

    @property
    def running(self) -> bool:
        """Whether the TensorBoard process is still alive."""
        return self.process.poll() is None

    def output(self) -> str:
        """Everything TensorBoard has printed so far (empty once stopped)."""
        try:
            return self._output_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and wait for its process to end; safe to call twice.

        Asks TensorBoard to exit (SIGTERM) and kills it if it has not exited
        after ``timeout`` seconds.
        """
        _end_process(self.process, self._output_path, timeout)
        self._finalizer.detach()

    def __enter__(self) -> TensorBoardServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<TensorBoardServer {self.url or '(starting)'} logdir={self.logdir} {state}>"


def start_tensorboard(
    logdir: str | os.PathLike[str],
    port: int | None = None,
    *,
    timeout: float = 60.0,
    reload_interval: float = 5.0,
    load_tensorflow: bool = False,
) -> TensorBoardServer:
    """Start TensorBoard for ``logdir`` on 127.0.0.1 and wait until it serves it.

    Args:
        logdir: the log directory; it must hold at least one event file.
        port: the port to listen on, an int from 1 to 65535; ``None`` (or 0)
            lets the system pick a free one.
        timeout: seconds to wait for the server to answer and list its runs.
        reload_interval: seconds between TensorBoard's re-reads of ``logdir``
            (how soon newly logged points appear).
        load_tensorflow: let the server import TensorFlow (slower start; only
            needed for TensorBoard features beyond the common dashboards).

    Returns:
        The running server; its ``url`` answers HTTP.

    Raises:
        TensorBoardError: ``logdir`` holds no event files, ``port`` is not a
            port number or is already in use, or the server exits or does not
            answer within ``timeout``.
    """
    _check_port_number(port)
    root = Path(logdir).resolve()
    list_runs(root)  # fails clearly on a missing or empty directory
    port = int(port or 0)
    if port:
        _check_port_free(port)
    server = _spawn(root, port, reload_interval, not load_tensorflow)
    try:
        _wait_until_serving(server, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _check_port_number(port: object) -> None:
    integral = isinstance(port, numbers.Integral) and not isinstance(port, bool)
    if port is None or (integral and 0 <= port <= 65535):  # type: ignore[operator]
        return
    raise TensorBoardError(
        f"port must be an int from 1 to 65535 (or None or 0 for any free port), not {port!r}"
    )


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as TensorBoard's server
        try:
            probe.bind((HOST, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise TensorBoardError(
                    f"port {port} on {HOST} is already in use; pick another port, "
                    "or pass port=None to use a free one"
                ) from None
            raise TensorBoardError(f"cannot listen on {HOST}:{port}: {error.strerror}") from None


def _spawn(
    logdir: Path, port: int, reload_interval: float, without_tensorflow: bool
) -> TensorBoardServer:
    fd, name = tempfile.mkstemp(prefix="gradlab-tensorboard-", suffix=".log")
    os.close(fd)
    output_path = Path(name)
    command = [
        sys.executable,
        "-c",
        _LAUNCHER.format(without_tensorflow=without_tensorflow),
        "--logdir",
        str(logdir),
        "--host",
        HOST,
        "--port",
        str(port),
        "--reload_interval",
        str(reload_interval),
        "--load_fast",
        "false",
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}
    with open(output_path, "ab") as output:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # a Ctrl-C meant for the caller does not reach it
        )
    return TensorBoardServer(process, output_path, logdir)


def _wait_until_serving(server: TensorBoardServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if not server.running:
            raise TensorBoardError(
                f"TensorBoard exited (code {server.process.returncode}) before it was ready. "
                f"Its output:\n{_tail(server.output())}"
            )
        if not server.url:
            _read_url(server)
        if server.url and _lists_runs(server.url):
            return
        if time.monotonic() > deadline:
            raise TensorBoardError(
                f"TensorBoard did not serve {server.logdir} within {timeout:g} s. "
                f"Its output:\n{_tail(server.output())}"
            )
        time.sleep(0.1)


def _read_url(server: TensorBoardServer) -> None:
    match = _URL_LINE.search(server.output())
    if match:
        server.url, server.port = match.group(1), int(match.group(2))


def _lists_runs(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}data/runs", timeout=2) as response:
            return bool(json.load(response))
    except (OSError, ValueError):  # not listening yet, reset, timed out, half-written JSON
        return False


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:]) or "(nothing)"


def _end_process(process: subprocess.Popen, output_path: Path, timeout: float = 10.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
    with contextlib.suppress(OSError):
        output_path.unlink()
