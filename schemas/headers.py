"""Names of the Kafka record headers the ingress writes on every notification record."""

from __future__ import annotations

INTERCOM_TOPIC = "intercom-topic"
NOTIFICATION_ID = "intercom-notification-id"
RECEIVED_AT_MS = "received-at-ms"
SIGNATURE = "x-hub-signature"
INGRESS_INSTANCE = "ingress-instance"
REPLAY = "replay"
REPLAY_ID = "x-replay-id"
REPLAY_COUNT = "x-replay-count"
REPLAY_TRIGGER = "x-replay-trigger"
REPLAY_FORCE_RESEND = "x-replay-force-resend"
