"""Pacing: when a request may leave (the portal's leaky bucket and its operating-time budget)."""
