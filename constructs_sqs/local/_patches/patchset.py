"""Every patch of the emulator, in the order it is applied, and the one :func:`apply` that applies them.

The patches change moto's behaviour for the whole process, so they run only inside the emulator process
(``python -m constructs_sqs.local.server``), never in a test process or a CDK app. :func:`apply` first
checks that the installed moto is the release they were written for (:mod:`.version`), and only then
imports the modules: importing the models registers them with moto's CloudFormation.
"""

from __future__ import annotations

import importlib

from .version import MOTO_VERSION, check_moto_version

MODEL_MODULES = ("cloudformation_models",)
"""Modules of CloudFormation models: importing one registers its ``CloudFormationModel`` subclasses."""

PATCH_MODULES = (
    "cloudformation_stacks",
    "sqs_attributes",
    "sqs_speed",
    "sqs_receive",
    "kms",
    "awslambda",
)
"""Modules that patch moto, each with an ``apply()``; applied in this order."""

_applied = False


def apply() -> None:
    """Check moto's version, register the models and apply every patch (idempotent).

    Raises
    ------
    MotoVersionError
        When the installed moto is not :data:`MOTO_VERSION`; nothing is patched then.
    RuntimeError
        When moto did not take one of the models (its registry changed).
    """
    global _applied
    if _applied:
        return
    check_moto_version()
    from moto.cloudformation import parsing

    models = [importlib.import_module(f"{__package__}.{name}") for name in MODEL_MODULES]
    # The models are subclasses now; moto caches its model map on first use, so refresh it.
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    for name in PATCH_MODULES:
        importlib.import_module(f"{__package__}.{name}").apply()
    wanted = [kind for module in models for kind in module.RESOURCE_TYPES]
    missing = [kind for kind in wanted if kind not in parsing.get_model_map()]
    if missing:
        raise RuntimeError(f"moto {MOTO_VERSION} did not take the CloudFormation models of {', '.join(missing)}")
    _applied = True
