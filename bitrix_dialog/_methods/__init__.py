"""Typed REST methods: dialog ids, method specs and the ``client.im``/``imbot``/``imopenlines``
namespaces that call them."""
