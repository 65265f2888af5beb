"""The production department's service."""
