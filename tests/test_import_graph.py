"""No import circles in the packages: module-level imports (TYPE_CHECKING ones included) form no cycle.

Imports inside functions are the deliberate late bindings (``add_alarms`` importing ``QueueAlarms``) and are
not edges. Also checks the two rules of the house that the cycle once broke: the patterns reach the alarms only
through ``_add_alarms``, and the alarms never import a pattern module.
"""

from __future__ import annotations

import ast
import pathlib

import constructs_sqs
import constructs_sqs_runtime

PACKAGES = [pathlib.Path(constructs_sqs.__file__).parent, pathlib.Path(constructs_sqs_runtime.__file__).parent]
PATTERNS = {"constructs_sqs._queue_base", "constructs_sqs.encrypted_queue", "constructs_sqs.fifo_queue_with_dlq",
            "constructs_sqs.lambda_triggered_queue"}


def _module_name(path: pathlib.Path, root: pathlib.Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """Imports at module level and in module-level ``if`` blocks (TYPE_CHECKING), resolved to module names."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    nodes: list[ast.stmt] = list(tree.body)
    while nodes:
        node = nodes.pop()
        if isinstance(node, (ast.If, ast.Try)):
            nodes.extend(node.body + node.orelse + getattr(node, "finalbody", []))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            if node.module is not None:  # "from . import x" imports x, not the package being initialised
                found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    modules: dict[str, tuple[ast.Module, bool]] = {}
    for root in PACKAGES:
        for path in root.rglob("*.py"):
            modules[_module_name(path, root)] = (ast.parse(path.read_text()), path.name == "__init__.py")
    return {
        name: {m for m in _top_level_imports(tree, name, is_package) if m in modules and m != name}
        for name, (tree, is_package) in modules.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state and (found := visit(target)) is not None:
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_no_module_import_cycle() -> None:
    graph = _graph()
    assert "constructs_sqs.alarms.construct" in graph and graph["constructs_sqs._queue_base"]
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_patterns_reach_the_alarms_only_through_add_alarms_and_the_alarms_no_pattern() -> None:
    graph = _graph()
    alarms = {m for m in graph if m == "constructs_sqs.queue_alarms" or m.startswith("constructs_sqs.alarms")}
    for pattern in PATTERNS:
        assert not graph[pattern] & alarms, f"{pattern} imports {graph[pattern] & alarms}"
    for module in alarms | {"constructs_sqs._add_alarms"}:
        assert not graph[module] & PATTERNS, f"{module} imports {graph[module] & PATTERNS}"


def test_the_consumer_derivations_import_no_pattern_and_no_alarm() -> None:
    """_derivations is shared by every consumer engine (LambdaTriggeredQueue, the ECS worker service): plain
    inputs only, so it imports neither a pattern nor the alarms."""
    graph = _graph()
    alarms = {m for m in graph if m.startswith("constructs_sqs.alarms") or m == "constructs_sqs.queue_alarms"}
    assert "constructs_sqs._derivations" in graph
    assert not graph["constructs_sqs._derivations"] & (PATTERNS | alarms | {"constructs_sqs._add_alarms"})
