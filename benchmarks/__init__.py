"""Benchmarks run with `scripts/bench <name>`."""
