"""Cancelling an order: the activities (`activities`), the unwinding across departments
(`service`) and what the order has cost (`cost`). `CancellationActivities` is re-exported
here, where workflows and the worker import it from."""

from services.sales.cancellation.activities import CancellationActivities

__all__ = ["CancellationActivities"]
