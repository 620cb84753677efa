"""Snapshot tests for CDK stacks: a pytest plugin built on syrupy.

Installing constructs-sqs registers this module as a pytest plugin (entry point ``pytest11``), so any
test can ask for the ``cdk_snapshot`` fixture::

    def test_orders_stack(cdk_snapshot):
        stack = OrdersStack(cdk.App(), "Orders")
        assert stack == cdk_snapshot

The fixture accepts a ``Stack``, an ``aws_cdk.assertions.Template`` or a template ``dict``. Before a
template is compared or stored it is normalized (:func:`normalize_template`): asset hashes, the
bootstrap-version parameter and rule, ``aws:asset:*`` metadata and CDK's analytics resource are
replaced or dropped, so a snapshot changes only when the infrastructure does. Snapshots are JSON files in
``__snapshots__/`` beside the test module; ``pytest --snapshot-update`` (``make snapshot-update``)
rewrites them.

A template that differs from its snapshot fails the assertion with what changed, the way ``cdk diff``
shows it (:func:`diff_templates`): every added, removed or changed resource by type, logical id and
construct path, and under a changed one every property path with its old and new value. The whole diff is
the ``AssertionError``'s message, so pytest prints all of it at any verbosity.

This module imports neither aws-cdk-lib nor syrupy at load time: a pytest run that does not use the
fixture pays nothing for it, and one without syrupy is not disturbed. syrupy comes with the ``testing``
extra: ``pip install 'constructs-sqs[testing]'``; a test that asks for the fixture without it errors with
that command.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import functools
import importlib.util
import json
import re
import sys
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from ._extras import MissingExtraError, install_command

try:
    import pytest
except ModuleNotFoundError:  # imported outside a pytest run, without the testing extra
    raise MissingExtraError(
        f"constructs_sqs.testing is a pytest plugin and needs pytest and syrupy: {install_command('testing')}",
        name="pytest",
    ) from None

if TYPE_CHECKING:
    from syrupy.assertion import SnapshotAssertion

__all__ = ["ASSET_HASH", "cdk_snapshot", "construct_paths", "diff_templates", "normalize_template", "template_dict"]

ASSET_HASH = "ASSET-HASH"
"""What every asset hash in a template becomes."""

# Asset hashes are SHA-256 hex digests (64 characters) in S3 keys, asset parameters and image tags.
_SHA256 = re.compile(r"[0-9a-f]{64}")
# A Lambda Version's logical id ends in an MD5 of the function's code and configuration.
_VERSION_LOGICAL_ID = re.compile(r"(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}")
_BOOTSTRAP_PARAMETER = "BootstrapVersion"
_BOOTSTRAP_RULE = "CheckBootstrapVersion"
_ANALYTICS_TYPE = "AWS::CDK::Metadata"
_ANALYTICS_CONDITION = "CDKMetadataAvailable"
_ASSET_METADATA_PREFIX = "aws:asset:"


def template_dict(subject: Any) -> dict[str, Any]:
    """The CloudFormation template of ``subject``: a Stack, an assertions ``Template``, or a dict.

    Raises
    ------
    TypeError
        When ``subject`` is none of these.
    """
    if isinstance(subject, dict):
        return subject
    from aws_cdk import Stack
    from aws_cdk.assertions import Template

    if isinstance(subject, Stack):
        return dict(Template.from_stack(subject).to_json())
    if isinstance(subject, Template):
        return dict(subject.to_json())
    raise TypeError(
        f"cdk_snapshot compares a Stack, an aws_cdk.assertions.Template or a template dict, "
        f"got {type(subject).__name__}"
    )


def normalize_template(template: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``template`` without the values that change between builds of the same infrastructure.

    - every SHA-256 asset hash (Lambda ``S3Key``, asset parameters, container image tags) becomes
      ``ASSET-HASH``, and the code hash at the end of a Lambda Version's logical id is dropped;
    - the ``BootstrapVersion`` parameter and the ``CheckBootstrapVersion`` rule are removed (they depend
      on the synthesizer, not on the stack);
    - ``aws:asset:*`` resource metadata (local paths of assets) is removed;
    - CDK's analytics resource ``AWS::CDK::Metadata`` and its condition are removed.

    Everything else, logical ids, properties and ``aws:cdk:path`` metadata included, is kept.
    """
    result: dict[str, Any] = copy.deepcopy(dict(template))
    _drop(result, "Parameters", _BOOTSTRAP_PARAMETER)
    _drop(result, "Rules", _BOOTSTRAP_RULE)
    _drop(result, "Conditions", _ANALYTICS_CONDITION)
    resources = result.get("Resources", {})
    for logical_id in [k for k, v in resources.items() if v.get("Type") == _ANALYTICS_TYPE]:
        del resources[logical_id]
    for resource in resources.values():
        metadata = resource.get("Metadata")
        if isinstance(metadata, dict):
            for key in [k for k in metadata if k.startswith(_ASSET_METADATA_PREFIX)]:
                del metadata[key]
            if not metadata:
                del resource["Metadata"]
    scrubbed: dict[str, Any] = _scrub(result)
    return scrubbed


