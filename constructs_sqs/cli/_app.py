"""The commands of ``constructs-sqs`` (typer + rich). They format and ask; the runtime helpers do the work."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from constructs_sqs_runtime import (
    OutgoingMessage,
    ReceivedMessage,
    peek_messages,
    redrive,
    send_messages,
)
from constructs_sqs_runtime.redrive import DEFAULT_IN_FLIGHT_TIMEOUT, REMAINING_REASONS

from ._errors import EXIT, CliError, describe
from ._queues import Aws, Queue

__all__ = ["app", "run"]

class _FlagsWithoutTypes:
    """Help that shows a flag bare: typer 0.29 writes a type after every option, ``--help <bool>`` and
    ``--json <bool>`` for flags that take no value."""

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class _Command(_FlagsWithoutTypes, typer.core.TyperCommand):
    """A command whose usage line names its arguments as POSIX usage does: ``QUEUE [BODY]``, ``[QUEUE]...``
    (typer 0.29 writes ``{QUEUE} [body]``)."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = (param.metavar or param.name or "").strip("[].").upper()
                piece = name if param.required else f"[{name}]"
                pieces.append(piece + ("..." if param.nargs != 1 else ""))
        return pieces


class _Group(_FlagsWithoutTypes, typer.core.TyperGroup):
    """The ``constructs-sqs`` group, with the help of :class:`_FlagsWithoutTypes`."""


