"""Static checks: files mypy checks (``tests`` is in its ``files``) and pytest never collects.

``typing.assert_type`` does nothing at run time, so a test made only of it could never
fail under pytest; here it fails the type check instead. Names are not ``test_*.py``.
"""