def _drop(template: dict[str, Any], section: str, key: str) -> None:
    entries = template.get(section)
    if isinstance(entries, dict):
        entries.pop(key, None)
        if not entries:
            del template[section]


def _scrub_string(value: str) -> str:
    return _VERSION_LOGICAL_ID.sub(r"\1", _SHA256.sub(ASSET_HASH, value))


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _scrub_string(value)
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    if isinstance(value, dict):
        return {_scrub_string(k): _scrub(v) for k, v in value.items()}
    return value




# --- The diff ------------------------------------------------------------------------------------

# Sections in the order CloudFormation documents them; any other top-level key follows, sorted.
_SECTIONS = (
    "AWSTemplateFormatVersion",
    "Description",
    "Transform",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Resources",
    "Outputs",
)
# What one entry of a section is called in a header line, as cdk diff names them.
_ENTRY_KIND = {
    "Parameters": "Parameter",
    "Rules": "Rule",
    "Mappings": "Mapping",
    "Conditions": "Condition",
    "Outputs": "Output",
}
_CDK_PATH = "aws:cdk:path"


class _Change(NamedTuple):
    """One difference: ``[+]`` added, ``[-]`` removed or ``[~]`` changed, at ``path``."""

    mark: str
    path: str
    old: Any = None
    new: Any = None

    def render(self) -> str:
        if self.mark == "~":
            return f"[~] {self.path}: {_value(self.old)} -> {_value(self.new)}"
        return f"[{self.mark}] {self.path}: {_value(self.new if self.mark == '+' else self.old)}"


def _value(value: Any) -> str:
    """A value on one line, as JSON (strings quoted, so ``"5"`` and ``5`` differ visibly)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _same(old: Any, new: Any) -> bool:
    """Equal as JSON: unlike ``==``, ``true`` and ``1``, or ``1`` and ``1.0``, differ."""
    return old is new or _value(old) == _value(new)


def _key_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _changes(old: Any, new: Any, path: str = "") -> Iterator[_Change]:
    """Every difference between ``old`` and ``new``, leaf by leaf, dict keys in sorted order."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            if key not in new:
                yield _Change("-", _key_path(path, key), old=old[key])
            elif key not in old:
                yield _Change("+", _key_path(path, key), new=new[key])
            else:
                yield from _changes(old[key], new[key], _key_path(path, key))
    elif isinstance(old, list) and isinstance(new, list):
        yield from _list_changes(old, new, path)
    elif not _same(old, new):
        yield _Change("~", path, old=old, new=new)


