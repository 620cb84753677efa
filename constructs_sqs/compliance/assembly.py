"""The cloud assembly (``cdk.out/``) as the gates read it: templates, construct paths, acknowledgments,
and the :class:`Subject` an :class:`Ignore` judges."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Ignore", "StackArtifact", "Subject", "construct_paths", "stack_artifacts", "subject_of", "templates_of"]


@dataclass(frozen=True)
class Subject:
    """What an :class:`Ignore` looks at: the finding's message, its resource and the whole template."""

    message: str
    logical_id: str | None
    template: Mapping[str, Any]

    @property
    def resource(self) -> Mapping[str, Any]:
        """The resource's body (``{"Type": ..., "Properties": ...}``), or ``{}``."""
        if not self.logical_id:
            return {}
        resource: Mapping[str, Any] = self.template.get("Resources", {}).get(self.logical_id, {})
        return resource

    @property
    def properties(self) -> Mapping[str, Any]:
        """The resource's ``Properties``, or ``{}``."""
        properties: Mapping[str, Any] = self.resource.get("Properties", {})
        return properties


@dataclass(frozen=True)
class Ignore:
    """A cfn-lint rule or checkov check that is acknowledged, with the reason.

    ``applies`` narrows it to the findings where the reason holds, and returns True for those.
    Default: - every finding of the rule.
    """

    reason: str
    applies: Callable[[Subject], bool] | None = None

    def covers(self, subject: Subject) -> bool:
        """The reason holds for ``subject``."""
        return self.applies is None or bool(self.applies(subject))


@dataclass(frozen=True)
class StackArtifact:
    """A stack of a cloud assembly: its template, and construct metadata by path."""

    display_name: str
    template: Path
    metadata: Mapping[str, list[Mapping[str, Any]]]
    stack_name: str = ""
    """The CloudFormation stack name (``properties.stackName``), else the display name."""

    def logical_ids(self) -> dict[str, str]:
        """Construct path (without the leading '/') by logical id."""
        return {
            entry["data"]: path.lstrip("/")
            for path, entries in self.metadata.items()
            for entry in entries
            if entry.get("type") == "aws:cdk:logicalId"
        }

    def acknowledgments(self) -> list[tuple[str, str, str]]:
        """(construct path, rule id, reason) of every ``Validations.acknowledge`` in the stack."""
        found: list[tuple[str, str, str]] = []
        for path, entries in self.metadata.items():
            for entry in entries:
                if entry.get("type") == "aws:cdk:acknowledged-rules":
                    found.extend((path.lstrip("/"), rule, reason) for rule, reason in entry["data"].items())
        return found


def _stack_metadata(directory: Path, artifact: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    """The construct metadata of a stack artifact, the ``additionalMetadataFile`` included."""
    metadata: dict[str, list[Mapping[str, Any]]] = {
        path: list(entries) for path, entries in artifact.get("metadata", {}).items()
    }
    extra = artifact.get("additionalMetadataFile")
    if extra:
        for path, entries in json.loads((directory / extra).read_text()).items():
            metadata.setdefault(path, []).extend(entries)
    return metadata


def stack_artifacts(directory: Path) -> list[StackArtifact]:
    """Every stack of the assembly in ``directory``, nested assemblies (Stages) included."""
    manifest = json.loads((directory / "manifest.json").read_text())
    stacks: list[StackArtifact] = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") == "cdk:cloud-assembly":
            stacks.extend(stack_artifacts(directory / artifact["properties"]["directoryName"]))
        elif artifact.get("type") == "aws:cloudformation:stack":
            stacks.append(
                StackArtifact(
                    display_name=artifact.get("displayName", artifact_id),
                    template=directory / artifact["properties"]["templateFile"],
                    metadata=_stack_metadata(directory, artifact),
                    stack_name=artifact["properties"].get("stackName") or artifact.get("displayName", artifact_id),
                )
            )
    return stacks


def templates_of(directory: str | os.PathLike[str]) -> list[Path]:
    """Every ``*.template.json`` of the assembly (stacks and nested stacks), not those inside assets."""
    root = Path(directory)
    return sorted(
        p
        for p in root.rglob("*.template.json")
        if not any(part.startswith("asset.") for part in p.relative_to(root).parts[:-1])
    )


def construct_paths(directory: Path) -> dict[tuple[str, str], str]:
    """Construct path by (template file name, logical id), from the assembly's metadata."""
    paths: dict[tuple[str, str], str] = {}
    if (directory / "manifest.json").exists():
        for stack in stack_artifacts(directory):
            for logical_id, path in stack.logical_ids().items():
                paths[(stack.template.name, logical_id)] = path
    return paths


def subject_of(template: Path, logical_id: str | None, message: str, cache: dict[Path, Any]) -> Subject:
    """The :class:`Subject` of a finding in ``template``; ``cache`` keeps each template read once."""
    if template not in cache:
        cache[template] = json.loads(template.read_text()) if template.exists() else {}
    return Subject(message=message, logical_id=logical_id, template=cache[template])
