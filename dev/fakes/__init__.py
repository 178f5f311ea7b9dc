"""The fake Intercom REST API, run by the tests in-process and by the benchmarks standalone."""
