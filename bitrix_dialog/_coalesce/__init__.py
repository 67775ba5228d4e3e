"""Coalescing: concurrent single reads merged into ``batch`` requests, identical ones
sharing one command (:class:`~._coalescer.Coalescer`), with its options and the
client's :class:`~._options.ClientStats` snapshot.

Every caller keeps what it would have had alone:

- its **outcome**: a command's own error (``ACCESS_ERROR`` for one chat) goes only to
  that command's callers, with the class, code, description and method a plain call
  gets; a ``batch`` answer without the command's outcome is its
  ``BatchResultMissingError``; a failure of the whole request (after the executor's
  retries) goes to every caller in it, except a portal (or a gateway before it) that
  serves no ``batch``: its commands go again as plain calls, and so do all later ones;
- its **retries**: a command refused inside a ``batch`` is retried alone as the retry
  policy allows, on its own :class:`RetryState` (counted and reported by the retry
  module), in a later request, never by re-sending its neighbours;
- its **deadline and cancellation**: each caller waits on its own future with its own
  timer; one leaving never touches the others. A command nobody waits for any more is
  dropped from the request if it has not been built yet; a request nobody waits for
  is cancelled (its slot and connection freed);
- its **credentials**: one coalescer serves one client, so every request it builds is
  signed by the same auth identity that would have signed each call; per-call
  credentials that are parameters (``imbot.v2``'s ``botId``/``botToken``) travel
  inside each command, so two bots may share a request signed by the client's auth,
  each command acting as its own bot (as ``get_many`` does). Lookups differing in any
  parameter (another bot, another token) never share a command.
"""
