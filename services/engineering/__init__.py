"""The engineering department's service."""
