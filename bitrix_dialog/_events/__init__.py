"""``imbot.v2`` events as typed values, whichever way they arrive (fetched or posted)."""
