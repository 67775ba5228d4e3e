"""Parsing answer bytes: ``orjson`` when the ``speedups`` extra is installed, else ``json``.

    payload = loads(response.body)  # the same value on both paths, or ValueError

``orjson`` parses a dialog answer three to four times faster than :func:`json.loads`, so
it is used when importable (``pip install bitrix-dialog[speedups]``) and never required.
Both paths must give the *same* value for the same bytes, because a user's code must not
change behaviour with an optional install. Where ``orjson`` differs, the stdlib decides:

- it refuses what :mod:`json` accepts: ``NaN``/``Infinity`` literals, numbers that
  overflow a double (``1e400``), lone surrogate escapes (``"\\ud800"``), a UTF-8 BOM,
  UTF-16/32 bodies. It raises, and the body is parsed again by :mod:`json`, which either
  accepts it (the same value as without ``orjson``) or raises its own ``ValueError``;
- it silently turns integers beyond 64 bits into floats (``18446744073709551616`` reads
  as ``1.8446744073709552e19``), so a body that may hold an integer of 19 or more digits
  (the shortest that may overflow: ``-9223372036854775809``) goes to :mod:`json` straight
  away. The check is one ``bytes.translate`` and one substring search (two when a run
  of 19 digits is there at all), a tenth of what ``orjson`` saves: a run of 19 digits
  that does not follow a ``.`` or an exponent's ``e``.
  Fractions are exempt because portals send them long (PHP writes ``0.0002713203430175781``
  for a short ``processing`` time) and ``orjson`` reads floats exactly as :mod:`json`
  does; a long digit run inside a string (rare in Bitrix24 answers) only costs the faster
  path, never the value.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

__all__ = ["PARSER", "loads"]

_DECODER: Final = json.JSONDecoder()


def _shape(byte: int) -> int:
    if byte in b"0123456789":
        return ord("0")
    if byte == ord("."):  # before a fraction's digits
        return ord(".")
    if byte in b"eE":  # before an exponent's digits
        return ord("e")
    return ord(" ")


# Digits become b"0", ".", "e" and "E" stay (as "." and "e"), everything else becomes
# b" ": a long integer is then b" " and a run of b"0"; a long fraction is b"." and one.
_SHAPES: Final = bytes(_shape(byte) for byte in range(256))
_LONG_RUN: Final = b"0" * 19
_LONG_INTEGER: Final = b" " + _LONG_RUN


def _stdlib_loads(body: bytes) -> Any:
    """:func:`json.loads` of ``body``, with the common UTF-8 case decoded directly.

    A UTF-8 body is decoded to ``str`` and parsed by a pre-built decoder, which skips
    ``json.loads``' encoding detection; anything else (a BOM, UTF-16, invalid UTF-8)
    goes through :func:`json.loads` itself, which detects the encoding and decides.
    """
    try:
        return _DECODER.decode(body.decode())
    except ValueError:  # UnicodeDecodeError is a ValueError too
        return json.loads(body)


def _with_orjson() -> Callable[[bytes], Any] | None:
    try:
        import orjson  # noqa: PLC0415 - optional: the ``speedups`` extra
    except ImportError:
        return None
    orjson_loads = orjson.loads
    refused = orjson.JSONDecodeError

    def orjson_first(body: bytes) -> Any:
        shape = body.translate(_SHAPES)
        # A run of 19 digits at all is rare, and far cheaper to rule out than the run
        # after a non-digit (a needle of one repeated byte skips ahead by its length).
        if _LONG_RUN in shape and (_LONG_INTEGER in shape or shape.startswith(_LONG_RUN)):
            return _stdlib_loads(body)
        try:
            return orjson_loads(body)
        except refused:
            return _stdlib_loads(body)

    return orjson_first


_FAST: Final = _with_orjson()

loads: Final[Callable[[bytes], Any]] = _stdlib_loads if _FAST is None else _FAST
"""Parse answer bytes to Python values; raises ``ValueError`` for anything not JSON."""

PARSER: Final = "json" if _FAST is None else "orjson"
"""Which parser :func:`loads` uses first, for the benchmarks' report."""
