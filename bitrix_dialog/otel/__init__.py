"""OpenTelemetry traces and metrics for every REST call (``pip install 'bitrix-dialog[otel]'``).

    from bitrix_dialog import Client
    from bitrix_dialog.otel import OpenTelemetryHooks

    client = Client(url, hooks=OpenTelemetryHooks(tracer_provider=tp, meter_provider=mp))

Each REST call (``client.call``, a typed method, each ``batch`` request of ``client.batch``
and of a bulk lookup) is one span named after the method, a child of the caller's
current span, with one child span per HTTP attempt. Only the portal's host, method
names, counts, statuses, error codes and durations are recorded: never a URL path, a
parameter, a token, a request body or a dialog's content. The core package never
imports this module.
"""

from __future__ import annotations

from .._public import publish
from ._hooks import OpenTelemetryHooks

__all__ = ["OpenTelemetryHooks"]

publish(globals(), __all__, "bitrix_dialog.otel")
del publish
