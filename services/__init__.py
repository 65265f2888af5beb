"""The eight department services."""
