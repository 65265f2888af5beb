"""The planning department's service."""
