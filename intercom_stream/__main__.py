"""Allows `python -m intercom_stream`."""

import sys

from intercom_stream.cli import main

sys.exit(main())
