"""A Redis server of the test's own, on a free loopback port, that the test can stop and start."""

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time

import redis

from tests.conftest import _missing


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """`redis-server` with no persistence: stopping it loses everything, as a crash would."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            _missing("redis-server", "install Redis so the test can stop and start its own broker")
        self.binary = binary
        self.port = _free_port()
        self.folder = tempfile.TemporaryDirectory(prefix="outreach-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)

    def start(self, timeout: float = 10.0) -> None:
        # A fixed argument list with the binary found on PATH: no shell, no outside input.
        self.process = subprocess.Popen(  # noqa: S603
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.folder.name, "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except redis.ConnectionError as error:
                if self.process.poll() is not None:
                    code = self.process.returncode
                    raise RuntimeError(f"redis-server exited with {code}") from error
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def shutdown(self) -> None:
        """Stop it the way an operator would (SHUTDOWN NOSAVE), and wait until it has gone."""
        # The server closes the connection as it exits, before any answer.
        with contextlib.suppress(redis.ConnectionError):
            self.client().shutdown(nosave=True)
        if self.process is not None:
            self.process.wait(timeout=10)
            self.process = None

    def __enter__(self) -> "RedisServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
        self.folder.cleanup()
