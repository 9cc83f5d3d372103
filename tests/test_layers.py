"""The rules of docs/architecture.md §2, checked on the source (every import statement, also those inside
functions), each check also run on examples that break it:

- the layers: the kernel imports no domain and no face, domains import no face and each other one way only;
- narrow doors: a domain reaches another only through its public surface (it may read the other's tables in its own
  queries, but never imports its command line or a ``_private`` name, reaches alerting only through
  ``alerting.public``, and writes another's tables only through the owner's functions);
- the benchmarks, the loopback peers and the project import nothing from ``tests``; nothing imports a top-level
  ``config`` (it is data, read by path);
- one rule for transactions: a function that takes a session never opens or commits a transaction, and a route that
  changes something calls a flow that owns its transaction instead of taking the request's ``DbSession``.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alueturva.auth.dependencies import DbSession, Operator

ROOT = Path(__file__).resolve().parents[1]
DOMAINS = ("contacts", "situation", "alerting", "drills", "actioncards")
FACES = "alueturva.app"
# What each domain may import besides the kernel and itself (docs/architecture.md §2).
DOMAIN_MAY_IMPORT = {
    "contacts": set(),
    "situation": {"contacts"},
    "alerting": {"contacts"},
    "drills": {"contacts", "situation", "alerting", "actioncards"},
    "actioncards": {"contacts", "situation", "alerting"},
}
# A domain with one door: the only modules of it another domain imports (its tables are read in joins).
ONE_DOOR = {"alerting": ("alerting.public", "alerting.models")}
# Code that is not the product but must not lean on the tests either.
SUPPORT = ("bench", "loopback")
# `python -m alueturva` starts the command line: a launcher, not a module anything imports.
LAUNCHER = "alueturva.__main__"
# Routes that change nothing though they are posted (a preview of a decision).
READ_ONLY_POSTS = {"/api/v1/readiness/decisions/preview"}


def _module_name(path: str) -> str:
    parts = list(Path(path).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: str, source: str) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import in the file, resolving relative ones."""
    module = _module_name(path)
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source, path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = ".".join(package.split(".")[: len(package.split(".")) - (node.level - 1)])
                base = f"{anchor}.{base}" if base else anchor
            yield node.lineno, base
            for alias in node.names:  # `from alueturva import app` imports the face too
                yield node.lineno, f"{base}.{alias.name}"


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def _is_face(name: str) -> bool:
    return name == FACES or name.startswith(FACES + ".")


def _is_cli(name: str) -> bool:
    return any(part == "cli" or part.endswith("_cli") for part in name.split("."))


def _is_private(name: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in name.split("."))


def _owner(module: str) -> str:
    return "face" if _is_face(module) else _top(module)


def _domain_door_problems(owner: str, imported: str) -> list[str]:
    """What is wrong with a domain importing ``imported`` from another domain, besides the direction."""
    other = _top(imported)
    problems = []
    if _is_cli(imported):
        problems.append(f"{owner} never imports {other}'s command line")
    if _is_private(imported):
        problems.append(f"{owner} never imports a private name of {other}")
    doors = ONE_DOOR.get(other)
    through_a_door = imported == other or any(
        imported == door or imported.startswith(door + ".") for door in doors or ()
    )
    if doors and not through_a_door:  # (``from alerting import public`` also names the bare package)
        problems.append(f"{owner} reaches {other} only through {' and '.join(doors)}")
    return problems


def _problems_of(module: str, imported: str) -> list[str]:
    owner, other = _owner(module), _top(imported)
    problems = []
    if other == "tests":
        problems.append("the project, bench and loopback import nothing from tests")
    if imported == "config" or imported.startswith("config."):
        problems.append("config/ is data, read by path (alueturva.config.config_path), never imported")
    if owner == "alueturva" and (other in DOMAINS or _is_face(imported)):
        problems.append("the kernel imports no domain and no face")
    elif owner in DOMAINS:
        if _is_face(imported):
            problems.append("a domain imports no face")
        elif other in DOMAINS and other != owner:
            if other not in DOMAIN_MAY_IMPORT[owner]:
                problems.append(f"{owner} may import only {sorted(DOMAIN_MAY_IMPORT[owner])}")
            problems += _domain_door_problems(owner, imported)
    elif other != owner and other in (*DOMAINS, "alueturva") and _is_private(imported.partition(".")[2]):
        problems.append(f"{owner} never imports a private name of {other}")
    return problems


