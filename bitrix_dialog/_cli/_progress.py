"""A progress bar on stderr for long lookups, drawn by tqdm (the ``cli`` extra).

The bar shows only when stderr is a terminal, unless asked for (``--progress``) or
refused (``--no-progress``). Without tqdm installed the command works the same and
says once how to get the bar.
"""

from __future__ import annotations

import importlib
import sys
from types import TracebackType
from typing import Protocol, TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """A ``progress(done, total, errors)`` callback that draws (or quietly ignores) a bar."""

    def __init__(self, *, wanted: bool | None, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        show = self._stream.isatty() if wanted is None else wanted
        self._bar: _Bar | None = None
        if not show:
            return
        try:
            # Optional dependency (the ``cli`` extra), imported only when a bar is drawn.
            tqdm = importlib.import_module("tqdm").tqdm
        except ImportError:
            if wanted:
                print(
                    "bitrix-dialog: install 'bitrix-dialog[cli]' for a progress bar",
                    file=self._stream,
                )
            return
        self._bar = tqdm(file=self._stream, unit="dialog", dynamic_ncols=True, leave=True)

    def __call__(self, done: int, total: int | None, errors: int) -> None:
        bar = self._bar
        if bar is None:
            return
        if total is not None and bar.total != total:
            bar.total = total
        bar.set_postfix(errors=errors, refresh=False)
        bar.update(done - bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _Bar(Protocol):
    """The part of tqdm's interface the callback uses."""

    n: float
    total: float | None

    def update(self, n: float) -> object: ...
    def set_postfix(self, *, refresh: bool, **values: object) -> None: ...
    def close(self) -> None: ...
