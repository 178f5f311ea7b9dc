"""Operator reads of Intercom (`intercom-stream intercom …`), paced to a share of the budget."""