def layer_violations(sources: dict[str, str]) -> list[str]:
    """The wrong imports in ``sources`` ({path relative to the repository: source text})."""
    problems = []
    for path, source in sources.items():
        module = _module_name(path)
        if module == LAUNCHER:
            continue
        for line, imported in _imports(path, source):
            problems += [f"{path}:{line} imports {imported}: {problem}" for problem in _problems_of(module, imported)]
    return problems + private_attribute_violations(sources)


def private_attribute_violations(sources: dict[str, str]) -> list[str]:
    """``module._name`` on a module imported from another package (``assemble._figures``)."""
    problems = []
    for path, source in sources.items():
        owner = _owner(_module_name(path))
        tree = ast.parse(source, path)
        bound: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if _is_module(f"{node.module}.{alias.name}"):
                        bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        bound[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in bound
                and _is_private(node.attr)
                and _owner(bound[node.value.id]) != owner
            ):
                where = f"{path}:{node.lineno} uses {bound[node.value.id]}.{node.attr}"
                problems.append(f"{where}: nobody outside {_top(bound[node.value.id])} uses its private names")
    return problems


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _mapped_tables(module: str) -> set[str]:
    """The names of the mapped classes (tables) a domain's ``models`` module defines."""
    from alueturva.db import Base

    loaded = importlib.import_module(module)
    return {
        name
        for name, value in vars(loaded).items()
        if isinstance(value, type) and issubclass(value, Base) and value.__module__ == module
    }


def write_violations(sources: dict[str, str]) -> list[str]:
    """A domain making rows of another domain's table (``Delivery(...)``) or changing it in bulk
    (``update(Delivery)``, ``insert``, ``delete``): it writes through the owner's functions instead. (Changing an
    attribute of a row read from another domain is not seen here: such a row is only read in joins today.)"""
    problems = []
    for path, source in sources.items():
        owner = _owner(_module_name(path))
        if owner not in DOMAINS:
            continue
        tree = ast.parse(source, path)
        foreign: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith(".models"):
                other = _top(node.module)
                if other in DOMAINS and other != owner:
                    tables = _mapped_tables(node.module)
                    foreign |= {alias.asname or alias.name: other for alias in node.names if alias.name in tables}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else None
            target = node.args[0] if name in ("insert", "update", "delete") and node.args else node.func
            if isinstance(target, ast.Name) and target.id in foreign:
                what = f"{name}({target.id})" if target is not node.func else f"{target.id}(...)"
                problems.append(
                    f"{path}:{node.lineno} {what}: {owner} writes {foreign[target.id]}'s tables only through "
                    f"{foreign[target.id]}'s functions"
                )
    return problems


def transaction_violations(sources: dict[str, str]) -> list[str]:
    """A function that takes a session (a step) but opens a transaction of its own or commits the caller's: the
    caller owns it (docs/architecture.md §2)."""
    problems = []
    for path, source in sources.items():
        if _owner(_module_name(path)) not in DOMAINS:
            continue
        for function in ast.walk(ast.parse(source, path)):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if "session" not in [a.arg for a in (*function.args.args, *function.args.kwonlyargs)]:
                continue
            for node in ast.walk(function):
                if not isinstance(node, ast.Call):
                    continue
                opens = isinstance(node.func, ast.Name) and node.func.id == "get_database"
                commits = (
                    isinstance(node.func, ast.Attribute)
                    and node.func.attr == "commit"
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "session"
                )
                if opens or commits:
                    verb = "opens a transaction" if opens else "commits"
                    problems.append(f"{path}:{node.lineno} {function.name} takes a session but {verb}")
    return problems