def _list_changes(old: list[Any], new: list[Any], path: str) -> Iterator[_Change]:
    """Differences of two lists: inserted and deleted elements as such (an inserted statement is one
    ``[+]``, not a change of every later one), replaced ones element by element. A removed element is
    named by its index in the old list, any other by its index in the new one."""
    matcher = difflib.SequenceMatcher(None, [_value(v) for v in old], [_value(v) for v in new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            yield from _changes(old[i1 + k], new[j1 + k], f"{path}[{j1 + k}]")
        for i in range(i1 + paired, i2):
            yield _Change("-", f"{path}[{i}]", old=old[i])
        for j in range(j1 + paired, j2):
            yield _Change("+", f"{path}[{j}]", new=new[j])


def _tree(changes: list[_Change]) -> list[str]:
    """The changes under a header, drawn as cdk diff draws them."""
    return [f" {'└─' if i == len(changes) - 1 else '├─'} {c.render()}" for i, c in enumerate(changes)]


def _resource_header(mark: str, logical_id: str, old: Any, new: Any, paths: Mapping[str, str]) -> str:
    """``[~] AWS::SQS::Queue OrdersQueue1A2B3C4D (Stack/Orders/Queue/Resource)``."""
    body = new if isinstance(new, dict) else old if isinstance(old, dict) else {}
    metadata = body.get("Metadata")
    path = metadata.get(_CDK_PATH) if isinstance(metadata, dict) else None
    path = path or paths.get(logical_id)
    where = f" ({path})" if path else ""
    return f"[{mark}] {body.get('Type', '?')} {logical_id}{where}"


def _mark(old: Any, new: Any) -> str:
    return "+" if old is None else "-" if new is None else "~"


def _entry_lines(section: str, name: str, old: Any, new: Any, paths: Mapping[str, str]) -> list[str]:
    """The lines of one added, removed or changed entry (a resource, an output, ...) of ``section``."""
    mark = _mark(old, new)
    if section == "Resources":
        header = _resource_header(mark, name, old, new, paths)
        return [header] if mark != "~" else [header, *_tree(list(_changes(old, new)))]
    kind = _ENTRY_KIND[section]
    if mark == "~":
        return [f"[~] {kind} {name}", *_tree(list(_changes(old, new)))]
    return [f"[{mark}] {kind} {name}: {_value(new if mark == '+' else old)}"]


def _section_lines(section: str, old: Any, new: Any, paths: Mapping[str, str]) -> tuple[list[str], str]:
    """The lines of one template section that differs (under its name, if it has entries), and its part
    of the summary."""
    entries = section == "Resources" or section in _ENTRY_KIND
    if entries:
        old, new = old or {}, new or {}  # a section added or removed whole: each entry added or removed
    if not (entries and isinstance(old, dict) and isinstance(new, dict)):
        mark = _mark(old, new)  # a value such as Description: the section is the leaf
        changes = list(_changes(old, new, section)) if mark == "~" else [_Change(mark, section, old, new)]
        return [c.render() for c in changes], f"{section} changed"
    lines = [section]
    counts = {"changed": 0, "added": 0, "removed": 0}
    for name in sorted(set(old) | set(new)):
        if not _same(old.get(name), new.get(name)):
            mark = _mark(old.get(name), new.get(name))
            counts[{"~": "changed", "+": "added", "-": "removed"}[mark]] += 1
            lines += _entry_lines(section, name, old.get(name), new.get(name), paths)
    return lines, f"{section}: " + ", ".join(f"{n} {what}" for what, n in counts.items() if n)


def diff_templates(
    old: Mapping[str, Any], new: Mapping[str, Any], *, construct_paths: Mapping[str, str] | None = None
) -> list[str]:
    """What changed from template ``old`` to template ``new``, as ``cdk diff`` shows it.

    One block per template section (``Parameters``, ``Conditions``, ``Resources``, ``Outputs``, ...), in
    CloudFormation's order; in it one header per added ``[+]``, removed ``[-]`` or changed ``[~]`` entry,
    sorted by logical id. A resource's header names its type, logical id and construct path (its
    ``aws:cdk:path`` metadata); under a changed entry, every differing leaf is one line with its path
    from the entry (``Properties.RedrivePolicy.maxReceiveCount``, ``DependsOn[1]``) and its old and new
    value as JSON. Nothing is elided.

    Parameters
    ----------
    old, new:
        CloudFormation templates as dicts (for snapshots, :func:`normalize_template`'s output).
    construct_paths:
        Construct path by logical id, for resources without ``aws:cdk:path`` metadata (see
        :func:`construct_paths`). Default: - the metadata only.

    Returns
    -------
    list[str]
        The lines, starting with a one-line summary; just the summary when nothing differs.
    """
    paths = construct_paths or {}
    sections = [s for s in _SECTIONS if s in old or s in new]
    sections += sorted((set(old) | set(new)) - set(_SECTIONS))
    lines: list[str] = []
    summary: list[str] = []
    for section in sections:
        if not _same(old.get(section), new.get(section)):
            section_lines, summary_line = _section_lines(section, old.get(section), new.get(section), paths)
            lines += section_lines
            summary.append(summary_line)
    return ["; ".join(summary) if summary else "no difference", *lines]


# --- The fixture ---------------------------------------------------------------------------------


@functools.cache
def _extension() -> type:
    from syrupy.extensions.json import JSONSnapshotExtension

    class CdkTemplateSnapshotExtension(JSONSnapshotExtension):
        """syrupy's JSON snapshots, of normalized CloudFormation templates, with a cdk diff on mismatch."""

        def serialize(self, data: Any, **kwargs: Any) -> Any:
            return super().serialize(normalize_template(template_dict(data)), **kwargs)

        def diff_lines(self, serialized_data: Any, snapshot_data: Any) -> Iterator[str]:
            if not snapshot_data:  # no snapshot yet: syrupy says so, there is nothing to compare
                return
            try:
                old, new = json.loads(str(snapshot_data)), json.loads(str(serialized_data))
            except ValueError:  # not a template snapshot of this plugin: syrupy's own text diff
                yield from super().diff_lines(serialized_data, snapshot_data)
                return
            yield from diff_templates(old, new)

    return CdkTemplateSnapshotExtension


def construct_paths(stack: Any) -> dict[str, str]:
    """Construct path by logical id of every CloudFormation element of ``stack`` (its own, not those of
    nested stacks), logical ids normalized as :func:`normalize_template` does.

    A template synthesized outside the CDK CLI (``Template.from_stack`` in a test) carries no
    ``aws:cdk:path`` metadata; these paths let :func:`diff_templates` name the constructs anyway.
    """
    from aws_cdk import CfnElement, Stack

    paths: dict[str, str] = {}
    for construct in stack.node.find_all():
        if CfnElement.is_cfn_element(construct) and Stack.of(construct) is stack:
            paths[_scrub_string(str(stack.resolve(construct.logical_id)))] = construct.node.path
    return paths


def _is_stack(subject: Any) -> bool:
    """``subject`` is a Stack; aws-cdk-lib (and jsii) is not started to find out if it is not loaded."""
    if "aws_cdk" not in sys.modules:
        return False
    from aws_cdk import Stack

    return isinstance(subject, Stack)


def _mismatch_message(assertion: Any, subject: Any) -> str:
    """The message of a failed ``subject == cdk_snapshot``: the cdk diff of snapshot and template."""
    result = assertion.executions[assertion.num_executions - 1]
    lines = [f"the template differs from snapshot {result.snapshot_name!r}"]
    try:
        old, new = json.loads(str(result.recalled_data)), json.loads(str(result.asserted_data))
    except ValueError:  # no snapshot yet, an error, or a snapshot this plugin did not write: syrupy's words
        lines += assertion.get_assert_diff()
    else:
        paths = construct_paths(subject) if _is_stack(subject) else {}
        diff = diff_templates(old, new, construct_paths=paths)
        if diff == ["no difference"]:
            diff = ["the templates are equal as JSON: the snapshot file differs in its formatting only"]
        lines += diff
    lines.append("If the change is intended, run pytest --snapshot-update to accept it.")
    return "\n".join(lines)


@functools.cache
def _assertion_class() -> type:
    from syrupy.assertion import SnapshotAssertion

    class CdkSnapshotAssertion(SnapshotAssertion):
        """A syrupy assertion whose mismatch raises ``AssertionError`` with the whole cdk diff.

        A comparison's explanation would be cut to a few lines by pytest unless run with ``-vv``; an
        exception's message is printed whole.
        """

        def __eq__(self, other: object) -> bool:
            __tracebackhide__ = True
            if super().__eq__(other):
                return True
            raise AssertionError(_mismatch_message(self, other))

        __hash__ = None  # type: ignore[assignment]

        def __repr__(self) -> str:
            return f"<cdk_snapshot of {self.test_location.nodeid}>"

    return CdkSnapshotAssertion


def _missing_syrupy_message() -> str:
    if importlib.util.find_spec("syrupy") is None:
        return f"the cdk_snapshot fixture needs syrupy, which is not installed: {install_command('testing')}"
    return "the cdk_snapshot fixture needs syrupy's pytest plugin, which is disabled in this run (-p no:syrupy)"


@pytest.fixture
def cdk_snapshot(request: pytest.FixtureRequest) -> SnapshotAssertion:
    """A syrupy snapshot that compares normalized CloudFormation templates: ``assert stack == cdk_snapshot``.

    A mismatch raises ``AssertionError`` with the diff of :func:`diff_templates`.

    Raises
    ------
    pytest.fail.Exception
        (an error of the test, without traceback) when syrupy is not installed or its plugin is disabled.
    """
    try:
        snapshot = request.getfixturevalue("snapshot")
    except pytest.FixtureLookupError:
        snapshot = None
    if snapshot is None:  # failed outside the except block: the message alone, without the lookup error
        pytest.fail(_missing_syrupy_message(), pytrace=False)
    # syrupy's own fixture, with this plugin's extension and assertion class: every option it was made
    # with (the update flags of this run, the session, ...) carries over, whatever syrupy version defines.
    options = {f.name: getattr(snapshot, f.name) for f in dataclasses.fields(snapshot) if f.init}
    assertion: SnapshotAssertion = _assertion_class()(**{**options, "extension_class": _extension()})
    return assertion
