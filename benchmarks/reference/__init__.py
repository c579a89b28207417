"""Reference implementations that our components are measured against."""
