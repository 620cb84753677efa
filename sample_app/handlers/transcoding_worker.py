"""Transcodes one uploaded video per message: the Media use case's long job, run by the Transcoding worker service.

A rendition ladder of a feature-length video takes tens of minutes of CPU, past Lambda's 15 minutes, so the
Transcoding stack runs this handler on ECS Fargate with the package's worker entrypoint
(``python -m constructs_sqs_runtime.worker``, ``CONSTRUCTS_SQS_HANDLER=transcoding_worker:transcode``). The worker
calls :func:`transcode` with one message at a time, deletes it when the function returns, and holds task scale-in
protection while it runs, so a scale-in never stops a task in the middle of a video.

The message is an upload announced on the Media uploads topic (raw delivery): ``{"bucket": ..., "key": ...}``.
The sample stands in for the transcoder with a pause of ``TRANSCODING_SECONDS`` (default 0); with
``TRANSCODING_LEDGER`` set, each handled message appends one line (its id and key) to that file, which the local
integration test reads to prove that every message was handled exactly once.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import PurePosixPath
from typing import Any, Protocol

RENDITIONS = ("2160p", "1080p", "720p", "480p")
"""The rendition ladder each video gets."""

FORMATS = {".mp4", ".mov", ".mkv", ".webm"}
"""The containers the transcoder reads."""


class Message(Protocol):
    """What the handler reads of ``constructs_sqs_runtime``'s ``ReceivedMessage``."""

    message_id: str
    body: str


class UnsupportedVideoError(ValueError):
    """The upload is not a video the transcoder reads: the message is retried, then moves to the DLQ."""


def plan(upload: dict[str, Any]) -> list[dict[str, str]]:
    """One output per rendition of the uploaded video."""
    key = str(upload.get("key", ""))
    suffix = PurePosixPath(key).suffix.lower()
    if suffix not in FORMATS:
        raise UnsupportedVideoError(f"no transcoding for {key!r} ({suffix or 'no extension'})")
    stem = PurePosixPath(key).with_suffix("").name
    return [
        {"bucket": str(upload.get("bucket", "")), "key": key, "rendition": r, "output": f"transcoded/{stem}/{r}.m3u8"}
        for r in RENDITIONS
    ]


def transcode(message: Message) -> None:
    """Transcode the video of one upload message (see the module's docstring)."""
    upload = json.loads(message.body)
    outputs = plan(upload)
    time.sleep(float(os.environ.get("TRANSCODING_SECONDS", "0")))
    print(json.dumps({"event": "transcoded", "message_id": message.message_id, "outputs": len(outputs)}), flush=True)
    ledger = os.environ.get("TRANSCODING_LEDGER")
    if ledger:
        line = f"{message.message_id}\t{upload.get('key', '')}\n".encode()
        descriptor = os.open(ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, line)  # one write with O_APPEND: lines of concurrent workers never interleave
        finally:
            os.close(descriptor)
