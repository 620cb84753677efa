"""The one emulator of a test session, and the sample app deployed into it once.

Fixtures (session-scoped; every integration test shares them):

- ``emulator``: a :class:`SessionEmulator` (a :class:`constructs_sqs.local.Emulator`) started once on a
  free port (plain moto 5.2.5, without the patches, under ``pytest --emulator=plain``), stopped at the
  end of the session even when tests fail or the run is interrupted (and,
  should the test process be killed, the server stops itself: ``exit_with_parent``). Attributes
  ``endpoint_url``, ``region``, ``account_id``; ``client(service_name)`` gives a boto3 client pointed
  at it; ``environment()`` gives the variables for a subprocess (CLI tests); ``reset()`` forgets every
  resource.
- ``deployed_sample_app``: the sample app deployed with the real CDK CLI (``cdk bootstrap`` +
  ``cdk deploy --all``), a :class:`constructs_sqs.local.deploy.Deployment`: ``stack_names``,
  ``stack(name)`` with status, outputs and resources, ``queue(name_or_construct_path)`` with
  ``url``, ``arn``, ``name``, ``fifo``; ``assembly_dir`` is its cloud assembly.

Once the sample app is deployed, ``emulator.reset()`` refuses (other tests still use the app): create
your own resources with unique names instead, or pass ``force=True`` if you really mean it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from constructs_sqs.local import Emulator, find_free_port
from constructs_sqs.local.deploy import Deployment, deploy_app

ROOT = Path(__file__).resolve().parents[2]


class SessionEmulator(Emulator):
    """The session's emulator: an :class:`Emulator` whose ``reset`` protects the shared deployment."""

    sample_app_deployed = False

    def reset(self, *, force: bool = False) -> None:
        """Forget every resource; refuses once ``deployed_sample_app`` exists, unless ``force``.

        Raises
        ------
        RuntimeError
            When the sample app is deployed and ``force`` is False.
        """
        if self.sample_app_deployed and not force:
            raise RuntimeError(
                "emulator.reset() would delete the sample app that other tests of this session use; "
                "create resources with unique names instead, or call reset(force=True)"
            )
        super().reset()
        self.sample_app_deployed = False


@pytest.fixture(scope="session")
def emulator(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionEmulator]:
    """The session's emulator on a free port; always stopped at the end. ``pytest --emulator=plain`` makes it
    plain moto 5.2.5 (no patches): the emulator's own tests of FIFO and S3 fail there."""
    session = SessionEmulator(
        find_free_port(),
        state_dir=tmp_path_factory.mktemp("emulator"),
        exit_with_parent=True,
        patched=request.config.getoption("--emulator") != "plain",
    )
    try:
        session.start()
        yield session
    finally:
        session.stop()


@pytest.fixture(scope="session")
def deployed_sample_app(emulator: SessionEmulator, tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """The sample app of this repository, deployed once per session with the pinned CDK CLI."""
    work = tmp_path_factory.mktemp("sample-app")
    with (work / "cdk.log").open("w") as log:
        deployment = deploy_app(emulator, project_dir=ROOT, output_dir=work / "cdk.out", reset=False, log=log)
    emulator.sample_app_deployed = True
    return deployment
