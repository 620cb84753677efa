"""The sample Transcoding worker's handler, called as the worker entrypoint calls it: one message at a time."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from helpers import ROOT


def _handler() -> ModuleType:
    path = ROOT / "sample_app" / "handlers" / "transcoding_worker.py"
    spec = importlib.util.spec_from_file_location("transcoding_worker", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Message:
    message_id: str
    body: str


def test_one_rendition_per_rung_of_the_ladder() -> None:
    outputs = _handler().plan({"bucket": "videos", "key": "incoming/Feature Film.MOV"})
    assert [o["rendition"] for o in outputs] == ["2160p", "1080p", "720p", "480p"]
    assert outputs[0]["output"] == "transcoded/Feature Film/2160p.m3u8"


def test_an_upload_that_is_no_video_fails_its_message() -> None:
    handler = _handler()
    with pytest.raises(handler.UnsupportedVideoError, match=r"no transcoding for 'incoming/notes.txt' \(.txt\)"):
        handler.transcode(Message("m-1", json.dumps({"bucket": "videos", "key": "incoming/notes.txt"})))


def test_each_handled_message_appends_one_ledger_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    ledger = tmp_path / "ledger.tsv"
    monkeypatch.setenv("TRANSCODING_LEDGER", str(ledger))
    handler = _handler()
    for index in range(3):
        handler.transcode(Message(f"m-{index}", json.dumps({"bucket": "videos", "key": f"incoming/{index}.mp4"})))
    assert ledger.read_text().splitlines() == [f"m-{i}\tincoming/{i}.mp4" for i in range(3)]
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[0] == {"event": "transcoded", "message_id": "m-0", "outputs": 4}
