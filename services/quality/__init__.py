"""The quality department's service."""
