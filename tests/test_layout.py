"""The package's layout, read statically with ``ast`` (nothing is imported):

* imports go one way, down the order the package docstring declares (:data:`ORDER`), and no
  import cycle exists between modules -- function-local imports count too;
* no function in ``src/`` is longer than :data:`MAX_FUNCTION_LINES` lines;
* at most :data:`MAX_TOP_LEVEL` modules (files and subpackages) at the top of the package, and
  each subpackage's docstring says what it may import.

The checks are plain functions, and the last tests run them on a small package written to a
temporary folder, so a broken check cannot pass silently.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "cyclegan_lesson"

#: Layers from the bottom up; a module may import its own layer and the layers below it. The
#: top-level modules (``data``, ``runinfo``, ...) are the bottom layer; the package's own
#: ``__init__`` and ``__main__`` sit above everything.
ORDER = ("", "nn", "book", "evaluation", "models", "training", "tools")
#: Subpackages of the bottom layer, beside the top-level modules (``files``: atomic writes and
#: ``.keras`` loading, which ``pretrained`` and ``data`` use).
BOTTOM_SUBPACKAGES = ("files",)
MAX_FUNCTION_LINES = 120
MAX_TOP_LEVEL = 14


def module_names(package: Path) -> dict[str, Path]:
    """Dotted names (relative to ``package``, ``""`` for the package itself) -> files."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def import_graph(package: Path) -> dict[str, set[str]]:
    """Every module's imports of the package's own modules (relative or absolute, at any depth
    of the file: function-local imports count)."""
    name = package.name
    modules = module_names(package)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        here = module.split(".") if module else []
        if path.name != "__init__.py":
            here = here[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here[: len(here) - (node.level - 1)]
                    if node.level - 1 > len(here):
                        raise AssertionError(f"{path}: relative import above the package")
                    base = base + (node.module.split(".") if node.module else [])
                elif node.module and (node.module == name or node.module.startswith(name + ".")):
                    base = node.module.split(".")[1:]
                else:
                    continue
                for alias in node.names:
                    candidate = ".".join(base + [alias.name])
                    targets.append(candidate if candidate in modules else ".".join(base))
            elif isinstance(node, ast.Import):
                targets = [".".join(a.name.split(".")[1:]) for a in node.names
                           if a.name == name or a.name.startswith(name + ".")]
            for target in targets:
                if target not in modules:
                    raise AssertionError(f"{path}: imports {name}.{target}, which does not exist")
                if target != module:
                    graph[module].add(target)
    return graph


def layer(module: str) -> int:
    """The layer index of a dotted module name (see :data:`ORDER`)."""
    if module in ("", "__main__"):
        return len(ORDER)
    first = module.split(".")[0]
    return ORDER.index(first) if first in ORDER[1:] else 0


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{a or '<package>'} imports {b}, a layer above it ({ORDER[layer(b)]} over "
                  f"{ORDER[layer(a)] or 'the top-level modules'})"
                  for a, targets in graph.items() for b in targets if layer(b) > layer(a))


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or ``None``."""
    state: dict[str, int] = {}   # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def long_functions(package: Path, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    out = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > limit:
                    out.append(f"{path.relative_to(package)}:{node.lineno} {node.name} ({n} lines)")
    return out


def top_level_modules(package: Path) -> list[str]:
    return sorted([p.name for p in package.glob("*.py")]
                  + [p.name + "/" for p in package.iterdir() if (p / "__init__.py").is_file()])


# --------------------------------------------------------------------------------------------
# The package


def test_no_import_cycle():
    cycle = find_cycle(import_graph(PACKAGE))
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_imports_go_down_the_declared_order():
    assert upward_imports(import_graph(PACKAGE)) == []


def test_the_package_docstring_declares_the_order():
    doc = ast.get_docstring(ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8")))
    positions = [doc.index(f"``{name}``") for name in ORDER[1:]]
    assert positions == sorted(positions), "the docstring lists the subpackages out of order"


def test_every_subpackage_says_what_it_holds_and_may_import():
    subpackages = [p for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()]
    assert sorted(p.name for p in subpackages) == sorted(ORDER[1:] + BOTTOM_SUBPACKAGES)
    for sub in subpackages:
        doc = ast.get_docstring(ast.parse((sub / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "May import" in doc, f"{sub.name}/__init__.py: no 'May import' docstring"
        for module in sub.glob("*.py"):
            if module.stem != "__init__":
                assert module.stem in doc, f"{sub.name}/__init__.py does not list {module.stem}"


def test_no_function_longer_than_the_limit():
    assert long_functions(PACKAGE) == []


def test_few_top_level_modules():
    top = top_level_modules(PACKAGE)
    assert len(top) <= MAX_TOP_LEVEL, top


# --------------------------------------------------------------------------------------------
# The checks themselves, on a small package with the faults they look for


def _write(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "toy"
    for name, text in files.items():
        path = pkg / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return pkg


def test_the_checks_find_a_cycle_an_upward_import_and_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    pkg = _write(tmp_path, {
        "__init__.py": '"""toy"""\n',
        "data.py": "def load():\n    from .nn import layers\n",         # upward
        "nn/__init__.py": "",
        "nn/layers.py": "from . import losses\n",
        "nn/losses.py": "def f():\n    from toy.nn import layers\n",   # cycle, absolute
        "models/__init__.py": "",
        "models/gan.py": f"from ..nn.losses import f\n\n\ndef long():\n{body}\n",
    })
    graph = import_graph(pkg)
    assert graph["data"] == {"nn.layers"}
    assert graph["models.gan"] == {"nn.losses"}
    assert find_cycle(graph) in (["nn.layers", "nn.losses", "nn.layers"],
                                 ["nn.losses", "nn.layers", "nn.losses"])
    assert upward_imports(graph) == [
        "data imports nn.layers, a layer above it (nn over the top-level modules)"]
    assert long_functions(pkg) == [f"models/gan.py:4 long ({MAX_FUNCTION_LINES + 1} lines)"]
    assert top_level_modules(pkg) == ["__init__.py", "data.py", "models/", "nn/"]


def test_the_checks_pass_a_clean_package(tmp_path):
    pkg = _write(tmp_path, {
        "__init__.py": "from .models import gan as _gan\n",
        "data.py": "",
        "nn/__init__.py": "",
        "nn/layers.py": "",
        "models/__init__.py": "",
        "models/gan.py": "from .. import data\nfrom ..nn import layers\n",
    })
    graph = import_graph(pkg)
    assert graph[""] == {"models.gan"}
    assert find_cycle(graph) is None and upward_imports(graph) == []
