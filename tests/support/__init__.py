"""Support code shared by the tests: the broker, a second broker to stop, Kafka I/O, waiting."""
