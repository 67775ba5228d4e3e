"""Answer bytes to frozen attrs models: the parser, one private cattrs converter, its hooks.

    _json.loads         bytes -> Python values (orjson when installed, json otherwise)
    _result.decode_result   a method spec's ``result`` -> its typed value, or ModelDecodeError
    _converter.structure    value -> model (or scalar), in one naming style
      _hooks            cattrs-generated structure function per model and style
      _normalize        one wire value -> one Python value (field hooks)
      _paths            a failure -> the wire path of the value that failed
"""
