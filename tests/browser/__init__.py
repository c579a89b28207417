"""Browser tests: scripts/develop's Home Assistant used in headless Chromium."""
