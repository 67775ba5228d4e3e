"""Benchmarks for bitrix_dialog: every figure is a ratio to a baseline measured in the same run."""
