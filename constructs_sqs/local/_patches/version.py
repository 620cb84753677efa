"""The one moto release the patches were written for, and the check that runs before any of them.

Every patch reaches into moto's internals (private attributes, the signatures of backend methods, the
model registry of its CloudFormation), which change between releases without notice. A different moto
would not fail cleanly: it would half-deploy an app, or hand out FIFO messages out of order. So the
emulator refuses to start on any other version, and says which one it needs.
"""

from __future__ import annotations

from importlib import metadata

MOTO_VERSION = "5.2.5"
"""The moto release these patches were written against (the ``local`` extra pins ``moto[server]==5.2.5``)."""


class MotoVersionError(RuntimeError):
    """The installed moto is not the release the emulator's patches were written for."""


def installed_moto_version() -> str | None:
    """The version of the installed moto distribution, or None when moto is not installed."""
    try:
        return metadata.version("moto")
    except metadata.PackageNotFoundError:
        return None


def check_moto_version(installed: str | None = None) -> None:
    """Raise :class:`MotoVersionError` unless moto :data:`MOTO_VERSION` is installed.

    Parameters
    ----------
    installed:
        The version to check; default: the installed distribution's (:func:`installed_moto_version`).

    Raises
    ------
    MotoVersionError
        Naming the version found and the one needed, and the command that installs it.
    """
    found = installed if installed is not None else installed_moto_version()
    if found != MOTO_VERSION:
        what = "no moto is installed" if found is None else f"moto {found} is installed"
        raise MotoVersionError(
            f"the local emulator's patches were written for moto {MOTO_VERSION}, but {what}: "
            f"pip install 'moto[server]=={MOTO_VERSION}' (or pip install 'constructs-sqs[local]', which pins it)"
        )
