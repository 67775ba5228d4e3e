"""Answer bytes to frozen attrs models: the parser, one private cattrs converter, its hooks.

- ``_json.loads``: bytes -> Python values (orjson when installed, json otherwise);
- ``_result.decode_result``: a method spec's ``result`` -> its typed value, or
  ``ModelDecodeError``;
- ``_converter.structure``: a value -> a model (or a scalar), in one naming style, with
  ``_hooks`` (a cattrs-generated structure function per model and style), ``_normalize``
  (one wire value -> one Python value) and ``_paths`` (a failure -> its wire path).
"""
