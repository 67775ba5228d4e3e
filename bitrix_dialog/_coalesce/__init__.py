"""Coalescing: concurrent single reads merged into ``batch`` requests, identical ones
sharing one command (:class:`~._coalescer.Coalescer`), with its options and the
client's :class:`~._options.ClientStats` snapshot."""
