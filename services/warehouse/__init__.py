"""The warehouse department's service."""
