"""The emulator process: moto's server with this project's patches, on the loopback interface.

Started by :class:`constructs_sqs.local.Emulator` as ``<venv python> -m constructs_sqs.local.server
--port PORT``; it runs until SIGTERM or SIGINT. Its output (one line per request, and moto's warnings)
goes to the log file the emulator opened for it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time

LOOPBACK = "127.0.0.1"


def main(argv: list[str] | None = None) -> None:
    """Apply the patches and serve until stopped.

    Parameters
    ----------
    argv:
        ``--port PORT`` (required), ``--host HOST`` (default ``127.0.0.1``: the emulator accepts no
        connection from another machine), ``--plain`` (serve moto without the patches, the baseline that
        ``make conformance`` and the emulator's tests compare with) and ``--exit-with PID``.

    Raises
    ------
    ImportError
        When moto is not installed; the message names the ``local`` extra.
    SystemExit
        With status 1 when the installed moto is not the release the patches need (the message, in the
        emulator's log, names it).
    """
    parser = argparse.ArgumentParser(prog="python -m constructs_sqs.local.server", description=__doc__)
    parser.add_argument("--port", type=int, required=True, help="TCP port to listen on")
    parser.add_argument("--host", default=LOOPBACK, help="address to bind (default: %(default)s)")
    parser.add_argument(
        "--plain",
        action="store_true",
        help="serve moto as released, without the patches: the baseline of the conformance gate and of tests",
    )
    parser.add_argument(
        "--exit-with", type=int, metavar="PID", help="stop when process PID ends (test sessions pass their own)"
    )
    args = parser.parse_args(argv)
    try:
        from moto import server as moto_server

        from . import _patches
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the local emulator needs moto[server]: pip install 'constructs-sqs[local]'"
        ) from error
    try:
        _patches.check_moto_version()
        if not args.plain:
            _patches.apply()
    except _patches.MotoVersionError as error:  # another moto than the pinned one: say so, patch nothing
        print(f"constructs-sqs emulator: {error}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    if args.exit_with:
        _exit_with(args.exit_with)
    state = "plain (no patches)" if args.plain else "patched"
    print(f"constructs-sqs emulator: moto {_patches.MOTO_VERSION} {state}, serving {args.host}:{args.port}", flush=True)
    moto_server.main(["--host", args.host, "--port", str(args.port)])


def _exit_with(pid: int, interval: float = 1.0) -> None:
    """Send this process SIGTERM once ``pid`` is gone, so a killed test session leaves no server behind."""

    def watch() -> None:
        while True:
            time.sleep(interval)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                print(f"constructs-sqs emulator: process {pid} ended, stopping", flush=True)
                os.kill(os.getpid(), signal.SIGTERM)
                return
            except PermissionError:  # alive, owned by another user
                continue

    threading.Thread(target=watch, name="exit-with", daemon=True).start()


if __name__ == "__main__":
    main(sys.argv[1:])
