"""Docstrings cannot drift: every parameter of every public constructor and method is documented, and every
public attribute of a public class is listed in its ``Attributes`` section (numpydoc)."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap

import pytest

import constructs_sqs

CLASSES = [getattr(constructs_sqs, name) for name in constructs_sqs.__all__ if inspect.isclass(getattr(constructs_sqs, name))]
KNOWN_GAPS: set[str] = set()
"""Classes whose docstrings are known to be incomplete. The tests below fail if one of them becomes complete, so
that it leaves this list. (Empty since the plan dataclasses document every field.)"""
CONSTRUCT_ARGUMENTS = {"self", "cls", "scope", "id"}
"""Every construct's first two arguments, documented once by aws-cdk's convention rather than per class."""


def section(doc: str | None, title: str) -> set[str]:
    """The names a numpydoc section lists (``name:``, ``a, b:``, ``name : type``, a list over several lines)."""
    text = inspect.cleandoc(doc or "")
    match = re.search(rf"^{title}\n-+\n(.*?)(?=^\S[^\n]*\n-+\n|\Z)", text, re.M | re.S)
    if match is None:
        return set()
    names: set[str] = set()
    pending = ""
    for line in match.group(1).splitlines():
        if not line or line[0].isspace():
            pending = ""
            continue
        pending += line
        if pending.rstrip().endswith(","):
            continue  # the list of names goes on on the next line
        head = pending.split(" : ")[0].split(":")[0]
        names.update(n.strip() for n in head.split(",") if re.fullmatch(r"\s*[A-Za-z_]\w*\s*", n))
        pending = ""
    return names


def documented(doc: str | None, name: str) -> bool:
    return name in section(doc, "Parameters") or f"``{name}``" in (doc or "")


def public_methods(cls: type) -> list[tuple[str, object]]:
    own = [(n, v) for n, v in vars(cls).items() if not n.startswith("_")]
    return [(n, v.__func__ if isinstance(v, (classmethod, staticmethod)) else v) for n, v in own
            if inspect.isfunction(v) or isinstance(v, (classmethod, staticmethod))]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_constructor_parameter_is_documented(cls: type) -> None:
    if "__init__" not in vars(cls):
        return
    parameters = set(inspect.signature(vars(cls)["__init__"]).parameters) - CONSTRUCT_ARGUMENTS
    parameters -= fields_documented_inline(cls)  # a dataclass's fields, each with its attribute docstring
    missing = sorted(p for p in parameters if not documented(cls.__doc__, p))
    if cls.__name__ in KNOWN_GAPS:
        assert missing, f"{cls.__name__} is documented now: remove it from KNOWN_GAPS"
        return
    assert not missing, f"{cls.__name__} docstring lacks {missing}"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_method_parameter_is_documented(cls: type) -> None:
    missing = []
    for name, function in public_methods(cls):
        for parameter in set(inspect.signature(function).parameters) - CONSTRUCT_ARGUMENTS:  # type: ignore[arg-type]
            if not documented(function.__doc__, parameter):  # type: ignore[attr-defined]
                missing.append(f"{name}({parameter})")
    assert not missing, f"{cls.__name__}: {missing}"


def assigned_attributes(cls: type) -> set[str]:
    """Public attributes the class declares (annotations) or sets on ``self`` in its own methods."""
    names = {n for n in vars(cls).get("__annotations__", {}) if not n.startswith("_")}
    names |= {n for n, v in vars(cls).items() if isinstance(v, property) and not n.startswith("_")}
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):
        return names
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                if not target.attr.startswith("_"):
                    names.add(target.attr)
    return names


@pytest.mark.parametrize("cls", [c for c in CLASSES if not issubclass(c, Exception)], ids=lambda c: c.__name__)
def test_every_public_attribute_is_listed(cls: type) -> None:
    listed = set().union(*(section(k.__doc__, "Attributes") for k in cls.__mro__ if k.__module__.startswith("constructs_sqs")))
    missing = sorted(assigned_attributes(cls) - listed - fields_documented_inline(cls))
    if cls.__name__ in KNOWN_GAPS:
        assert missing, f"{cls.__name__} is documented now: remove it from KNOWN_GAPS"
        return
    assert not missing, f"{cls.__name__} docstring's Attributes lacks {missing}"


def fields_documented_inline(cls: type) -> set[str]:
    """Dataclass fields with an attribute docstring (a string literal right after the field)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):
        return set()
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    found = set()
    for first, second in zip(body, body[1:]):
        if isinstance(first, ast.AnnAssign) and isinstance(first.target, ast.Name):
            if isinstance(second, ast.Expr) and isinstance(second.value, ast.Constant) and isinstance(second.value.value, str):
                found.add(first.target.id)
    return found


def test_the_section_reader_reads_numpydoc() -> None:
    doc = """Title.

    Parameters
    ----------
    a, b:
        Text.
    c : int
        Text.

    Attributes
    ----------
    d:
        Text.
    """
    assert section(doc, "Parameters") == {"a", "b", "c"} and section(doc, "Attributes") == {"d"}
