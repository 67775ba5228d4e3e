"""What the Redis-backed classes share: client checks, safe descriptions, failures.

A Redis failure is reported by naming the server (``redis://host:port/db``, never
its password) and the kind of failure; exception texts from the client are left
out, since a bad URL or an ``AUTH`` error could echo credentials.
"""

from __future__ import annotations

import math
from typing import Any, Final

import redis.asyncio
import redis.exceptions

__all__ = [
    "REDIS_FAILURES",
    "block_seconds",
    "check_client",
    "check_name",
    "check_seconds",
    "describe",
    "text",
]

REDIS_FAILURES: Final = (redis.exceptions.RedisError, OSError)
"""What a Redis call raises when the server is unreachable, refuses, or errs."""

_MIN_BLOCK: Final = 0.01


def check_client(client: object) -> redis.asyncio.Redis:
    """The asyncio client, or a ``TypeError`` naming the parameter."""
    if not isinstance(client, redis.asyncio.Redis):
        msg = (
            "redis must be a redis.asyncio.Redis client "
            f"(redis.asyncio.Redis.from_url(...)), not {type(client).__name__}"
        )
        raise TypeError(msg)
    return client


def check_seconds(name: str, value: object) -> float:
    """A finite positive number of seconds, or a clear ``TypeError``/``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{name} must be a number of seconds, not {type(value).__name__}"
        raise TypeError(msg)
    if not math.isfinite(value) or value <= 0:
        msg = f"{name} must be a finite number of seconds > 0, not {value!r}"
        raise ValueError(msg)
    return float(value)


def check_name(name: str, value: object) -> str:
    """A non-empty string (a key or a prefix), or a clear error."""
    if not isinstance(value, str):
        msg = f"{name} must be a str, not {type(value).__name__}"
        raise TypeError(msg)
    if not value.strip():
        msg = f"{name} must not be empty"
        raise ValueError(msg)
    return value


def describe(client: redis.asyncio.Redis) -> str:
    """``redis://host:port/db`` (or ``unix://path``) for messages: never a password."""
    kwargs: dict[str, Any] = client.connection_pool.connection_kwargs
    db = kwargs.get("db", 0)
    if kwargs.get("path"):
        return f"unix://{kwargs['path']}?db={db}"
    return f"redis://{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{db}"


def block_seconds(client: redis.asyncio.Redis, wanted: float) -> float:
    """How long a blocking command may wait: ``wanted``, kept under the socket timeout.

    A ``BLPOP`` that outlasts the client's ``socket_timeout`` would fail as a
    timeout; the caller simply blocks again.
    """
    seconds = max(wanted, _MIN_BLOCK)
    limit = client.connection_pool.connection_kwargs.get("socket_timeout")
    if isinstance(limit, int | float) and limit > 0:
        seconds = min(seconds, max(limit * 0.8, _MIN_BLOCK))
    return seconds


def text(value: object) -> str:
    """A reply element as ``str``, whether the client decodes responses or not."""
    if isinstance(value, bytes):
        return value.decode()
    return str(value)
