"""A read-only mapping of outcomes in input order: each a value or its own typed error.

Batch results and bulk dialog results share it, so both answer the same questions
the same way: did everything succeed (:attr:`ok`), which failed (:attr:`errors`),
and raise the first failure when the caller prefers an exception (:meth:`raise_first`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Self, TypeVar

from .._errors import BitrixError

__all__ = ["Outcomes"]

K = TypeVar("K")
V = TypeVar("V")


class Outcomes(Mapping[K, V]):
    """Outcomes by key, in input order; subclasses provide ``_outcomes``."""

    __slots__ = ()
    _outcomes: Mapping[K, V]

    def __getitem__(self, key: Any) -> V:
        return self._outcomes[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._outcomes)

    def __len__(self) -> int:
        return len(self._outcomes)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.errors

    @property
    def errors(self) -> Mapping[K, BitrixError]:
        """The keys that failed (or never ran), in input order."""
        return {k: v for k, v in self._outcomes.items() if isinstance(v, BitrixError)}

    def raise_first(self) -> Self:
        """Raise the first failure in input order; else return self."""
        for error in self.errors.values():
            raise error
        return self
