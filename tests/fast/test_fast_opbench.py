"""The fused-op micro-benchmark (senet.fast.opbench) runs and reports its three medians."""

from __future__ import annotations

import json

from senet.fast.opbench import main


def test_opbench_prints_three_medians(capsys) -> None:
    assert main(["--shape", "2,16,4,4", "--reps", "3"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["median_ms"]) == {"plain", "fused", "no_se"} and all(
        v > 0 for v in report["median_ms"].values()
    )
