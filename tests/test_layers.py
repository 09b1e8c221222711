"""The layering of app/ (see the note on DESIGN.md's picture): no import cycle among modules, the
customer rules import no other area, and no area's rules know Flask's request, forms or JSON."""

import ast
import pathlib

APP = pathlib.Path(__file__).resolve().parent.parent / "app"
# The areas that own data. History is shared by all of them (every change is recorded there).
AREAS = ("customers", "billing", "apps", "plans", "auth")


def _imports() -> dict[str, set[str]]:
    """Module → the app modules it imports, at the top or inside a function (both make a cycle)."""
    modules = {}
    for path in APP.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(APP.parent).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "app":
                for alias in node.names:
                    target = f"{node.module}.{alias.name}"
                    graph[name].add(target if target in modules else node.module)
            elif isinstance(node, ast.Import):
                graph[name] |= {a.name for a in node.names if a.name in modules}
    # create_app (the package itself) wires every blueprint; importing `app.x` runs it first, but
    # that is Python's package loading, not a dependency between modules.
    del graph["app"]
    return {name: {t for t in targets if t in graph and t != name} for name, targets in graph.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_module_of_app_imports_itself_through_others():
    cycle = _cycle(_imports())
    assert cycle is None, " → ".join(cycle)


def test_the_customer_rules_import_no_other_area():
    imported = _imports()["app.customers.rules"]
    others = {m for m in imported if m.split(".")[1] in AREAS and m.split(".")[1] != "customers"}
    assert others == set()


def test_no_rules_module_knows_requests_forms_or_templates():
    """Rules may read the app's configuration (current_app.config), nothing else of Flask."""
    for path in APP.glob("*/rules.py"):
        tree = ast.parse(path.read_text())
        modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        from_flask = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                modules.add(node.module)
                if node.module == "flask":
                    from_flask |= {a.name for a in node.names}
        assert not {m.split(".")[0] for m in modules} & {"wtforms", "flask_wtf", "jinja2"}, path
        assert from_flask <= {"current_app"}, path
