"""The emulator as a managed process: start, health check, reset, stop by recorded process id.

Only the standard library is imported here (boto3 when a client is asked for), so ``make stop-local``
works even from a Python without the ``local`` extra.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

SERVER_MODULE = "constructs_sqs.local.server"
"""The module the emulator process runs; the process-id check looks for it in the command line."""
DEFAULT_PORT = 4566
"""The port ``make deploy-local`` uses unless ``LOCAL_PORT`` says otherwise (LocalStack's, by habit)."""
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"
"""moto's default account: every resource the emulator makes lives in it."""
DEFAULT_STATE_DIR = Path(".local-emulator")
"""Where the process record (``emulator.json``) and the log (``emulator.log``) go, under the working directory."""
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
"""The emulator checks no signature; fixed fake keys keep real credentials out of every local call."""

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_CREDENTIAL_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
)


class EmulatorError(RuntimeError):
    """The emulator could not be started, reached or stopped; the message says why and what to do."""


@dataclass(frozen=True)
class EmulatorProcess:
    """What ``emulator.json`` records about a running emulator."""

    pid: int
    port: int
    log_file: str
    started_at: float


def find_free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _command_line(pid: int) -> str | None:
    """The command line of ``pid``, or None when no such process is alive (zombies count as dead)."""
    proc = Path(f"/proc/{pid}")
    if proc.exists():
        try:
            status = (proc / "status").read_text()
            if re.search(r"^State:\s+Z", status, re.MULTILINE):
                return None
            return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return None
    result = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, check=False)
    return result.stdout.strip() or None


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Emulator:
    """The local AWS emulator (moto server with this project's patches) on ``localhost:<port>``.

    Parameters
    ----------
    port:
        TCP port, 1-65535 (default 4566). The server listens on 127.0.0.1 only.
    state_dir:
        Directory for ``emulator.json`` (process id, port, log file) and ``emulator.log``.
    region, account_id:
        What clients and deploys use; the account is moto's default, 123456789012.
    python:
        The interpreter that runs the server (default: this one), which must have the ``local`` extra.
    exit_with_parent:
        When True, the server also stops as soon as this process ends (test sessions use it, so a killed
        run leaves nothing behind); ``make deploy-local`` leaves it False so the server outlives it.
    patched:
        When False, the server is moto as released, without this project's patches (``--plain``): the
        baseline that ``make conformance`` and the emulator's own tests (``pytest --emulator=plain``)
        compare with. Default True.

    Raises
    ------
    ValueError
        For a port outside 1-65535 or a malformed region, naming the argument and the value.

    Example
    -------
    >>> with Emulator(find_free_port(), state_dir=tmp) as emulator:  # doctest: +SKIP
    ...     emulator.client("sqs").create_queue(QueueName="q")
    """

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        *,
        state_dir: str | os.PathLike[str] = DEFAULT_STATE_DIR,
        region: str = DEFAULT_REGION,
        account_id: str = DEFAULT_ACCOUNT_ID,
        python: str | None = None,
        exit_with_parent: bool = False,
        patched: bool = True,
    ) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ValueError(f"port must be a whole number between 1 and 65535, got {port!r}")
        if not _REGION.match(region):
            raise ValueError(f"region must be an AWS region name such as 'us-east-1', got {region!r}")
        self.port = port
        self.region = region
        self.account_id = account_id
        self.state_dir = Path(state_dir)
        self.python = python or sys.executable
        self.exit_with_parent = exit_with_parent
        self.patched = patched
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        """``http://localhost:<port>``: ``localhost``, since moto parses the CLI's TemplateURL by host name."""
        return f"http://localhost:{self.port}"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "emulator.json"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "emulator.log"

    def __repr__(self) -> str:
        return f"Emulator(endpoint_url={self.endpoint_url!r}, region={self.region!r}, state_dir={str(self.state_dir)!r})"

    # -- the process ---------------------------------------------------------------------------

    def recorded(self) -> EmulatorProcess | None:
        """The process ``emulator.json`` records, if that process is alive and is this project's server."""
        try:
            record = EmulatorProcess(**json.loads(self.state_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        command = _command_line(record.pid)
        if command is None or SERVER_MODULE not in command or f"--port {record.port}" not in command:
            return None
        return record

    def healthy(self, timeout: float = 2.0) -> bool:
        """Whether the server answers on its port (``GET /moto-api/`` returns 200)."""
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=timeout) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def start(self, *, timeout: float = 60.0) -> EmulatorProcess:
        """Start the server, or reuse the one ``emulator.json`` records on this port, and wait until healthy.

        A recorded server on another port is stopped first. The new process gets its own session, so it
        outlives the command that started it (``make deploy-local`` leaves it running); stop it with
        :meth:`stop`.

        Returns
        -------
        EmulatorProcess
            The process id, port and log file, as recorded in ``emulator.json``.

        Raises
        ------
        EmulatorError
            When the port is taken by another program, or the server exits or stays unhealthy for
            ``timeout`` seconds (the message ends with the log's last lines).
        """
        record = self.recorded()
        if record is not None and record.port == self.port and self.healthy():
            return record
        if record is not None:
            self.stop()
        if _port_in_use(self.port):
            raise EmulatorError(
                f"port {self.port} is in use by another program, not by an emulator recorded in {self.state_file}; "
                "stop that program or choose another port (python -m constructs_sqs.local --port 4577 deploy, "
                "or LOCAL_PORT=4577)"
            )
        self.state_dir.mkdir(parents=True, exist_ok=True)
        record = self._spawn()
        self._wait_until_healthy(record, timeout)
        return record

    def _spawn(self) -> EmulatorProcess:
        command = [self.python, "-m", SERVER_MODULE, "--port", str(self.port)]
        if self.exit_with_parent:
            command += ["--exit-with", str(os.getpid())]
        if not self.patched:
            command.append("--plain")
        with self.log_file.open("ab") as log:
            log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(command)}\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        record = EmulatorProcess(self._process.pid, self.port, str(self.log_file.resolve()), time.time())
        self.state_file.write_text(json.dumps(asdict(record), indent=2) + "\n")
        return record

    def _wait_until_healthy(self, record: EmulatorProcess, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                self.state_file.unlink(missing_ok=True)
                raise EmulatorError(
                    f"the emulator exited with code {self._process.returncode} before it answered on port "
                    f"{self.port}; the end of {self.log_file}:\n{_tail(self.log_file)}"
                )
            if self.healthy(timeout=1.0):
                return
            time.sleep(0.1)
        self.stop()
        raise EmulatorError(
            f"the emulator (pid {record.pid}) did not answer on {self.endpoint_url} within {timeout:g} s; "
            f"the end of {self.log_file}:\n{_tail(self.log_file)}"
        )

    def stop(self, *, timeout: float = 10.0) -> bool:
        """Stop the recorded server by its process id: SIGTERM, then SIGKILL after ``timeout`` seconds.

        Only a process whose command line is this project's server on the recorded port is signalled,
        so a stale record never kills an unrelated process that reused the id.

        Returns
        -------
        bool
            True when a server was stopped, False when none was running.
        """
        record = self.recorded()
        self.state_file.unlink(missing_ok=True)
        if record is None:
            self._reap()
            return False
        try:
            os.kill(record.pid, signal.SIGTERM)
        except ProcessLookupError:
            self._reap()
            return False
        if not self._wait_for_exit(record.pid, timeout):
            os.kill(record.pid, signal.SIGKILL)
            self._wait_for_exit(record.pid, timeout)
        self._reap()
        return True

    def _wait_for_exit(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.pid == pid:
                if self._process.poll() is not None:
                    return True
            elif _command_line(pid) is None:
                return True
            time.sleep(0.05)
        return False

    def _reap(self) -> None:
        if self._process is not None:
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self._process = None

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- talking to it -------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every resource and message (moto's ``POST /moto-api/reset``).

        Raises
        ------
        EmulatorError
            When the server does not answer.
        """
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST", data=b"")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                if response.status != 200:
                    raise EmulatorError(f"reset answered HTTP {response.status}")
        except (OSError, urllib.error.URLError) as error:
            raise EmulatorError(
                f"the emulator does not answer on {self.endpoint_url}: {error}; start it with python -m constructs_sqs.local start"
            ) from error

    def environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment variables that point an AWS SDK or the CDK CLI at the emulator.

        ``base`` (default: this process's environment) loses every variable that could select real
        credentials (``AWS_PROFILE``, ``AWS_SESSION_TOKEN``...) and gains the endpoint, region and fake keys.
        """
        env = dict(os.environ if base is None else base)
        for name in _CREDENTIAL_VARIABLES:
            env.pop(name, None)
        env.update(DUMMY_CREDENTIALS)
        env.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "CDK_DEFAULT_ACCOUNT": self.account_id,
                "CDK_DEFAULT_REGION": self.region,
            }
        )
        return env

    def client(self, service_name: str, **kwargs: Any) -> Any:
        """A boto3 client for ``service_name`` pointed at the emulator, with the fake keys and the region.

        Raises
        ------
        ImportError
            When boto3 is missing; the message names the ``local`` extra.
        """
        try:
            import boto3
            from botocore.config import Config
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError("Emulator.client needs boto3: pip install 'constructs-sqs[local]'") from error
        session: Any = boto3.session.Session(
            aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=self.region,
        )
        kwargs.setdefault("config", Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=32))
        return session.client(service_name, endpoint_url=self.endpoint_url, **kwargs)
