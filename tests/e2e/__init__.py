"""End-to-end tests: the real add-on as a subprocess, the integration in HA's test harness."""
