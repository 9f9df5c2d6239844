"""What the bench starts for its faults: its own Mosquitto, and a TCP proxy it can cut."""

from __future__ import annotations

import contextlib
import getpass
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from facegate.domain.errors import ServiceUnavailableError

START_TIMEOUT_S = 120.0
"""How long the bench's broker may take to start (it reloads its sessions from disk)."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class BenchBroker:
    """A Mosquitto on a free port with on-disk persistence (sessions survive a restart)."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).is_file():
            raise ServiceUnavailableError("mosquitto is not installed")
        self.binary, self.port, self.folder = binary, free_port(), folder
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "mosquitto.conf").write_text(
            f"user {getpass.getuser()}\nlistener {self.port} 127.0.0.1\nallow_anonymous true\n"
            f"persistence true\npersistence_location {folder}/\n"
            "max_inflight_messages 1000\nmax_queued_messages 1000000\n"
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait until it listens (:data:`START_TIMEOUT_S` at most)."""
        with (self.folder / "mosquitto.log").open("ab") as log:
            self._process = subprocess.Popen(
                [self.binary, "-c", str(self.folder / "mosquitto.conf")], stdout=log, stderr=log
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _listening(self.port):
            if time.monotonic() > deadline:
                raise ServiceUnavailableError("the bench's mosquitto did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop it with SIGTERM (it saves its persistence file), waiting for the exit."""
        if self._process is not None:
            self._process.send_signal(signal.SIGTERM)
            self._process.wait(timeout=30)
            self._process = None


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target``; :meth:`cut` drops every connection."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, free_port()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Listen (again) on the same port."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut: the listener is closed
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                _shut(client)  # the server refused: so does the proxy
                continue
            with self._lock:
                if self._listener is not listener:  # cut while this one was connecting
                    _shut(client)
                    _shut(upstream)
                    return
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            return
        finally:
            # shut down, not just close: a bare close() of a socket that the other
            # direction's thread is blocked reading does not wake that thread, so the
            # connection to the server stayed open (see :meth:`cut`)
            _shut(sink)

    def cut(self) -> None:
        """Stop listening and drop every open connection (the database is gone).

        Every socket is shut down before any is closed. Closing first let one pipe
        thread close the other direction's socket while that direction's thread was
        blocked reading it: on Linux such a close neither wakes the reader nor ends the
        connection, so the server kept the session (8 of 20 sessions idle in
        transaction survived a cut). A stranded hub session that had inserted a batch
        held its unique-index entries, and every retry of those events waited on it:
        the bench's database cut that never drained.
        """
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._sockets:
                _shut(sock, close=False)
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


def _shut(sock: socket.socket, close: bool = True) -> None:
    """Shut ``sock`` down both ways (waking any thread reading it), then close it."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    if close:
        sock.close()
