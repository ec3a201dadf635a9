"""The house's rooms: which package may import which, read from the import statements themselves.

- gmnm/ (the layer) imports nothing of this project; baselines/ imports only gmnm;
- the harness (experiments/harness, the entry points run.py and fetch.py, the seed-grouping
  sweeper) imports neither the experiment packages nor the analysis;
- the experiment packages (experiments/<family>) import the harness, never the analysis;
- the analysis (experiments/analysis, the report entry point, the tuning sweeper) may import all.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = sorted(
    p.name
    for p in (ROOT / "experiments").iterdir()
    if p.is_dir() and (p / "__init__.py").exists() and p.name not in ("harness", "analysis")
)


def imported(path: Path) -> set[str]:
    """Every module a file imports, at top level or inside a function, as a dotted name."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}  # from experiments import stats
    return names


def room(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] in ("gmnm", "baselines"):
        return parts[0]
    if parts[0] == "hydra_plugins" and len(parts) > 1:
        return {"gmnm_seed_groups": "harness", "gmnm_tuner": "analysis"}.get(parts[1])
    if parts[0] != "experiments" or len(parts) == 1:
        return None
    if parts[1] in ("harness", "run", "fetch"):
        return "harness"
    if parts[1] in ("analysis", "report"):
        return "analysis"
    return "family" if parts[1] in FAMILIES else None


ALLOWED = {
    "gmnm": {"gmnm"},
    "baselines": {"gmnm", "baselines"},
    "harness": {"gmnm", "harness"},
    "family": {"gmnm", "baselines", "harness", "family"},
    "analysis": {"gmnm", "baselines", "harness", "family", "analysis"},
}


def sources():
    for folder in ("gmnm", "baselines", "experiments", "hydra_plugins"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            if room(module) is not None:
                yield module, path


def test_the_rooms_are_found():
    rooms = {room(m) for m, _ in sources()}
    assert rooms == set(ALLOWED)
    assert {"fitting", "poisson", "timeseries", "classification", "generation", "images"} <= set(FAMILIES)


@pytest.mark.parametrize("module,path", list(sources()), ids=lambda v: v if isinstance(v, str) else "")
def test_imports_run_one_way(module, path):
    mine = room(module)
    wrong = sorted(name for name in imported(path) if room(name) is not None and room(name) not in ALLOWED[mine])
    assert not wrong, f"{module} ({mine}) imports {wrong}"


def test_the_check_catches_a_crossing(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def f():\n    from experiments.fitting.targets import LEVELS\n    import experiments.analysis.stats\n"
    )
    assert {room(n) for n in imported(bad)} == {"family", "analysis"}


def import_graph() -> dict[str, set[str]]:
    """module -> the modules of ours it imports: `from a.b import c` imports a.b.c where that is a module (a.b
    is then only the package it lives in), else a.b."""
    modules = dict(sources())
    graph = {}
    for module, path in modules.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                edges |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                subs = {f"{node.module}.{a.name}" for a in node.names} & set(modules)
                edges |= subs or {node.module}
        graph[module] = {n for n in edges if n in modules and n != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle, each once, as the path that closes it (depth-first search)."""
    found, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_no_module_of_ours_imports_itself_round_about():
    assert cycles(import_graph()) == []


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
