"""Tooling the benchmarks and the tests share: the real processes and topic clean-up."""
