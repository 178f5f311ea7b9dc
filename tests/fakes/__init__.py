"""In-process fakes for the tests: the clock, the ingress's producer, faust's stand-ins.

The fake Intercom, which the benchmarks run too, is in `dev/fakes/`.
"""
