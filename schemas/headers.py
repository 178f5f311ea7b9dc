"""Names of the Kafka record headers the ingress writes on every notification record."""

from __future__ import annotations

INTERCOM_TOPIC = "intercom-topic"
NOTIFICATION_ID = "intercom-notification-id"
RECEIVED_AT_MS = "received-at-ms"
SIGNATURE = "x-hub-signature"
INGRESS_INSTANCE = "ingress-instance"
REPLAY = "replay"
