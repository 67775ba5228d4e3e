"""Building frozen attrs values on hot paths without paying for ``__init__``.

Every answer makes a :class:`RestResponse` and a :class:`Time`. A frozen slotted
``__init__`` stores each field through ``object.__setattr__``, which costs about twice
what storing through the slot itself does; for these two values that was a measurable
part of decoding an answer (``benchmarks/bench_decode.py``). :func:`slot_builder`
generates, once, a function that takes every field by keyword and stores it straight
into the slots. It is only for classes whose fields have no converters or validators
(the caller passes every value, already checked), and the instances it makes are the
same as ``__init__``'s: equal, hashable, frozen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

__all__ = ["slot_builder"]

T = TypeVar("T")


def slot_builder(cls: type[T]) -> Callable[..., T]:
    """A function ``(**every field) -> cls instance``; each field must be passed."""
    fields = attrs.fields(cls)  # type: ignore[arg-type]
    for field in fields:
        if field.converter is not None or field.validator is not None:
            msg = f"{cls.__name__}.{field.name} has a converter or validator"
            raise TypeError(msg)
    env: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    names = ", ".join(field.name for field in fields)
    lines = [f"def build_{cls.__name__}(*, {names}):", "    o = _new(_cls)"]
    for index, field in enumerate(fields):
        env[f"_s{index}"] = getattr(cls, field.name).__set__  # the slot's own descriptor
        lines.append(f"    _s{index}(o, {field.name})")
    lines.append("    return o")
    code = compile("\n".join(lines) + "\n", f"<bitrix_dialog slot builder {cls.__name__}>", "exec")
    exec(code, env)  # generated from the class's field names only
    builder: Callable[..., T] = env[f"build_{cls.__name__}"]
    return builder
