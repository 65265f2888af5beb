"""The human-task mechanism: kinds, the inbox tables, and the activities that keep them."""
