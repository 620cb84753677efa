"""Optional dependencies: import one, or say which extra of constructs-sqs brings it.

The base package needs only ``aws-cdk-lib`` and ``constructs``. The tools (snapshot plugin, compliance
gates, ...) import their own dependencies when they are used, through :func:`require`, so that a missing
one is an error naming the ``pip install`` command, not a bare ``ModuleNotFoundError``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["MissingExtraError", "install_command", "require"]


class MissingExtraError(ModuleNotFoundError):
    """An optional dependency is not installed; the message names the extra that brings it."""


def install_command(extra: str) -> str:
    """The command that installs constructs-sqs with ``extra``: ``pip install 'constructs-sqs[extra]'``."""
    return f"pip install 'constructs-sqs[{extra}]'"


def require(module: str, *, distribution: str, extra: str, needed_by: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtraError` naming the extra to install.

    Parameters
    ----------
    module:
        The module to import (``"cdk_nag"``).
    distribution:
        The PyPI name of the package that provides it (``"cdk-nag"``).
    extra:
        The extra of constructs-sqs that brings it (``"compliance"``).
    needed_by:
        What needs it, for the message (``"python -m constructs_sqs.compliance"``).

    Returns
    -------
    ModuleType
        The imported module.

    Raises
    ------
    MissingExtraError
        When ``module`` (or its top-level package) is not installed. An import error from inside an
        installed package is not hidden: it propagates unchanged.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as missing:
        if missing.name is None or module.split(".")[0] != missing.name.split(".")[0]:
            raise
        raise MissingExtraError(
            f"{needed_by} needs {distribution}, which is not installed: {install_command(extra)}",
            name=missing.name,
        ) from None
