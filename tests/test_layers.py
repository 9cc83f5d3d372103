"""The layers of docs/architecture.md, checked on every import statement of the source (also those inside
functions): the kernel imports no domain and no face, domains import no face and each other only one way."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAINS = ("contacts", "situation", "alerting", "drills")
FACES = "alueturva.app"
# What each domain may import besides the kernel and itself (docs/architecture.md §2).
DOMAIN_MAY_IMPORT = {
    "contacts": set(),
    "situation": {"contacts"},
    "alerting": {"contacts"},
    "drills": {"contacts", "situation", "alerting"},
}
# `python -m alueturva` starts the command line: a launcher, not a module anything imports.
LAUNCHER = "alueturva.__main__"


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


def layer_violations(sources: dict[str, str]) -> list[str]:
    """The wrong imports in ``sources`` ({path relative to the repository: source text})."""
    problems = []
    for path, source in sources.items():
        module = _module_name(path)
        if module == LAUNCHER:
            continue
        owner = _top(module)
        for line, imported in _imports(path, source):
            where = f"{path}:{line} imports {imported}"
            if owner == "alueturva" and not _is_face(module):
                if _top(imported) in DOMAINS or _is_face(imported):
                    problems.append(f"{where}: the kernel imports no domain and no face")
            elif owner in DOMAINS:
                other = _top(imported)
                if _is_face(imported):
                    problems.append(f"{where}: a domain imports no face")
                elif other in DOMAINS and other != owner and other not in DOMAIN_MAY_IMPORT[owner]:
                    problems.append(f"{where}: {owner} may import only {sorted(DOMAIN_MAY_IMPORT[owner])}")
    return problems


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


def _sources() -> dict[str, str]:
    files = sorted(path for top in ("alueturva", *DOMAINS) for path in (ROOT / top).rglob("*.py"))
    return {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8") for path in files}


def test_the_source_keeps_its_layers() -> None:
    sources = _sources()
    assert {"alueturva/db.py", "alueturva/app/http.py", "alerting/dispatch.py"} <= set(sources)
    assert layer_violations(sources) == []


def test_no_modules_import_each_other_in_a_circle() -> None:
    """Also not through an import inside a function: a circle means two topics that belong apart or together."""
    assert import_cycles(import_graph(_sources())) == []


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
    ],
)
def test_a_wrong_import_is_caught(module: str, source: str, expected: str) -> None:
    """The check itself: each kind of wrong import, added to a real module's source, is reported."""
    original = (ROOT / module).read_text(encoding="utf-8")
    assert layer_violations({module: original}) == []
    problems = layer_violations({module: original + "\n" + source})
    assert any(expected in problem for problem in problems), problems
