"""Turning decoded JSON into frozen attrs models: one private cattrs converter, its normalisers."""
