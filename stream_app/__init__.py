"""Stream processing: faust agents that route Intercom notifications to handlers."""
