"""Benchmark of build, load, query latency, memory and a SYNTHETIC 100k-chunk scale run: `python -m bench`."""
