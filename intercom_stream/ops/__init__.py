"""Operator tools: dead-letter inspection and requeue, replay, and their Kafka plumbing."""
