"""The package's import structure stays straight: no import cycle, and no module imports one of a
higher layer (a stage never imports a scorer, an app, training or the CLI; nothing imports the
CLI). The imports are read from the source (ast), function-level imports included, since a cycle
through a lazy import is still a cycle; imports under ``if TYPE_CHECKING:`` never run and are left
out.

A new module belongs to the layer of its top-level name in :data:`LAYERS`; a new top-level name
must be given one here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import video2gif

PACKAGE_DIR = Path(video2gif.__file__).parent
ROOT = "video2gif"

# Layers, lowest first: a module may import modules of its own layer or of lower ones.
LAYERS: list[tuple[str, set[str]]] = [
    ("foundations", {"_version", "errors", "_io", "_lazy", "formats", "context"}),
    ("stages", {"decode", "_reread", "shots", "segments", "features", "select", "boundaries",
                "crop", "encode", "gif", "writers", "loop", "report", "align"}),
    ("analysis and models", {"analysis", "ranknet", "datasets"}),
    ("scorers", {"scorers"}),
    ("options", {"options"}),
    ("pipeline and public API", {"pipeline", ""}),  # "": the package's own __init__
    ("training and evaluation", {"train", "evaluate"}),
    ("apps", {"batch", "serve"}),
    ("CLI", {"cli", "_cli", "__main__"}),
]
STAGES = LAYERS[1][1]
CLI = LAYERS[-1][1]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk(node: ast.AST):
    """Every node below ``node`` except the bodies of ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child):
            for other in child.orelse:
                yield other
                yield from _walk(other)
            continue
        yield child
        yield from _walk(child)


def _resolve(name: str) -> str | None:
    """The package module ``name`` is, or lies in (``a.b.C`` → ``a.b``)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str) -> set[str]:
    """The package modules ``module`` imports."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in _walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            # "from pkg import name": the submodule pkg.name when there is one, else pkg.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                       for a in node.names]
        else:
            continue
        for target in targets:
            resolved = _resolve(target) if target.split(".")[0] == ROOT else None
            if resolved and resolved != module:
                out.add(resolved)
    return out


GRAPH = {m: imports_of(m) for m in MODULES}


def layer_of(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    for i, (_, names) in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"{module}: its top-level name {top!r} has no layer in "
                         f"tests/test_imports.py LAYERS; add it where it belongs")


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each as a list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _path(graph: dict[str, set[str]], start: str, members: set[str]) -> list[str]:
    """One cycle through ``start`` inside ``members``, for the message."""
    seen, todo = {start: [start]}, [start]
    while todo:
        v = todo.pop(0)
        for w in sorted(graph[v] & members):
            if w == start:
                return [*seen[v], start]
            if w not in seen:
                seen[w] = [*seen[v], w]
                todo.append(w)
    return [start]


def test_the_graph_sees_the_package():
    assert {"video2gif.pipeline", "video2gif.scorers.base", "video2gif.decode"} <= set(MODULES)
    assert "video2gif.scorers" in GRAPH["video2gif.pipeline"]
    assert "video2gif.features" in GRAPH["video2gif.scorers.base"]


def test_no_import_cycle():
    cycles = _cycles(GRAPH)
    assert not cycles, "import cycles:\n" + "\n".join(
        " -> ".join(_path(GRAPH, c[0], set(c))) for c in cycles)


def test_every_module_has_a_layer():
    for module in MODULES:
        layer_of(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_higher_layer(module):
    mine = layer_of(module)
    higher = sorted(t for t in GRAPH[module] if layer_of(t) > mine)
    assert not higher, (f"{module} ({LAYERS[mine][0]}) imports "
                        + ", ".join(f"{t} ({LAYERS[layer_of(t)][0]})" for t in higher))


def test_stages_never_import_scorers_apps_training_or_the_cli():
    forbidden = {"scorers", "batch", "serve", "train", "evaluate", *CLI}
    for module, targets in GRAPH.items():
        if module.split(".")[1:2] and module.split(".")[1] in STAGES:
            bad = sorted(t for t in targets if t.split(".")[1:2]
                         and t.split(".")[1] in forbidden)
            assert not bad, f"stage {module} imports {', '.join(bad)}"


def test_nothing_imports_the_cli():
    for module, targets in GRAPH.items():
        if layer_of(module) == len(LAYERS) - 1:
            continue  # the CLI's own modules
        bad = sorted(t for t in targets if layer_of(t) == len(LAYERS) - 1)
        assert not bad, f"{module} imports the CLI ({', '.join(bad)})"


def test_the_checks_catch_a_cycle_and_a_layer_breach():
    """The test's own machinery, on a made-up graph: a cycle is found and named."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _path(graph, "a", {"a", "b", "c"}) == ["a", "b", "c", "a"]
    assert layer_of("video2gif.decode") < layer_of("video2gif.scorers.prior")
