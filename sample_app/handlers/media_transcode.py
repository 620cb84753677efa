"""Starts transcoding for media uploads announced on the media queue by S3 event notifications.

Each SQS record carries one S3 notification (``{"Records": [...]}``); a record fails when a file has a
format we cannot transcode, so only that upload is retried and, after max_receive_count tries, lands in
the DLQ. S3's ``s3:TestEvent``, sent when the notification is configured, is acknowledged and ignored.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger

from constructs_sqs_runtime import sqs_batch_handler

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

logger = Logger()

PRESETS = {
    ".mp4": "hls-1080p",
    ".mov": "hls-1080p",
    ".mkv": "hls-1080p",
    ".wav": "aac-256k",
    ".mp3": "aac-256k",
    ".flac": "aac-256k",
}


class UnsupportedMediaError(ValueError):
    """An uploaded file has an extension with no transcoding preset."""


def transcode_jobs(notification: dict[str, Any]) -> list[dict[str, str]]:
    """One transcoding job per created object of an S3 notification; none for a test event."""
    if notification.get("Event") == "s3:TestEvent":
        return []
    jobs = []
    for entry in notification.get("Records", []):
        if not str(entry.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        bucket = entry["s3"]["bucket"]["name"]
        # S3 URL-encodes object keys in notifications ("my+video.mov" for "my video.mov").
        key = unquote_plus(entry["s3"]["object"]["key"])
        suffix = PurePosixPath(key).suffix.lower()
        if suffix not in PRESETS:
            raise UnsupportedMediaError(f"no transcoding preset for {key!r} ({suffix or 'no extension'})")
        output = str(PurePosixPath("transcoded") / PurePosixPath(key).with_suffix("").name)
        jobs.append({"bucket": bucket, "key": key, "preset": PRESETS[suffix], "output_prefix": output})
    return jobs


def start_transcoding(record: SQSRecord) -> list[dict[str, str]]:
    jobs = transcode_jobs(json.loads(record.body))
    for job in jobs:
        logger.info("transcoding job started", extra=job)
    return jobs


handler = sqs_batch_handler(start_transcoding, logger=logger)