def _sources(*tops: str) -> dict[str, str]:
    tops = tops or ("alueturva", *DOMAINS, *SUPPORT)
    files = sorted(path for top in tops for path in (ROOT / top).rglob("*.py"))
    return {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8") for path in files}


def test_the_source_keeps_its_layers_and_doors() -> None:
    sources = _sources()
    assert {"alueturva/db.py", "alueturva/app/http.py", "alerting/dispatch.py", "bench/stack.py"} <= set(sources)
    assert layer_violations(sources) == []


def test_a_domain_writes_another_s_tables_only_through_its_functions() -> None:
    assert write_violations(_sources(*DOMAINS)) == []


def test_a_function_given_a_session_leaves_the_transaction_to_its_caller() -> None:
    assert transaction_violations(_sources(*DOMAINS)) == []


def routes_writing_with_the_request_s_session(routes: list[Any]) -> list[str]:
    """The domains' POST, PUT, PATCH and DELETE routes that take the request's ``DbSession`` (found among their
    dependencies). The kernel's own routes (API keys) are not held to the domains' rule."""
    from fastapi.routing import APIRoute

    from alueturva.auth.dependencies import get_session

    def uses_session(dependant: object) -> bool:
        return any(d.call is get_session or uses_session(d) for d in getattr(dependant, "dependencies", []))

    return [
        f"{' '.join(sorted(route.methods))} {route.path}"
        for route in routes
        if isinstance(route, APIRoute)
        and _top(route.endpoint.__module__) in DOMAINS
        and route.methods & {"POST", "PUT", "PATCH", "DELETE"}
        and uses_session(route.dependant)
    ]


def test_a_route_that_changes_something_calls_a_flow_that_owns_its_transaction() -> None:
    """No POST, PUT, PATCH or DELETE route takes the request's ``DbSession``: it calls a flow, which commits and
    then runs what must follow the commit (jobs, a drill's alerts, a decision's reactions)."""
    from alueturva.app.wiring import routers

    routes = [route for router in routers() for route in router.routes]
    assert len(routes) > 50
    assert routes_writing_with_the_request_s_session(routes) == sorted(f"POST {path}" for path in READ_ONLY_POSTS)


def test_no_package_named_config_is_installed() -> None:
    """``config/`` is data: an environment that has a library named ``config`` keeps it (run outside the checkout,
    whose folders Python would otherwise find by their names)."""
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('config') is not None)"
    assert subprocess.run([sys.executable, "-c", probe], cwd=ROOT.parent, check=False).returncode == 0


def test_no_modules_import_each_other_in_a_circle() -> None:
    """Also not through an import inside a function: a circle means two topics that belong apart or together."""
    assert import_cycles(import_graph(_sources("alueturva", *DOMAINS))) == []


