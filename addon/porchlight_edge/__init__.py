"""Porchlight edge service: local, private video doorbell capture, motion and API."""

__version__ = "0.3.1"
