"""Support code shared by the tests: the broker they run against, bounded waiting."""
