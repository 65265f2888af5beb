"""The procurement department's service."""
