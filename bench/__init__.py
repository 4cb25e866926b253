"""Benchmarks for ``feeds``: ``python -m bench`` (see ``bench/README.md``).

Modules: ``data`` (deterministic synthetic articles and configs), ``measure`` (a subprocess
with wall time and peak RSS), ``feedserver`` (local feeds with ETag / 304), ``baselines``
(feedgen-only and lxml streaming writers), ``scenarios`` (each scenario), ``run`` (plan,
table, targets), ``profile`` (a scenario in-process under cProfile).
"""
