"""The ``batch`` method: planning commands into chunks of 50, running each chunk through the
executor, and decoding each command's outcome."""
