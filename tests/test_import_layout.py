"""The import graph of the `hotline` package: no loops, and no imports hidden in functions to dodge one.

Read from the source with `ast` (nothing is imported), so it holds whatever the package's layout:
every module under hotline/, its top-level imports (those under `if TYPE_CHECKING:` are left out:
they never run), resolved to the module they load. A loop between modules is refused (a package's
own `__init__` included: views take their blueprint from a `blueprint` module, not from the package
that imports them). An import of `hotline` inside a function is refused unless the list below gives
it a reason other than a loop. And no service imports what drives it (the jobs, the pages, the
API, the commands, the demo).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "hotline"

# (module, function) -> why its `hotline` imports wait for the call. Keep it short.
IMPORTS_IN_FUNCTIONS = {
    # The package root runs before any `hotline.x` module is imported (workers, migrations, scripts,
    # every test): the app factory loads the app's parts when an app is made, not on `import hotline`.
    ("hotline", "create_app"): "app factory",
    ("hotline", "_register_deployment"): "app factory",
    ("hotline", "_register_template_helpers"): "app factory",
    ("hotline", "_load_user"): "app factory (the login loader reads sessions only once an app exists)",
    # The command groups load numpy and the load generator: kept out of the web and worker
    # processes, which make an app (and so register the commands) without running any of them.
    ("hotline.cli", "register_commands"): "heavy optional imports (numpy) for the CLI only",
    # The pages load when the factory registers them, not when a helper module under hotline.web
    # (formatting, used by the template helpers) is imported.
    ("hotline.web", "register_blueprints"): "app factory",
}


def _modules(package: Path = PACKAGE) -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_package)
    return found


def _targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom, modules: dict) -> set[str]:
    """The `hotline` modules an import statement loads (a name imported from a package is the
    submodule when there is one, else the package itself)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join(package + ([base] if base else []))
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
    targets = set()
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name and name != module:
            targets.add(name)
    return targets


def _top_level(body: list[ast.stmt]):
    """The import statements that run when the module is imported."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                yield from _top_level(node.body)
                yield from _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _top_level(block)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    modules = _modules(package)
    graph = {}
    for module, (path, is_package) in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[module] = set()
        for node in _top_level(tree.body):
            graph[module] |= _targets(module, is_package, node, modules)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def imports_in_functions(package: Path = PACKAGE) -> list[tuple[str, str, int, str]]:
    """(module, function, line, statement) for every import of a `hotline` module inside a function."""
    modules = _modules(package)
    found = []
    for module, (path, is_package) in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and _targets(module, is_package, node, modules):
                    found.append((module, function.name, node.lineno, ast.unparse(node)))
    return sorted(set(found))


def test_no_import_loop_between_modules():
    loops = cycles(import_graph())
    assert loops == [], "import loops (each group imports itself through the others):\n" + "\n".join(
        " <-> ".join(group) for group in loops
    )


def test_no_hotline_import_inside_a_function_without_a_reason():
    unexplained = [
        f"{module}.{function} line {line}: {statement}"
        for module, function, line, statement in imports_in_functions()
        if (module, function) not in IMPORTS_IN_FUNCTIONS
    ]
    assert unexplained == [], (
        "imports inside functions (move them to the top, and break the loop they dodge by moving the "
        "function where it belongs or passing a callable; or give a reason in IMPORTS_IN_FUNCTIONS):\n"
        + "\n".join(unexplained)
    )


# The domain is driven from outside: the jobs, the pages, the API and the commands call the
# services, never the other way round (jobs are enqueued by dotted path through the port).
ENTRY_POINTS = ("hotline.tasks", "hotline.web", "hotline.api", "hotline.open311", "hotline.public", "hotline.telephony")
ENTRY_POINTS += ("hotline.commands", "hotline.cli", "hotline.demo")


def entry_point_imports(package: Path = PACKAGE) -> list[str]:
    """Imports (anywhere in the module) of the jobs, the pages, the API or the commands by a service."""
    modules = _modules(package)
    wrong = []
    for module, (path, is_package) in modules.items():
        if not module.startswith("hotline.services."):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                t in ENTRY_POINTS or t.startswith(tuple(e + "." for e in ENTRY_POINTS))
                for t in _targets(module, is_package, node, modules)
            ):
                wrong.append(f"{module} line {node.lineno}: {ast.unparse(node)}")
    return wrong


def test_services_never_import_the_jobs_the_pages_or_the_api():
    wrong = entry_point_imports()
    assert wrong == [], "services import what drives them:\n" + "\n".join(wrong)


def test_the_allow_list_names_only_functions_that_import():
    used = {(module, function) for module, function, _, _ in imports_in_functions()}
    assert set(IMPORTS_IN_FUNCTIONS) <= used, sorted(set(IMPORTS_IN_FUNCTIONS) - used)


def test_the_checks_see_a_loop_and_a_hidden_import(tmp_path):
    """The walk finds a loop through a package's __init__, an import hidden in a function and a
    service (in a subpackage) importing the jobs."""
    package = tmp_path / "hotline"
    (package / "api").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "api" / "__init__.py").write_text("bp = 1\nfrom hotline.api import views\n")
    (package / "api" / "views.py").write_text("from hotline.api import bp\n")
    (package / "jobs.py").write_text("def run():\n    from hotline.api import views\n")
    (package / "services" / "sub").mkdir(parents=True)
    (package / "services" / "__init__.py").write_text("")
    (package / "services" / "sub" / "__init__.py").write_text("")
    (package / "services" / "sub" / "rules.py").write_text("import hotline.jobs\n")
    assert cycles(import_graph(package)) == [["hotline.api", "hotline.api.views"]]
    assert imports_in_functions(package) == [("hotline.jobs", "run", 2, "from hotline.api import views")]
    assert entry_point_imports(package) == []  # jobs.py is no entry point here: only the listed ones are
    (package / "tasks.py").write_text("")
    (package / "services" / "sub" / "rules.py").write_text("from hotline import tasks\n")
    assert entry_point_imports(package) == ["hotline.services.sub.rules line 1: from hotline import tasks"]
