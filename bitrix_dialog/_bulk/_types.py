"""The values a bulk dialog lookup hands back: keys, outcomes, the gathered mapping.

``client.dialogs.get_many(ids)`` yields ``(key, outcome)`` pairs. The key is the
canonical :class:`DialogId` of an input (so ``"chat5"``, ``"CHAT5"`` and
``DialogId.chat(5)`` are one key, and ``5`` and ``"5"`` another), or, for an input
that is not a dialog id at all, a :class:`RejectedInput` naming that input and its
position. The outcome is the typed :class:`Dialog` or that key's own
:class:`BitrixError`; nothing is raised for one id's failure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeAlias

import attrs

from .._batch._outcomes import Outcomes
from .._errors import BitrixError, InvalidDialogIdError
from .._methods._dialog_id import DialogId
from .._models import Dialog

__all__ = ["DialogKey", "DialogOutcome", "DialogResults", "ProgressCallback", "RejectedInput"]


@attrs.frozen(kw_only=True, eq=False)
class RejectedInput:
    """An input of a bulk lookup that is not a dialog id (``None``, ``"chatx"``, ``0``).

    It is the key its :class:`InvalidDialogIdError` outcome is reported under: such an
    input cannot be deduplicated by what it names, so each one is reported once, where
    it stood. Keys compare by identity.
    """

    value: object
    """The input exactly as given."""
    position: int
    """Its index in the input (0-based)."""

    def __str__(self) -> str:
        return repr(self.value)


DialogKey: TypeAlias = DialogId | RejectedInput
"""What a bulk outcome is filed under: the canonical id, or the invalid input."""

DialogOutcome: TypeAlias = Dialog | BitrixError
"""What one id came to: its dialog, or its own typed error."""

ProgressCallback: TypeAlias = Callable[[int, int | None, int], object]
"""``progress(done, total, errors)``: outcomes settled so far, the number of distinct
ids (``None`` until an unsized input is exhausted), and how many of the settled
outcomes are errors. Called from the event loop; keep it quick."""


class DialogResults(Outcomes[DialogKey, DialogOutcome]):
    """Every distinct id's outcome, in input order (first appearance).

    Look outcomes up by :class:`DialogId` or by anything :meth:`DialogId.parse`
    accepts (``results["chat5"]``, ``results[256]``). :attr:`dialogs` and
    :attr:`errors` split them; :meth:`raise_first` raises the first error.
    """

    def __init__(self, outcomes: Mapping[DialogKey, DialogOutcome]) -> None:
        self._outcomes = dict(outcomes)

    def __getitem__(self, key: object) -> DialogOutcome:
        if isinstance(key, DialogId | RejectedInput):
            return self._outcomes[key]
        try:
            parsed = DialogId.parse(key)  # type: ignore[arg-type]
        except InvalidDialogIdError:
            raise KeyError(key) from None
        return self._outcomes[parsed]

    def __contains__(self, key: object) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    @property
    def dialogs(self) -> Mapping[DialogId, Dialog]:
        """The ids that came back as dialogs, in input order."""
        return {
            key: value
            for key, value in self._outcomes.items()
            if isinstance(value, Dialog) and isinstance(key, DialogId)
        }

    def __repr__(self) -> str:
        return f"DialogResults({len(self)} ids, {len(self.errors)} failed)"
