"""Benchmarks. Each module runs with `python -m bench.<name>` and writes its section of BENCHMARKS.md."""
