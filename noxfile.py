"""Developer tasks: ``nox -s tests``, ``nox -s lint``, ``nox -s typecheck``, ``nox -s bench``."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False

PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the whole test suite against the fake portal (no network)."""
    # The multi-worker tests start a real redis-server on 127.0.0.1.
    session.run("bash", ".ci/ensure-redis", external=True)
    # With the ``speedups`` extra: answers parse with orjson here, and
    # tests/test_answer_parsing.py runs itself again with orjson made unimportable,
    # so both parsers are tested in one session.
    session.install("-e", ".[test,redis,cli,speedups]")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting checks."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run(
        "ruff",
        "format",
        "--check",
        "bitrix_dialog",
        "tests",
        "examples",
        "benchmarks",
        "noxfile.py",
    )


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package, tests, examples and benchmarks."""
    session.install("-e", ".[test,redis,cli,speedups]", "mypy>=1.11", "nox>=2024.4", "types-tqdm")
    session.run("mypy", "--strict")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Run the benchmarks and print ratios against same-run baselines."""
    # The workers benchmark shares a bucket through a local redis-server.
    session.run("bash", ".ci/ensure-redis", external=True)
    # The decode benchmark measures with orjson here and without it in a subprocess.
    session.install("-e", ".[redis,cli,speedups]")
    session.run("python", "-m", "benchmarks", *session.posargs)
