"""The composition root: the gateway app, the worker, schedules, the runner and the CLI."""
