"""benchmarks/opbench.py: the SE-tail timings script prints its medians as JSON."""

from __future__ import annotations

from bench_scripts import load_script


def test_opbench_prints_three_medians(capsys) -> None:
    import json

    main = load_script("opbench").main

    assert main(["--shape", "2,16,4,4", "--reps", "3"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["median_ms"]) == {"plain", "fused", "no_se"} and all(
        v > 0 for v in report["median_ms"].values()
    )