app = typer.Typer(
    cls=_Group,
    name="constructs-sqs",
    help="Operate the SQS queues and dead-letter queues of a deployed app: send, stats, failed, redrive, "
    "purge; and draw a synthesized app as a Mermaid diagram.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

QueueArg = Annotated[
    str,
    typer.Argument(
        metavar="QUEUE",
        help="A queue URL, name, ARN, or a deployed construct path such as ConstructsSqsOrders/Orders.",
        show_default=False,
    ),
]
EndpointOpt = Annotated[
    str | None,
    typer.Option("--endpoint-url", envvar="AWS_ENDPOINT_URL", help="Another endpoint, e.g. the local emulator.", show_default=False),
]
RegionOpt = Annotated[str | None, typer.Option("--region", help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's).", show_default=False)]
ProfileOpt = Annotated[str | None, typer.Option("--profile", help="AWS profile (default: AWS_PROFILE).", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]


def run(argv: Sequence[str]) -> int:
    """Run the app on ``argv``; every failure becomes one line on stderr and an exit status."""
    try:
        result = app(args=list(argv), prog_name="constructs-sqs", standalone_mode=False)
    except typer.Abort:
        return _error(CliError("aborted: nothing was changed", EXIT["failed"]))
    except typer.Exit as done:
        return done.exit_code
    except Exception as error:  # the one place that turns any failure into a line and a status
        show, exit_code = getattr(error, "show", None), getattr(error, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()  # a usage error of typer's (or click's) parser: usage line and message
            return exit_code
        return _error(describe(error))
    return result if isinstance(result, int) else 0


def _error(error: CliError) -> int:
    print(f"constructs-sqs: error: {error.message}", file=sys.stderr)
    return error.exit_code


def _console(stderr: bool = False) -> Console:
    width = None if (sys.stderr if stderr else sys.stdout).isatty() else int(os.environ.get("COLUMNS", "160"))
    return Console(file=sys.stderr if stderr else sys.stdout, width=width, soft_wrap=False)


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


@contextmanager
def _progress(total: int | None, label: str, enabled: bool) -> Iterator[Callable[[int, int | None], None]]:
    """A rich progress bar on stderr; yields ``update(done, total)``."""
    if not enabled:
        yield lambda done, total: None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=_console(stderr=True), transient=False) as progress:
        task = progress.add_task(label, total=total)

        def update(done: int, new_total: int | None) -> None:
            progress.update(task, completed=done, total=new_total if new_total is not None else total)

        yield update


# --- send ------------------------------------------------------------------------------------------


@app.command(cls=_Command)
def send(
    queue: QueueArg,
    body: Annotated[str | None, typer.Argument(metavar="BODY", help="The message body; omit it to use --file or stdin lines.", show_default=False)] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Send each line of this file as a message.", show_default=False)] = None,
    whole_file: Annotated[bool, typer.Option("--whole-file", help="With --file: send the whole file as one message.")] = False,
    group_id: Annotated[str | None, typer.Option("--group-id", help="MessageGroupId (required by FIFO queues).", show_default=False)] = None,
    dedup_id: Annotated[str | None, typer.Option("--dedup-id", help="MessageDeduplicationId of a single FIFO message (default: derived from the body).", show_default=False)] = None,
    attribute: Annotated[list[str] | None, typer.Option("--attribute", "-a", metavar="NAME=VALUE", help="A message attribute NAME=VALUE or NAME:Number=VALUE; repeat for more.", show_default=False)] = None,
    delay: Annotated[int | None, typer.Option("--delay", help="DelaySeconds 0-900 (standard queues).", show_default=False)] = None,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    json_output: JsonOpt = False,
) -> int:
    """Send a body, each line of a file, or each line of stdin to QUEUE, in batches of up to 10."""
    aws = Aws(endpoint_url=endpoint_url, region=region, profile=profile)
    bodies = _bodies(body, file, whole_file)
    target = aws.queue(queue)
    if target.fifo and group_id is None:
        raise CliError(f"{target.name} is a FIFO queue: pass --group-id (the messages' MessageGroupId)", EXIT["usage"])
    if dedup_id is not None and len(bodies) != 1:
        raise CliError(f"--dedup-id names one message, got {len(bodies)}: leave it out to derive one per body", EXIT["usage"])
    attributes = _attributes(attribute or [])
    messages = [OutgoingMessage(b, attributes=attributes, group_id=group_id, deduplication_id=dedup_id, delay_seconds=delay) for b in bodies]
    with _progress(len(messages), f"sending to {target.name}", len(messages) > 10 and not json_output) as update:
        result = send_messages(target.url, messages, client=aws.sqs, on_progress=lambda done, total: update(done, total))
    if json_output:
        _print_json(
            {
                "queue": target.url,
                "sent": [vars(s) for s in result.sent],
                "failed": [vars(f) for f in result.failed],
                "possible_duplicates": result.possible_duplicates,
            }
        )
    else:
        console = _console()
        summary = f"sent {len(result.sent)} message(s) to {target.name}"
        if result.not_confirmed:
            summary += f", {len(result.not_confirmed)} not confirmed (their requests' fate is unknown: they may have arrived)"
        if result.not_sent:
            summary += f", {len(result.not_sent)} not sent"
        console.print(summary)
        if len(result.sent) == 1 and not result.failed:
            console.print(f"MessageId {result.sent[0].message_id}")
        for failure in result.failed[:20]:
            console.print(f"  message {failure.index}: {failure.code}: {failure.message}")
    return EXIT["failed"] if result.failed else 0


def _bodies(body: str | None, file: Path | None, whole_file: bool) -> list[str]:
    if body is not None and file is not None:
        raise CliError("give a BODY or --file, not both", EXIT["usage"])
    if body is not None:
        return [body]
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as error:
            raise CliError(f"cannot read --file {file}: {error.strerror}", EXIT["usage"]) from None
        return [text] if whole_file else [line for line in text.splitlines() if line.strip()]
    if sys.stdin is None or sys.stdin.isatty():
        raise CliError("nothing to send: give a BODY, --file PATH, or pipe lines on stdin", EXIT["usage"])
    return [line.rstrip("\r\n") for line in sys.stdin if line.strip()]


def _attributes(specs: Sequence[str]) -> dict[str, Any]:
    """``NAME=VALUE`` (String) or ``NAME:TYPE=VALUE`` (Number, String.custom ...) as message attributes."""
    attributes: dict[str, Any] = {}
    for spec in specs:
        name, separator, value = spec.partition("=")
        if not separator or not name:
            raise CliError(f"--attribute {spec!r} must be NAME=VALUE or NAME:TYPE=VALUE", EXIT["usage"])
        name, _, data_type = name.partition(":")
        attributes[name] = {"DataType": data_type or "String", "StringValue": value}
    return attributes


# --- stats -----------------------------------------------------------------------------------------


@app.command(cls=_Command)
def stats(
    queues: Annotated[list[str] | None, typer.Argument(metavar="QUEUE", help="Queues (URL, name, ARN or construct path).", show_default=False)] = None,
    stack: Annotated[str | None, typer.Option("--stack", help="Every queue of this deployed stack, found through CloudFormation.", show_default=False)] = None,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    json_output: JsonOpt = False,
) -> int:
    """Visible, in flight and delayed messages, age of the oldest message, and DLQ depth of queues."""
    aws = Aws(endpoint_url=endpoint_url, region=region, profile=profile)
    labels: list[tuple[str, Queue]] = [(spec, aws.queue(spec)) for spec in queues or []]
    if stack is not None:
        for found in sorted(aws.stack_queues(stack), key=lambda q: (q.dead_letter, q.path)):
            labels.append((found.path.removesuffix("/Resource").removesuffix("/Resource"), aws.queue(found.physical_id.rsplit("/", 1)[-1])))
    if not labels:
        raise CliError("name at least one QUEUE, or --stack STACK", EXIT["usage"])
    rows = [_stats_row(aws, label, target) for label, target in labels]
    if json_output:
        _print_json(rows)
        return 0
    table = Table(title="SQS queues", show_lines=False)
    for column in ("queue", "type", "visible", "in flight", "delayed", "oldest", "DLQ", "DLQ depth"):
        numeric = column in ("visible", "in flight", "delayed", "DLQ depth")
        table.add_column(column, justify="right" if numeric else "left", overflow="fold", no_wrap=numeric)
    for row in rows:
        age = row["oldest_message_age_seconds"]
        table.add_row(
            row["label"], row["type"], str(row["visible"]), str(row["in_flight"]), str(row["delayed"]),
            "-" if age is None else _duration(age), row["dead_letter_queue"] or "-",
            "-" if row["dead_letter_depth"] is None else str(row["dead_letter_depth"]),
        )
    _console().print(table)
    return 0


def _stats_row(aws: Aws, label: str, target: Queue) -> dict[str, Any]:
    attributes = target.attributes
    row: dict[str, Any] = {
        "label": label,
        "queue": target.name,
        "url": target.url,
        "type": "FIFO" if target.fifo else "standard",
        "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
        "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        "delayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        "oldest_message_age_seconds": _oldest_age(aws, target.name),
        "dead_letter_queue": None,
        "dead_letter_depth": None,
    }
    if target.dead_letter_arn is not None:
        dead_letter = aws.queue(target.dead_letter_arn)
        row["dead_letter_queue"] = dead_letter.name
        row["dead_letter_depth"] = int(dead_letter.attributes.get("ApproximateNumberOfMessages", 0))
    return row


def _oldest_age(aws: Aws, queue_name: str) -> float | None:
    """CloudWatch's ``ApproximateAgeOfOldestMessage`` of the last 15 minutes; SQS has no attribute for it.
    None when there is no data point (an idle queue, an emulator) or CloudWatch cannot be read."""
    now = datetime.now(timezone.utc)
    try:
        points = aws.client("cloudwatch").get_metric_statistics(
            Namespace="AWS/SQS",
            MetricName="ApproximateAgeOfOldestMessage",
            Dimensions=[{"Name": "QueueName", "Value": queue_name}],
            StartTime=now - timedelta(minutes=15),
            EndTime=now,
            Period=60,
            Statistics=["Maximum"],
        )["Datapoints"]
    except Exception:  # the age is a nice-to-have: the counts above come from SQS itself
        return None
    if not points:
        return None
    return float(max(points, key=lambda p: p["Timestamp"])["Maximum"])


def _duration(seconds: float) -> str:
    """``3 h 5 min``, ``4 min 10 s``, ``12 s``."""
    whole = int(seconds)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


# --- failed ------------------------------------------------------------------------------------------


@app.command(cls=_Command)
def failed(
    queue: QueueArg,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Show at most this many messages.")] = 20,
    body_width: Annotated[int, typer.Option("--body-width", min=10, help="Characters of each body in the table.")] = 60,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    json_output: JsonOpt = False,
) -> int:
    """Show the messages of a dead-letter queue (QUEUE or the DLQ of QUEUE) and leave them there, in order."""
    aws = Aws(endpoint_url=endpoint_url, region=region, profile=profile)
    target = aws.queue(queue)
    dead_letter = aws.queue(target.dead_letter_arn) if target.dead_letter_arn else target
    messages = peek_messages(dead_letter.url, max_messages=limit, client=aws.sqs)
    total = int(dead_letter.attributes.get("ApproximateNumberOfMessages", 0))
    in_flight = int(dead_letter.attributes.get("ApproximateNumberOfMessagesNotVisible", 0))
    if json_output:
        _print_json({
            "queue": dead_letter.url,
            "approximate_total": total,
            "approximate_in_flight": in_flight,
            "messages": [_message_json(m) for m in messages],
        })
        return 0
    if not messages:
        # No table of nothing: say what the queue holds. An empty receive does not prove the queue empty.
        if total == 0 and in_flight == 0:
            _console().print(f"{dead_letter.name} is empty: no failed messages.")
        else:
            _console().print(
                f"{dead_letter.name}: no message could be received now, though it holds about {total} visible and "
                f"{in_flight} in flight: another consumer holds them, or their visibility timeout has not ended; "
                "try again later."
            )
        return 0
    table = Table(title=f"{dead_letter.name}: {len(messages)} of about {total} message(s), left in the queue")
    for column in ("#", "message id", "group", "receives", "sent", "first received", "body"):
        table.add_column(column, overflow="fold" if column == "message id" else "ellipsis", no_wrap=column != "message id")
    for position, message in enumerate(messages, 1):
        body = message.body if len(message.body) <= body_width else message.body[: body_width - 3] + "..."
        table.add_row(
            str(position), message.message_id, message.group_id or "-", str(message.receive_count),
            _time(message.sent_at), _time(message.first_received_at), body,
        )
    console = _console()
    console.print(table)
    if dead_letter.fifo and len(messages) < min(limit, total):
        console.print("FIFO: a group's later messages show only after its earlier ones leave the queue.")
    return 0


def _message_json(message: ReceivedMessage) -> dict[str, Any]:
    return {
        "message_id": message.message_id,
        "group_id": message.group_id,
        "receive_count": message.receive_count,
        "sent_at": _time(message.sent_at),
        "first_received_at": _time(message.first_received_at),
        "body": message.body,
        "attributes": dict(message.attributes),
        "message_attributes": {k: {kk: vv for kk, vv in v.items() if kk in ("DataType", "StringValue")} for k, v in message.message_attributes.items()},
    }


def _time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


# --- redrive -----------------------------------------------------------------------------------------


@app.command(name="redrive", cls=_Command)
def redrive_command(
    queue: QueueArg,
    count: Annotated[int | None, typer.Option("--count", "-n", min=1, help="Move at most this many (default: all).", show_default=False)] = None,
    to: Annotated[str | None, typer.Option("--to", help="Move to this queue instead of the DLQ's source.", show_default=False)] = None,
    max_per_second: Annotated[int | None, typer.Option("--max-per-second", min=1, max=500, help="Rate of SQS's move task.", show_default=False)] = None,
    in_flight_timeout: Annotated[float, typer.Option("--in-flight-timeout", min=0, help="Seconds to keep waiting, after the last progress, for DLQ messages in flight, delayed or behind a locked FIFO group.")] = DEFAULT_IN_FLIGHT_TIMEOUT,
    visibility_timeout: Annotated[int, typer.Option("--visibility-timeout", min=1, help="Seconds a DLQ message stays hidden while it is moved (receive / send / delete); an interrupted run leaves its messages hidden this long.")] = 60,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    json_output: JsonOpt = False,
) -> int:
    """Move the messages of a DLQ (QUEUE, or the DLQ of QUEUE) back to its source queue, each exactly once.

    Exits 0 when nothing it was asked to move is left in the DLQ, 8 when some is (the output says how many and
    why: in flight elsewhere, delayed, behind a locked FIFO group, not moved)."""
    aws = Aws(endpoint_url=endpoint_url, region=region, profile=profile)
    target = aws.queue(queue)
    if target.dead_letter_arn:  # QUEUE is the source: move its DLQ back into it
        dead_letter, destination = aws.queue(target.dead_letter_arn), target.url
    else:
        dead_letter, destination = target, None
    if to is not None:
        destination = aws.queue(to).url
    total = int(dead_letter.attributes.get("ApproximateNumberOfMessages", 0))
    with _progress(min(total, count or total), f"moving from {dead_letter.name}", not json_output) as update:
        result = redrive(
            dead_letter.url,
            destination_url=destination,
            max_messages=count,
            client=aws.sqs,
            max_per_second=max_per_second,
            on_progress=lambda p: update(p.moved, p.total),
            in_flight_timeout=in_flight_timeout,
            visibility_timeout=visibility_timeout,
        )
    if json_output:
        _print_json(
            {
                **{k: v for k, v in vars(result).items() if k != "failures"},
                "ok": result.ok,
                "remaining_total": result.remaining_total,
                "failures": [vars(f) for f in result.failures],
            }
        )
    else:
        console = _console()
        where = result.destination or "its source queue"
        console.print(f"moved {result.moved} message(s) from {dead_letter.name} to {where} ({result.method})")
        if result.remaining_total:
            reasons = "; ".join(f"{count} {REMAINING_REASONS[reason]}" for reason, count in result.remaining.items())
            console.print(f"{result.remaining_total} message(s) remain in {dead_letter.name}: {reasons}")
        if result.possible_duplicates:
            console.print(f"{result.possible_duplicates} message(s) may be in {where} twice (a send was repeated after its answer was lost)")
        for failure in result.failures:
            console.print(f"  left in the DLQ: {failure.message_id} (group {failure.group_id or '-'}): {failure.code}: {failure.message}")
    if result.ok:
        return 0
    return EXIT["incomplete"] if result.left_undone else EXIT["failed"]


# --- purge -------------------------------------------------------------------------------------------


@app.command(cls=_Command)
def purge(
    queue: QueueArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    dead_letter: Annotated[bool, typer.Option("--dead-letter", help="Allow purging a dead-letter queue.")] = False,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    json_output: JsonOpt = False,
) -> int:
    """Delete every message of QUEUE (asks first; refuses a dead-letter queue unless --dead-letter)."""
    aws = Aws(endpoint_url=endpoint_url, region=region, profile=profile)
    target = aws.queue(queue)
    sources = aws.is_dead_letter_queue(target)
    if sources and not dead_letter:
        names = ", ".join(url.rsplit("/", 1)[-1] for url in sources)
        raise CliError(
            f"refusing to purge {target.name}: it is the dead-letter queue of {names} and holds the evidence of "
            "failures; pass --dead-letter to purge it anyway",
            EXIT["usage"],
        )
    count = int(target.attributes.get("ApproximateNumberOfMessages", 0)) + int(
        target.attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
    )
    if not yes and not typer.confirm(f"Delete all {count} message(s) of {target.name}? This cannot be undone", default=False):
        raise CliError(f"not purged: {target.name} keeps its messages", EXIT["failed"])
    aws.sqs.purge_queue(QueueUrl=target.url)
    if json_output:
        _print_json({"queue": target.url, "purged": True, "approximate_messages": count})
    else:
        _console().print(f"purged {target.name} (about {count} message(s))")
    return 0


# --- diagram -----------------------------------------------------------------------------------------


@app.command(cls=_Command)
def diagram(
    assembly: Annotated[Path, typer.Argument(metavar="CDK_OUT", help="A synthesized cloud assembly (cdk synth's output).")] = Path("cdk.out"),
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the diagram to this file instead of stdout.", show_default=False)] = None,
    readme: Annotated[Path | None, typer.Option("--readme", help="Replace the diagram between the markers of this Markdown file.", show_default=False)] = None,
) -> int:
    """Draw the producers, queues, consumers, DLQs, alarms and topics of a cloud assembly as Mermaid."""
    from .diagram import render_assembly, replace_in_markdown

    text = render_assembly(assembly)
    if readme is not None:
        readme.write_text(replace_in_markdown(readme.read_text(encoding="utf-8"), text), encoding="utf-8")
        _console(stderr=True).print(f"updated the diagram in {readme}")
    if output is not None:
        output.write_text(text, encoding="utf-8")
    if output is None and readme is None:
        sys.stdout.write(text)
    return 0
