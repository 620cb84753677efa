"""constructs-sqs: every command on moto's in-process SQS, each error path's message and exit status."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from runtime_helpers import REGION, arn_of, aws, depth, drain, make_queue, sqs  # noqa: F401

from constructs_sqs.cli import main
from constructs_sqs_runtime import OutgoingMessage, send_messages

SCRIPT = Path(sys.executable).parent / "constructs-sqs"


def cli(capsys: pytest.CaptureFixture[str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        status = main(list(args))
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    return status, out, err


def test_help_lists_every_command() -> None:
    done = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60, env={"COLUMNS": "100", "PATH": ""})
    assert done.returncode == 0
    for command in ("send", "stats", "failed", "redrive", "purge", "diagram"):
        assert f"│ {command} " in done.stdout


@pytest.mark.parametrize(
    ("command", "usage"),
    [
        ((), "constructs-sqs [OPTIONS] COMMAND [ARGS]..."),
        (("send",), "constructs-sqs send [OPTIONS] QUEUE [BODY]"),
        (("stats",), "constructs-sqs stats [OPTIONS] [QUEUE]..."),
        (("failed",), "constructs-sqs failed [OPTIONS] QUEUE"),
        (("redrive",), "constructs-sqs redrive [OPTIONS] QUEUE"),
        (("purge",), "constructs-sqs purge [OPTIONS] QUEUE"),
        (("diagram",), "constructs-sqs diagram [OPTIONS] [CDK_OUT]"),
    ],
)
def test_help_shows_posix_usage_and_flags_without_a_type(command: tuple[str, ...], usage: str) -> None:
    """No `{QUEUE}`, no `--help <bool>`: a flag takes no value, a required argument is written bare."""
    done = subprocess.run([str(SCRIPT), *command, "--help"], capture_output=True, text=True, timeout=60, env={"COLUMNS": "200", "PATH": ""})
    assert done.returncode == 0, done.stderr
    lines = [line.strip(" │") for line in done.stdout.splitlines()]
    assert f"Usage: {usage}" in lines
    assert "{" not in done.stdout and "<bool>" not in done.stdout
    (help_row,) = [line for line in lines if line.startswith("--help")]
    assert help_row.split() == ["--help", "Show", "this", "message", "and", "exit."]
    if command == ("send",):
        (attribute_row,) = [line for line in lines if line.startswith("--attribute")]
        assert attribute_row.split()[:3] == ["--attribute", "-a", "NAME=VALUE"]


def test_without_the_cli_extra_the_script_names_it() -> None:
    code = "import sys; sys.modules['typer'] = None\nfrom constructs_sqs.cli import main\nsys.exit(main(['--help']))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "constructs-sqs: error: the CLI needs typer, which is not installed: pip install 'constructs-sqs[cli]'"
    )


# --- send ------------------------------------------------------------------------------------------


def test_send_a_body_with_attributes(aws: None, sqs: Any, capsys: pytest.CaptureFixture[str]) -> None:
    url = make_queue(sqs, "jobs")
    status, out, _ = cli(capsys, "send", "jobs", '{"job": 1}', "-a", "tenant=a", "-a", "priority:Number=3")
    assert status == 0 and out.startswith("sent 1 message(s) to jobs\nMessageId ")
    (message,) = drain(sqs, url)
    assert message["Body"] == '{"job": 1}'
    assert message["MessageAttributes"]["priority"] == {"DataType": "Number", "StringValue": "3"}


def test_send_stdin_lines_and_file_lines_in_batches(aws: None, sqs: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = make_queue(sqs, "lines.fifo")
    status, out, _ = cli(capsys, "send", url, "--group-id", "g", "--json", stdin="a\nb\n\nc\n")
    assert status == 0 and [s["index"] for s in json.loads(out)["sent"]] == [0, 1, 2]
    lines = tmp_path / "orders.txt"
    lines.write_text("".join(f"order {i}\n" for i in range(25)))
    status, out, err = cli(capsys, "send", url, "--group-id", "g", "--file", str(lines))
    assert status == 0 and out.startswith("sent 25 message(s) to lines.fifo")
    assert [m["Body"] for m in drain(sqs, url)] == ["a", "b", "c"] + [f"order {i}" for i in range(25)]


def test_send_to_fifo_without_group_id_is_refused(aws: None, sqs: Any, capsys: pytest.CaptureFixture[str]) -> None:
    url = make_queue(sqs, "orders.fifo")
    status, out, err = cli(capsys, "send", "orders.fifo", "order 1")
    assert status == 2 and out == ""
    assert err == "constructs-sqs: error: orders.fifo is a FIFO queue: pass --group-id (the messages' MessageGroupId)\n"
    assert depth(sqs, url) == (0, 0)


def test_send_refuses_bad_input_before_sending(aws: None, sqs: Any, capsys: pytest.CaptureFixture[str]) -> None:
    make_queue(sqs, "jobs")
    status, _, err = cli(capsys, "send", "jobs", "bell \x07")
    assert status == 2
    assert err.startswith("constructs-sqs: error: message 0 ('bell \\x07'): the body has a character SQS rejects")
    assert err.rstrip().endswith("nothing was sent")


# --- errors: one line, one status ---------------------------------------------------------------


def test_unknown_queue(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = cli(capsys, "stats", "nope")
    assert (status, out, err) == (3, "", "constructs-sqs: error: no queue named 'nope'\n")


def test_no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    status, _, err = cli(capsys, "stats", "jobs")
    assert status == 4 and err.startswith("constructs-sqs: error: no AWS credentials found: set AWS_PROFILE or pass --profile")


def test_no_region(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    status, _, err = cli(capsys, "stats", "jobs")
    assert (status, err) == (4, "constructs-sqs: error: no AWS region: pass --region or set AWS_REGION\n")


def test_unreachable_endpoint(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    status, _, err = cli(capsys, "stats", "jobs", "--endpoint-url", "http://127.0.0.1:9", "--region", REGION)
    assert status == 7 and err.startswith("constructs-sqs: error: cannot reach the endpoint: Could not connect")


def refuse(monkeypatch: pytest.MonkeyPatch, operation: str, code: str, status: int) -> None:
    """Every boto3 session the CLI makes answers ``operation`` with the error ``code`` (HTTP ``status``)."""
    original = boto3.Session

    def session(*args: Any, **kwargs: Any) -> Any:
        made = original(*args, **kwargs)
        response = {"Error": {"Code": code, "Message": "refused by the test"}, "ResponseMetadata": {"HTTPStatusCode": status}}
        made.events.register(
            f"before-call.sqs.{operation}",
            lambda **_: (AWSResponse("https://sqs.invalid", status, {}, None), response),
        )
        return made

    monkeypatch.setattr(boto3, "Session", session)


@pytest.mark.parametrize(
    ("code", "http", "status", "expected"),
    [
        ("AccessDenied", 403, 5, "access denied: GetQueueUrl was refused (AccessDenied: refused by the test)"),
        ("ThrottlingException", 400, 6, "throttled: GetQueueUrl was still throttled after botocore's retries (ThrottlingException); try again later"),
        ("InvalidClientTokenId", 403, 4, "the AWS credentials were refused (InvalidClientTokenId: refused by the test)"),
        ("InternalError", 500, 1, "GetQueueUrl failed: InternalError: refused by the test"),
    ],
)
def test_aws_errors(aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], code: str, http: int, status: int, expected: str) -> None:
    refuse(monkeypatch, "GetQueueUrl", code, http)
    assert cli(capsys, "stats", "jobs") == (status, "", f"constructs-sqs: error: {expected}\n")


# --- stats -----------------------------------------------------------------------------------------


def test_stats_of_a_queue_and_its_dlq(aws: None, sqs: Any, capsys: pytest.CaptureFixture[str]) -> None:
    dlq = make_queue(sqs, "jobs-dlq")
    url = make_queue(sqs, "jobs", dlq=dlq)
    send_messages(url, ["a", "b", "c"], client=sqs)
    send_messages(url, ["later"], delay_seconds=600, client=sqs)
    send_messages(dlq, ["dead"], client=sqs)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=300)
    status, out, _ = cli(capsys, "stats", arn_of(sqs, url), "--json")
    (row,) = json.loads(out)
    assert status == 0
    assert {k: row[k] for k in ("queue", "type", "visible", "in_flight", "delayed", "dead_letter_queue", "dead_letter_depth")} == {
        "queue": "jobs", "type": "standard", "visible": 2, "in_flight": 1, "delayed": 1, "dead_letter_queue": "jobs-dlq", "dead_letter_depth": 1,
    }
    status, out, _ = cli(capsys, "stats", "jobs")
    assert status == 0 and "│ jobs " in out and "jobs-dlq" in out


def deploy_stack(aws_region: str = REGION) -> None:
    """A stack shaped like a constructs-sqs pattern: a queue and its DLQ under one construct path."""
    dlq = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "shop-orders-dlq.fifo", "FifoQueue": True}, "Metadata": {"aws:cdk:path": "Shop/Orders/DeadLetterQueue/Resource"}}
    queue = {
        "Type": "AWS::SQS::Queue",
        "Properties": {"QueueName": "shop-orders.fifo", "FifoQueue": True, "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["OrdersDeadLetterQueueA1", "Arn"]}, "maxReceiveCount": 5}},
        "Metadata": {"aws:cdk:path": "Shop/Orders/Resource/Resource"},
    }
    jobs = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "shop-jobs"}, "Metadata": {"aws:cdk:path": "Shop/Jobs/Resource"}}
    template = {"Resources": {"OrdersDeadLetterQueueA1": dlq, "Orders2B": queue, "JobsC3": jobs}}
    boto3.client("cloudformation", region_name=aws_region).create_stack(StackName="Shop", TemplateBody=json.dumps(template))


def test_queues_by_construct_path_and_by_stack(aws: None, sqs: Any, capsys: pytest.CaptureFixture[str]) -> None:
    deploy_stack()
    status, out, _ = cli(capsys, "stats", "Shop/Orders", "Shop/Orders/DeadLetterQueue", "Shop/Jobs", "--json")
    assert status == 0 and [r["queue"] for r in json.loads(out)] == ["shop-orders.fifo", "shop-orders-dlq.fifo", "shop-jobs"]
    status, out, _ = cli(capsys, "stats", "--stack", "Shop", "--json")
    assert status == 0 and sorted(r["label"] for r in json.loads(out)) == ["Shop/Jobs", "Shop/Orders", "Shop/Orders/DeadLetterQueue"]
    status, _, err = cli(capsys, "stats", "Shop/Payments")
    assert status == 3 and err == "constructs-sqs: error: no queue at construct path 'Shop/Payments'; stack Shop has: Shop/Jobs, Shop/Orders, Shop/Orders/DeadLetterQueue\n"
    status, _, err = cli(capsys, "stats", "Nope/Orders")
    assert status == 3 and "Stack with id Nope does not exist" in err


# --- failed ----------------------------------------------------------------------------------------


def test_failed_shows_dlq_messages_and_leaves_the_dlq_as_it_was(aws: None, sqs: Any, capsys: pytest.CaptureFixture[str]) -> None:
    dlq = make_queue(sqs, "orders-dlq.fifo")
    make_queue(sqs, "orders.fifo", dlq=dlq)
    send_messages(dlq, [OutgoingMessage(f"order {i}", group_id=f"c-{i % 2}", deduplication_id=str(i)) for i in range(6)], client=sqs)
    status, out, _ = cli(capsys, "failed", "orders.fifo", "--json")  # the source queue names its DLQ
    listed = json.loads(out)
    assert status == 0 and listed["approximate_total"] == 6
    assert [(m["body"], m["group_id"]) for m in listed["messages"]] == [(f"order {i}", f"c-{i % 2}") for i in range(6)]
    assert depth(sqs, dlq) == (6, 0)
    status, out, _ = cli(capsys, "failed", "orders-dlq.fifo")
    assert status == 0 and "orders-dlq.fifo: 6 of about 6 message(s), left in the queue" in out and "c-1" in out
    assert [m["Body"] for m in drain(sqs, dlq)] == [f"order {i}" for i in range(6)]  # same order as before


def test_failed_on_an_empty_dlq_says_so_instead_of_an_empty_table(aws: None, sqs: Any, capsys: pytest.CaptureFixture[str]) -> None:
    dlq = make_queue(sqs, "jobs-dlq")
    make_queue(sqs, "jobs", dlq=dlq)
    status, out, _ = cli(capsys, "failed", "jobs")
    assert (status, out) == (0, "jobs-dlq is empty: no failed messages.\n")
    status, out, _ = cli(capsys, "failed", "jobs", "--json")
    assert status == 0 and json.loads(out)["messages"] == [] and json.loads(out)["approximate_total"] == 0


def test_failed_on_a_dlq_whose_messages_are_in_flight_says_what_it_holds(aws: None, sqs: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """An empty receive does not prove the DLQ empty: its messages may be held by another consumer."""
    dlq = make_queue(sqs, "pay-dlq")
    send_messages(dlq, ["a", "b"], client=sqs)
    assert len(sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=300)["Messages"]) == 2
    status, out, _ = cli(capsys, "failed", "pay-dlq")
    assert status == 0 and out.startswith("pay-dlq: no message could be received now, though it holds about 0 visible and 2 in flight")
    assert "0 of about" not in out


# --- redrive ---------------------------------------------------------------------------------------


def test_redrive_a_fifo_dlq_keeps_group_order(aws: None, sqs: Any, capsys: pytest.CaptureFixture[str]) -> None:
    dlq = make_queue(sqs, "pay-dlq.fifo")
    source = make_queue(sqs, "pay.fifo", dlq=dlq)
    send_messages(dlq, [OutgoingMessage(f"{g}-{i}", group_id=g, deduplication_id=f"{g}{i}") for i in range(8) for g in "ab"], client=sqs)
    status, out, _ = cli(capsys, "redrive", "pay-dlq.fifo", "--count", "10")
    assert status == 0 and out.startswith(f"moved 10 message(s) from pay-dlq.fifo to {source} (receive-send-delete)")
    status, out, _ = cli(capsys, "redrive", "pay.fifo", "--json")
    assert status == 0 and json.loads(out)["moved"] == 6
    moved = drain(sqs, source)
    for group in "ab":
        assert [m["Body"] for m in moved if m["Attributes"]["MessageGroupId"] == group] == [f"{group}-{i}" for i in range(8)]
    assert depth(sqs, dlq) == (0, 0)


def test_redrive_to_another_queue(aws: None, sqs: Any, capsys: pytest.CaptureFixture[str]) -> None:
    dlq = make_queue(sqs, "a-dlq")
    make_queue(sqs, "a", dlq=dlq)
    other = make_queue(sqs, "replay")
    send_messages(dlq, ["x", "y"], client=sqs)
    status, out, _ = cli(capsys, "redrive", "a-dlq", "--to", "replay")
    assert status == 0 and "moved 2 message(s) from a-dlq to" in out
    assert sorted(m["Body"] for m in drain(sqs, other)) == ["x", "y"]


def test_redrive_that_leaves_messages_exits_8_and_says_how_many_and_why(aws: None, sqs: Any, capsys: pytest.CaptureFixture[str]) -> None:
    dlq = make_queue(sqs, "held-dlq")
    make_queue(sqs, "held", dlq=dlq)
    send_messages(dlq, ["a", "b", "c"], client=sqs)
    sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=1, VisibilityTimeout=600)  # held by another receiver
    status, out, _ = cli(capsys, "redrive", "held-dlq", "--in-flight-timeout", "0")
    assert status == 8
    assert "moved 2 message(s) from held-dlq" in out
    assert "1 message(s) remain in held-dlq: 1 hidden by another receiver or an interrupted run, and not back within in_flight_timeout" in out
    status, out, _ = cli(capsys, "redrive", "held-dlq", "--in-flight-timeout", "0", "--json")
    assert status == 8 and json.loads(out)["remaining"] == {"in_flight": 1} and json.loads(out)["ok"] is False


# --- purge -----------------------------------------------------------------------------------------


def test_purge_asks_first_and_refuses_a_dlq_unless_told(aws: None, sqs: Any, capsys: pytest.CaptureFixture[str]) -> None:
    dlq = make_queue(sqs, "work-dlq")
    url = make_queue(sqs, "work", dlq=dlq)
    send_messages(url, ["a", "b"], client=sqs)
    send_messages(dlq, ["evidence"], client=sqs)
    status, out, err = cli(capsys, "purge", "work", stdin="")  # no answer: nothing happens
    assert status == 1 and err.endswith("constructs-sqs: error: aborted: nothing was changed\n")
    status, out, err = cli(capsys, "purge", "work", stdin="n\n")
    assert status == 1 and "Delete all 2 message(s) of work? This cannot be undone" in out
    assert err == "constructs-sqs: error: not purged: work keeps its messages\n" and depth(sqs, url) == (2, 0)
    status, _, err = cli(capsys, "purge", "work-dlq", "--yes")
    assert status == 2 and err == (
        "constructs-sqs: error: refusing to purge work-dlq: it is the dead-letter queue of work and holds the "
        "evidence of failures; pass --dead-letter to purge it anyway\n"
    )
    assert depth(sqs, dlq) == (1, 0)
    status, out, _ = cli(capsys, "purge", "work", stdin="y\n")
    assert status == 0 and "purged work (about 2 message(s))" in out and depth(sqs, url) == (0, 0)
    status, out, _ = cli(capsys, "purge", "work-dlq", "--yes", "--dead-letter", "--json")
    assert status == 0 and json.loads(out)["purged"] is True and depth(sqs, dlq) == (0, 0)


def test_a_usage_error_shows_the_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = cli(capsys, "bogus")
    assert status == 2 and "No such command 'bogus'" in err
    status, _, err = cli(capsys, "stats")
    assert (status, err) == (2, "constructs-sqs: error: name at least one QUEUE, or --stack STACK\n")


def test_every_option_of_the_emulator_command_says_what_it_does() -> None:
    """`python -m constructs_sqs.local --help` listed --port and --state-dir without a word."""
    import argparse

    from constructs_sqs.local.__main__ import _parser

    parsers = [_parser()]
    for action in parsers[0]._actions:
        if isinstance(action, argparse._SubParsersAction):
            parsers += list(action.choices.values())
    undocumented = [
        f"{parser.prog} {action.option_strings}"
        for parser in parsers
        for action in parser._actions
        if action.option_strings and not action.help
    ]
    assert undocumented == []
    done = subprocess.run([sys.executable, "-m", "constructs_sqs.local", "--help"], capture_output=True, text=True, timeout=60,
                          env={"COLUMNS": "200", "PATH": ""})
    assert "--port PORT           the emulator's port on localhost (default: $LOCAL_PORT, else 4566)" in done.stdout
