"""Benchmarks run by ``make bench``: each ``bench_*.py`` module's ``run()`` returns rows for results.md.

A row compares a measured value with a baseline measured in the same run, because absolute times on
shared machines are noisy: {"section", "name", "value", "unit", "baseline_name", "baseline", "ratio", "note"}.
"""
