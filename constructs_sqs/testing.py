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
rewrites them, and a mismatch prints syrupy's diff.

This module imports neither aws-cdk-lib nor syrupy at load time: a pytest run that does not use the
fixture pays nothing for it. syrupy comes with the ``testing`` extra: ``pip install constructs-sqs[testing]``.
"""

from __future__ import annotations

import copy
import functools
import re
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from syrupy.assertion import SnapshotAssertion

__all__ = ["ASSET_HASH", "cdk_snapshot", "normalize_template", "template_dict"]

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


def template_dict(subject: Any) -> dict:
    """The CloudFormation template of ``subject``: a Stack, an assertions ``Template``, or a dict."""
    if isinstance(subject, dict):
        return subject
    from aws_cdk import Stack
    from aws_cdk.assertions import Template

    if isinstance(subject, Stack):
        return Template.from_stack(subject).to_json()
    if isinstance(subject, Template):
        return subject.to_json()
    raise TypeError(
        f"cdk_snapshot compares a Stack, an aws_cdk.assertions.Template or a template dict, "
        f"got {type(subject).__name__}"
    )


def normalize_template(template: dict) -> dict:
    """A copy of ``template`` without the values that change between builds of the same infrastructure.

    - every SHA-256 asset hash (Lambda ``S3Key``, asset parameters, container image tags) becomes
      ``ASSET-HASH``, and the code hash at the end of a Lambda Version's logical id is dropped;
    - the ``BootstrapVersion`` parameter and the ``CheckBootstrapVersion`` rule are removed (they depend
      on the synthesizer, not on the stack);
    - ``aws:asset:*`` resource metadata (local paths of assets) is removed;
    - CDK's analytics resource ``AWS::CDK::Metadata`` and its condition are removed.

    Everything else, logical ids, properties and ``aws:cdk:path`` metadata included, is kept.
    """
    result = copy.deepcopy(template)
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
    return _scrub(result)


def _drop(template: dict, section: str, key: str) -> None:
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


@functools.cache
def _extension() -> type:
    from syrupy.extensions.json import JSONSnapshotExtension

    class CdkTemplateSnapshotExtension(JSONSnapshotExtension):
        """syrupy's JSON snapshots, of normalized CloudFormation templates."""

        def serialize(self, data: Any, **kwargs: Any) -> Any:
            return super().serialize(normalize_template(template_dict(data)), **kwargs)

    return CdkTemplateSnapshotExtension


@pytest.fixture
def cdk_snapshot(request: pytest.FixtureRequest) -> SnapshotAssertion:
    """A syrupy snapshot that compares normalized CloudFormation templates: ``assert stack == cdk_snapshot``."""
    try:
        snapshot = request.getfixturevalue("snapshot")
    except pytest.FixtureLookupError as missing:
        raise pytest.UsageError(
            "the cdk_snapshot fixture needs syrupy: pip install 'constructs-sqs[testing]'"
        ) from missing
    return snapshot.use_extension(_extension())
