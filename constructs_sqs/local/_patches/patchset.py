"""Every patch of the emulator, in the order it is applied, and the one :func:`apply` that applies them.

The patches change moto's behaviour for the whole process, so they run only inside the emulator process
(``python -m constructs_sqs.local.server``), never in a test process or a CDK app. :func:`apply` first
checks that the installed moto is the release they were written for (:mod:`.version`), and only then
imports the modules: importing one that defines CloudFormation models registers them with moto.
"""

from __future__ import annotations

import importlib

from .version import MOTO_VERSION, check_moto_version

MODULES = (
    "cloudformation_models",
    "cloudformation_stacks",
    "sqs_attributes",
    "sqs_speed",
    "sqs_receive",
    "s3",
    "kms",
    "awslambda",
    "ecs",
    "appautoscaling",
)
"""The patch modules, applied in this order. Each has an ``apply()`` (a module of models only registers
them by being imported, and its ``apply()`` is a no-op); a module that teaches moto's CloudFormation
resource types lists them in ``RESOURCE_TYPES``."""

_applied = False


def apply() -> None:
    """Check moto's version, register the models and apply every patch (idempotent).

    Raises
    ------
    MotoVersionError
        When the installed moto is not :data:`MOTO_VERSION`; nothing is patched then.
    RuntimeError
        When moto's CloudFormation does not take one of the resource types (its registry changed).
    """
    global _applied
    if _applied:
        return
    check_moto_version()
    from moto.cloudformation import parsing
    from moto.cloudformation.custom_model import CustomModel

    modules = [importlib.import_module(f"{__package__}.{name}") for name in MODULES]
    # The models are subclasses now; moto caches its model map on first use, so refresh it.
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    for module in modules:
        module.apply()
    wanted = [kind for module in modules for kind in getattr(module, "RESOURCE_TYPES", ())]
    missing = [kind for kind in wanted if parsing.resource_class_from_type(kind) in (None, CustomModel)]
    if missing:
        raise RuntimeError(f"moto {MOTO_VERSION} did not take the CloudFormation models of {', '.join(missing)}")
    _applied = True
