"""One REST call, start to finish: input checks, the attempt loop, retries and hooks.

``Executor`` runs every request (a single call, a ``batch`` chunk, a bulk chunk) through
one attempt loop under one ``Deadline`` per call or chunk: it waits for the operating
budget of each method the request bills and for a limiter slot, lets the auth shape the
request, sends it through the transport, maps the envelope to a result or a typed error
(built complete, never amended), and asks the retry policy what next. ``Request`` and
``RequestSource`` (``_request``) are how the layers above hand it their requests.
"""
