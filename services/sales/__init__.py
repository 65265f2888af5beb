"""The sales department's service."""
