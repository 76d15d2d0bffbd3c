"""``benchmarks/scale.py`` runs end to end on a tiny store, so the script cannot rot."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT


@pytest.mark.slow
def test_scale_benchmark_runs_and_prints_the_ratio(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(PROJECT_ROOT / "benchmarks" / "scale.py"),
            *("--rows", "30000", "--batch", "15000", "--repeat", "1", "--towns", "20"),
            *("--dir", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]),
        },
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert re.search(r"ingest \(write_batch\)\s+[\d,]+ rows/s median over 2 batches", out.stdout)
    ratio = re.search(r"ratio national/city: x(\d+\.\d\d) \(target <= 1\.5\)", out.stdout)
    assert ratio is not None, out.stdout
    assert float(ratio.group(1)) > 0
    # 30,000 rows of which Den Haag's share (~2.9 % of the clusters' weight) is in the city store
    counts = re.search(r"([\d,]+)-row GM0518 store", out.stdout)
    assert counts is not None
    assert 300 < int(counts.group(1).replace(",", "")) < 3000
    assert list(tmp_path.iterdir()) == []  # the stores went with their temporary folder
