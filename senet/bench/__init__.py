"""The benchmark harness behind ``senet bench``: SE models timed against their plain twins.

- :mod:`senet.bench.timing`: interleaved timing of zero-argument steps (ABBA order, medians).
- :mod:`senet.bench.config`: :class:`BenchConfig`, one field per option of ``senet bench``.
- :mod:`senet.bench.peers`: the networks timed beside senet's with ``--peers`` (a plain-PyTorch
  reference, timm when it imports).
- :mod:`senet.bench.runner`: the settings of a run, the steps timed and :func:`run_bench`.
- :mod:`senet.bench.report`: SE overheads, speed-ups, peer comparisons, bootstrap intervals, the table.
- :mod:`senet.bench.targets`: targets read from a file and judged (none are built in).

It sits above :mod:`senet.api` (it builds models by name) and :mod:`senet.fast` (it times
``optimize``); nothing below imports it. Scripts that time single ops live in ``benchmarks/``.
"""
