"""HTTP in: verifies Intercom's signature and makes each notification durable on Kafka."""
