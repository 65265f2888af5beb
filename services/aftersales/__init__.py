"""The aftersales department's service."""
