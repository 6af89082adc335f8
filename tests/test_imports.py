"""course_lib's import graph: no module takes another module's private names, and there is no circle."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "course_lib"


def _graph():
    """module -> {module it imports}, and the private names taken across modules, for every course_lib module
    (function-level imports included: a circle hidden inside a function is still a circle)."""
    files = {f.stem: f for f in PKG.glob("*.py") if f.stem != "__init__"}
    edges, private = {m: set() for m in files}, []
    for m, f in files.items():
        for node in ast.walk(ast.parse(f.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level == 1 and node.module:
                target = node.module.split(".")[0]
            elif node.level == 0 and (node.module or "").startswith("course_lib."):
                target = node.module.split(".")[1]
            else:
                continue
            if target in files and target != m:
                edges[m].add(target)
                private += [f"{m} imports {target}.{a.name}" for a in node.names
                            if a.name.startswith("_") and not a.name.startswith("__")]
    return edges, private


def test_no_module_imports_another_modules_private_names():
    _, private = _graph()
    assert not private, "make the name public or move it into a module both use: " + "; ".join(private)


def test_there_is_no_import_circle():
    edges, _ = _graph()

    def path_back(start):
        stack = [(start, [start])]
        seen = set()
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges[node]):
                if nxt == start:
                    return path + [start]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
        return None

    circles = [" -> ".join(p) for m in edges if (p := path_back(m))]
    assert not circles, f"import circle: {circles[0]}"
