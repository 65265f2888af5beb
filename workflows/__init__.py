"""Temporal workflows: deterministic, no I/O. One OrderWorkflow per order, and helpers."""
