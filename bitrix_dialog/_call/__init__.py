"""One REST call, start to finish: input checks, the attempt loop, retries and hooks.

``Executor.execute`` runs one call (or one batch chunk) under one ``Deadline``: it waits for the
operating budget and a limiter slot, lets the auth shape the request, sends it through the
transport, maps the envelope to a result or a typed error, and asks the retry policy what next.
"""
