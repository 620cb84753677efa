"""Small helpers the tests share: an App with the sample app's flags, templates and resources."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk.assertions import Template

ROOT = Path(__file__).resolve().parent.parent
CDK_CONTEXT: dict = json.loads((ROOT / "cdk.json").read_text())["context"]


def new_app(**extra_context: object) -> cdk.App:
    """An App with cdk.json's feature flags (validateAgainstDefaultRules included)."""
    return cdk.App(context={**CDK_CONTEXT, **extra_context})


def template_of(stack: cdk.Stack) -> Template:
    return Template.from_stack(stack)


def resources_of(stack: cdk.Stack, type_: str) -> dict[str, dict]:
    """The resources of one CloudFormation type in the stack's template, by logical id."""
    return template_of(stack).find_resources(type_)


def only_resource(stack: cdk.Stack, type_: str, **properties: object) -> dict:
    """The one resource of ``type_`` whose properties include ``properties``; fails when not exactly one."""
    found = [
        body
        for body in resources_of(stack, type_).values()
        if all(body.get("Properties", {}).get(k) == v for k, v in properties.items())
    ]
    assert len(found) == 1, f"expected one {type_} with {properties}, found {len(found)}"
    return found[0]
