"""Bulk dialog lookups (``client.dialogs.get_many``): thousands of ids streamed through batch
chunks at the portal's pace, one outcome per id."""
