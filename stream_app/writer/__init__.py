"""The Intercom writer: sends outbound commands to Intercom's REST API within its rate limits."""