def test_a_circle_is_caught() -> None:
    sources = {"alerting/a.py": "from alerting.b import f\n", "alerting/b.py": "def f():\n    import alerting.a\n"}
    assert import_cycles(import_graph(sources)) == [["alerting.a", "alerting.b"]]


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("alueturva/queue.py", "from alerting.dispatch import send_batch\n", "the kernel imports no domain"),
        ("alueturva/db.py", "def f():\n    import contacts.models\n", "the kernel imports no domain"),
        ("alueturva/settings.py", "from alueturva.app import wiring\n", "the kernel imports no domain and no face"),
        ("alerting/api.py", "from alueturva.app.http import create_app\n", "a domain imports no face"),
        ("alueturva/audit/service.py", "from ..app import wiring\n", "the kernel imports no domain and no face"),
        ("situation/flows.py", "import alerting.flows\n", "situation may import only ['contacts']"),
        ("contacts/service.py", "from situation.config import rank\n", "contacts may import only []"),
        (
            "drills/cli.py",
            "def f():\n    from alerting.cli import alert_app\n",
            "never imports alerting's command line",
        ),
        ("drills/flows.py", "from situation.cli import situation_app\n", "never imports situation's command line"),
        ("drills/plans.py", "from contacts.roster import _apply\n", "never imports a private name of contacts"),
        ("drills/outbox.py", "from alerting import flows\n", "reaches alerting only through alerting.public"),
        ("drills/flows.py", "from alerting.service import close_alert\n", "reaches alerting only through"),
        ("bench/report.py", "from tests.support.roster import make_roster\n", "import nothing from tests"),
        ("loopback/processes.py", "import tests.conftest\n", "import nothing from tests"),
        ("drills/service.py", "from tests.support import drills\n", "import nothing from tests"),
        ("contacts/catalogue.py", "import config\n", "config/ is data"),
        ("bench/report.py", "from drills.report.assemble import _curve\n", "never imports a private name of drills"),
        (
            "bench/report.py",
            "from drills.report import assemble\nassemble._curve({}, {}, 0)\n",
            "nobody outside drills uses its private names",
        ),
    ],
)
def test_a_wrong_import_is_caught(module: str, source: str, expected: str) -> None:
    """The check itself: each kind of wrong import, added to a real module's source, is reported."""
    sources = _sources()
    assert layer_violations({module: sources[module]}) == []
    problems = layer_violations({module: sources[module] + "\n" + source})
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from alerting.models import Delivery\nDelivery(alert_id=1)\n", "Delivery(...)"),
        ("from sqlalchemy import update\nfrom alerting.models import Recipient\nupdate(Recipient)\n", "update"),
        ("from sqlalchemy import insert\nfrom contacts.models import Person as P\ninsert(P)\n", "insert(P)"),
        (
            "from sqlalchemy import delete\nfrom situation.models import Snapshot\ndelete(Snapshot)\n",
            "delete",
        ),
    ],
)
def test_a_write_to_another_domain_s_table_is_caught(source: str, expected: str) -> None:
    real = _sources("drills")["drills/demo.py"]
    assert write_violations({"drills/demo.py": real}) == []
    problems = write_violations({"drills/demo.py": real + "\n" + source})
    assert any(expected in problem and "only through" in problem for problem in problems), problems
    reading = "from sqlalchemy import select\nfrom alerting.models import Delivery\nselect(Delivery.id)\n"
    assert write_violations({"drills/demo.py": real + "\n" + reading}) == []  # reading in a join is fine


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f(session, *, x):\n    with get_database().session() as other:\n        pass\n", "opens a transaction"),
        ("def f(session):\n    session.commit()\n", "commits"),
    ],
)
def test_a_step_that_owns_the_transaction_is_caught(source: str, expected: str) -> None:
    real = _sources("drills")["drills/service.py"]
    assert transaction_violations({"drills/service.py": real}) == []
    problems = transaction_violations({"drills/service.py": real + "\n" + source})
    assert any(expected in problem for problem in problems), problems
    savepoint = "def f(session):\n    point = session.begin_nested()\n    point.commit()\n"
    assert transaction_violations({"drills/service.py": real + "\n" + savepoint}) == []


def test_a_write_route_with_the_request_s_session_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi import APIRouter

    router = APIRouter()

    def writing(session: DbSession, _: Operator) -> None:
        return None

    def reading(session: DbSession) -> None:
        return None

    def deleting(_: Operator) -> None:
        return None

    for endpoint in (writing, reading, deleting):
        monkeypatch.setattr(endpoint, "__module__", "drills.api")  # as if a domain's router had them
    router.post("/reads-and-writes")(writing)
    router.get("/reads")(reading)
    router.delete("/through-a-flow")(deleting)
    assert routes_writing_with_the_request_s_session(router.routes) == ["POST /reads-and-writes"]


def import_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    """Module -> the modules of ``sources`` it imports (``alerting.flows.create_alert`` means ``alerting.flows``)."""
    modules = {_module_name(path) for path in sources}
    graph: dict[str, set[str]] = {}
    for path, source in sources.items():
        module = _module_name(path)
        graph[module] = set()
        for _, imported in _imports(path, source):
            parts = imported.split(".")
            known = next(
                (".".join(parts[:n]) for n in range(len(parts), 0, -1) if ".".join(parts[:n]) in modules), None
            )
            if known is not None and known != module and not module.startswith(known + "."):
                graph[module].add(known)
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other in a circle (strongly connected components, Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in sorted(graph.get(module, ())):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while (member := stack.pop()) != module:
                component.append(member)
            if component:
                cycles.append(sorted([module, *component]))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles
