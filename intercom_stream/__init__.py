"""The intercom-stream command line, shared settings and topic administration."""
