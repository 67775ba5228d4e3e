"""A throwaway ``redis-server`` for tests of code shared between worker processes.

    with run_redis_server() as url:          # "redis://127.0.0.1:PORT/0"
        redis = redis.asyncio.Redis.from_url(url)
        ...

It runs the ``redis-server`` binary from ``PATH`` on a free 127.0.0.1 port in a
temporary directory, with persistence off (``--save '' --appendonly no``), and
stops it on exit. Nothing here imports the ``redis`` package, so the core stays
free of it. :func:`redis_server_path` tells whether the binary is there, so test
suites can skip (or fail, in CI) with a clear reason.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import Final

__all__ = ["RedisServerError", "redis_server_path", "run_redis_server"]

_START_TIMEOUT: Final = 10.0
_ATTEMPTS: Final = 3


class RedisServerError(RuntimeError):
    """``redis-server`` is missing or did not start (the message says which, and why)."""


def redis_server_path() -> str | None:
    """The ``redis-server`` binary on ``PATH``, or None when it is not installed."""
    return shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def run_redis_server(binary: str | None = None) -> Iterator[str]:
    """Start ``redis-server`` on 127.0.0.1, yield its ``redis://`` URL, stop it afterwards.

    Raises :class:`RedisServerError` when the binary is missing or never answers.
    """
    binary = binary or redis_server_path()
    if binary is None:
        msg = "redis-server is not installed (apt-get install redis-server)"
        raise RedisServerError(msg)
    with tempfile.TemporaryDirectory(prefix="bitrix-dialog-redis-") as workdir:
        for _ in range(_ATTEMPTS):  # a free port can be taken between probe and bind
            port = _free_port()
            process = subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                 "no", "--dir", workdir],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            ready = False
            give_up = time.monotonic() + _START_TIMEOUT
            while process.poll() is None and time.monotonic() < give_up:
                if _answers_ping(port):
                    ready = True
                    break
                time.sleep(0.02)
            if ready:
                try:
                    yield f"redis://127.0.0.1:{port}/0"
                finally:
                    process.terminate()
                    try:
                        process.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()
                return
            process.kill()
            process.wait()
        msg = f"redis-server ({binary}) did not start on 127.0.0.1 after {_ATTEMPTS} attempts"
        raise RedisServerError(msg)
