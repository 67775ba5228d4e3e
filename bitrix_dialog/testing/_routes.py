"""Which handler serves a method name on the fake portal, and errors scripted for the next calls.

The portal's REST server lower-cases method names, so names match in any case. A method
registered ``case_sensitive`` is served only as spelled (PHPSDK sends ``tasks.flow.Flow.*``
unaltered because those controller methods need their case); any other spelling of it is
``ERROR_METHOD_NOT_FOUND``, as is an unknown name.
"""

from __future__ import annotations

from ._context import MethodHandler
from ._errors import PortalError

__all__ = ["MethodRoutes", "ScriptedErrors"]


class MethodRoutes:
    """Method names -> handlers."""

    def __init__(self) -> None:
        self._methods: dict[str, MethodHandler] = {}
        self._case_sensitive: dict[str, str] = {}  # folded -> the one spelling served

    def register(self, name: str, handler: MethodHandler, *, case_sensitive: bool) -> None:
        """Serve ``name`` with ``handler`` (replacing any handler of that name)."""
        folded = name.lower()
        self._methods[folded] = handler
        if case_sensitive:
            self._case_sensitive[folded] = name
        else:
            self._case_sensitive.pop(folded, None)

    def resolve(self, method: str) -> MethodHandler:
        """The handler of ``method``, or ``ERROR_METHOD_NOT_FOUND`` (404)."""
        folded = method.lower()
        handler = self._methods.get(folded)
        exact = self._case_sensitive.get(folded)
        if handler is None or (exact is not None and exact != method):
            raise PortalError("ERROR_METHOD_NOT_FOUND", "Method not found!", status=404)
        return handler


class ScriptedErrors:
    """Errors ``fail_next`` queued: each answers the next call of its method (or any)."""

    def __init__(self) -> None:
        self._queued: list[tuple[str | None, PortalError]] = []

    def add(self, error: PortalError, *, method: str | None, times: int) -> None:
        """Queue ``error`` for the next ``times`` calls of ``method`` (``None``: any)."""
        self._queued.extend([(method, error)] * times)

    def raise_next(self, method: str, *, any_method: bool = True) -> None:
        """Raise the first queued error for ``method`` (and, if ``any_method``, for any)."""
        for index, (only, error) in enumerate(self._queued):
            if (only is None and any_method) or (
                only is not None and only.lower() == method.lower()
            ):
                del self._queued[index]
                raise error
