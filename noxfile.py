"""Developer tasks: ``nox -s tests``, ``tests_lowest``, ``lint``, ``typecheck``, ``package``,
``docs``, ``bench``.

``nox -s tests`` runs the suite on every Python from 3.11 to 3.13 that the machine has:
those on ``PATH`` and those under ``~/.pyenv/versions`` (added to ``PATH`` here, so pyenv
builds are found without ``pyenv shell``). A missing interpreter is skipped, not an error.
"""

from __future__ import annotations

import email.parser
import os
import pathlib
import re
import shutil
import sys
import tarfile
import tempfile
import tomllib
import zipfile

import nox

nox.options.sessions = ["tests", "tests_lowest", "lint", "typecheck", "package", "docs"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False
# uv makes the many virtualenvs of a CI run cheap; plain virtualenv + pip where it is missing.
nox.options.default_venv_backend = "uv|virtualenv"

ROOT = pathlib.Path(__file__).resolve().parent
PYTHONS = ["3.11", "3.12", "3.13"]
PYTHON = "3.11"  # lint, typecheck, docs, package and the lowest-versions run
TEST_EXTRAS = ".[test,redis,cli,otel,speedups]"
# The runtime dependencies whose lowest declared versions tests_lowest installs: the core
# ones and the extras a user installs (test tooling stays at its newest).
LOWEST_EXTRAS = ("cli", "redis", "otel", "speedups")
# What the wheel must declare as extras.
WHEEL_EXTRAS = {"speedups", "cli", "redis", "otel"}


def _add_pyenv_pythons() -> None:
    """Put ``~/.pyenv/versions/3.1x*/bin`` on PATH for the Pythons in PYTHONS."""
    versions = pathlib.Path(os.environ.get("PYENV_ROOT", "~/.pyenv")).expanduser() / "versions"
    if not versions.is_dir():
        return
    found: list[str] = []
    for wanted in PYTHONS:
        on_path = shutil.which(f"python{wanted}")
        if on_path and "shims" not in pathlib.Path(on_path).parts:
            continue  # a real interpreter (a pyenv shim fails for versions not selected)
        candidates = sorted(versions.glob(f"{wanted}.*/bin/python{wanted}"), reverse=True)
        if candidates:
            found.append(str(candidates[0].parent))
    if found:
        os.environ["PATH"] = os.pathsep.join([*found, os.environ.get("PATH", "")])


_add_pyenv_pythons()
# uv must use the interpreters found above, never download one, and trust the system's
# certificate store as pip does (a TLS-inspecting proxy's CA is only there).
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
os.environ.setdefault("UV_SYSTEM_CERTS", "1")
os.environ.setdefault("UV_NATIVE_TLS", "1")  # the same for uv before 0.9


def _pytest(session: nox.Session, *args: str) -> None:
    # The multi-worker tests start a real redis-server on 127.0.0.1.
    session.run("bash", ".ci/ensure-redis", external=True)
    session.run("pytest", "-p", "no:cacheprovider", *args, *session.posargs)


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the whole test suite against the fake portal (no network)."""
    # TEST_EXTRAS has ``speedups``: answers parse with orjson here, and
    # tests/test_answer_parsing.py runs itself again with orjson made unimportable.
    session.install("-e", TEST_EXTRAS)
    _pytest(session)


def _lowest_constraints() -> list[str]:
    """``name==lowest`` for every runtime requirement declared with a ``>=`` lower bound."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in LOWEST_EXTRAS:
        requirements += project["optional-dependencies"].get(extra, [])
    pins: list[str] = []
    for requirement in requirements:
        match = re.fullmatch(
            r"\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*>=\s*([^,;\s]+)\s*", requirement
        )
        if match is None:
            msg = f"{requirement!r}: declare a '>=' lower bound so tests_lowest can install it"
            raise ValueError(msg)
        pins.append(f"{match[1]}=={match[3]}")
    return pins


@nox.session(python=PYTHON)
def tests_lowest(session: nox.Session) -> None:
    """The suite against the lowest declared versions of the runtime dependencies."""
    constraints = pathlib.Path(session.create_tmp()) / "lowest.txt"
    pins = _lowest_constraints()
    constraints.write_text("\n".join(pins) + "\n", encoding="utf-8")
    session.log("lowest versions: " + ", ".join(pins))
    session.install("-e", TEST_EXTRAS, "-c", str(constraints))
    _pytest(session)


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
    session.install("-e", TEST_EXTRAS, "mypy>=1.11", "nox>=2024.4", "types-tqdm")
    session.run("mypy", "--strict")


@nox.session(python=PYTHON)
def package(session: nox.Session) -> None:
    """Build sdist and wheel, check them, and run the demo and examples from the wheel alone."""
    dist = pathlib.Path(session.create_tmp()) / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.install("build>=1.2", "twine>=5.1")
    session.run("python", "-m", "build", "--outdir", str(dist), str(ROOT))
    wheels = sorted(dist.glob("*.whl"))
    sdists = sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        session.error(f"expected one wheel and one sdist in {dist}, got {sorted(dist.iterdir())}")
    session.run("twine", "check", "--strict", str(wheels[0]), str(sdists[0]))
    problems = _wheel_problems(wheels[0]) + _sdist_problems(sdists[0])
    if problems:
        session.error("the wheel is not fit to publish:\n  " + "\n  ".join(problems))
    session.log(f"{wheels[0].name}: contents and metadata complete")
    _run_from_wheel(session, wheels[0])


def _wheel_problems(wheel: pathlib.Path) -> list[str]:
    problems: list[str] = []
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        dist_info = next(n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info"))
        metadata = email.parser.Parser().parsestr(
            archive.read(f"{dist_info}/METADATA").decode("utf-8")
        )
    if "bitrix_dialog/py.typed" not in names:
        problems.append("bitrix_dialog/py.typed is missing")
    for name in names:
        top = name.split("/")[0]
        if top not in {"bitrix_dialog", dist_info}:
            problems.append(f"stray file outside the package: {name}")
        elif re.search(r"(^|/)(tests?|__pycache__)/|\.pyc$|(^|/)conftest\.py$", name):
            problems.append(f"a test or build leftover in the wheel: {name}")
        elif top == "bitrix_dialog" and not re.search(r"\.(py|typed|lua)$", name):
            problems.append(f"an unexpected kind of file in the package: {name}")
    if not metadata.get("License-Expression") and not metadata.get("License"):
        problems.append("no license in the metadata")
    if not any(p.startswith("licenses/") for p in (n.split(".dist-info/")[-1] for n in names)):
        problems.append("no license file in the wheel")
    for field in ("Summary", "Requires-Python", "Description-Content-Type"):
        if not metadata.get(field):
            problems.append(f"metadata has no {field}")
    urls = {url.split(",")[0].strip().lower() for url in metadata.get_all("Project-URL") or []}
    for label in ("documentation", "source", "changelog", "issues"):
        if label not in urls:
            problems.append(f"no {label!r} project URL (has {sorted(urls)})")
    classifiers = metadata.get_all("Classifier") or []
    for version in PYTHONS:
        if f"Programming Language :: Python :: {version}" not in classifiers:
            problems.append(f"no classifier for Python {version}")
    if "Typing :: Typed" not in classifiers:
        problems.append("no 'Typing :: Typed' classifier")
    extras = set(metadata.get_all("Provides-Extra") or [])
    if missing := WHEEL_EXTRAS - extras:
        problems.append(f"extras missing: {sorted(missing)} (has {sorted(extras)})")
    if not metadata.get_payload():
        problems.append("no long description")
    return problems


def _sdist_problems(sdist: pathlib.Path) -> list[str]:
    with tarfile.open(sdist) as archive:
        names = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    problems = [
        f"a build or cache leftover in the sdist: {name}"
        for name in names
        if re.search(
            r"(^|/)(__pycache__|\.nox|\.git|\.venv|dist|site|\.[a-z_]+_cache)(/|$)|\.pyc$", name
        )
    ]
    for required in ("pyproject.toml", "README.md", "LICENSE", "bitrix_dialog/py.typed"):
        if required not in names:
            problems.append(f"the sdist lacks {required}")
    return problems


def _run_from_wheel(session: nox.Session, wheel: pathlib.Path) -> None:
    """A fresh venv with only the wheel (not editable), outside the source tree."""
    work = pathlib.Path(tempfile.mkdtemp(prefix="bitrix-dialog-wheel-"))
    try:
        venv = work / "venv"
        session.run(sys.executable, "-m", "venv", str(venv), external=True)
        python = str(venv / "bin" / "python")
        # An environment with nothing of the checkout on the import path.
        env = {"PYTHONPATH": "", "PYTHONSAFEPATH": "1", "VIRTUAL_ENV": str(venv)}
        session.run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    f"{wheel}[cli]", external=True, env=env)  # fmt: skip
        examples = work / "examples"
        shutil.copytree(ROOT / "examples", examples)
        with session.chdir(work):
            where = (
                "import bitrix_dialog, pathlib, sys;"
                "p = pathlib.Path(bitrix_dialog.__file__).resolve();"
                f"sys.exit(0 if p.is_relative_to({str(venv.resolve())!r}) else"
                " f'bitrix_dialog imported from {p}, not from the wheel')"
            )
            session.run(python, "-c", where, external=True, env=env)
            session.run(str(venv / "bin" / "bitrix-dialog"), "demo", external=True, env=env)
            for example in sorted(examples.glob("*.py")):
                args = ["--once", "--port", "0"] if example.name == "echo_bot.py" else []
                session.run(python, str(example), *args, external=True, env=env)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the docs site with ``mkdocs build --strict`` (broken links and references fail)."""
    session.install("-e", ".", "-r", "docs/requirements.txt")
    site = pathlib.Path(session.create_tmp()) / "site"
    session.run("mkdocs", "build", "--strict", "--site-dir", str(site))


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Run the benchmarks and print ratios against same-run baselines."""
    # The workers benchmark shares a bucket through a local redis-server.
    session.run("bash", ".ci/ensure-redis", external=True)
    # The decode benchmark measures with orjson here and without it in a child process.
    session.install("-e", ".[redis,cli,speedups]")
    session.run("python", "-m", "benchmarks", *session.posargs)
