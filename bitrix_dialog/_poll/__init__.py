"""Following a fetch-mode bot: offset stores, the event stream, ``client.imbot.v2.events``."""
