"""MkDocs hooks of the documentation site (mkdocs.yml `hooks:`).

The benchmark plots live where `make bench` writes them (bench/results/*.png); the site serves them as
benchmarks/<name>.png, so the Benchmarks page shows the committed figures without a copy in docs/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
PLOTS = ("synth.png", "runtime.png")


def on_files(files: Files, config: Any) -> Files:
    for name in PLOTS:
        source = ROOT / "bench" / "results" / name
        if source.is_file():
            files.append(File.generated(config, f"benchmarks/{name}", abs_src_path=str(source)))
    return files
