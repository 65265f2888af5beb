"""Inbox routes every department mounts (`/{dept}/tasks`) over the task tables of shared/tasks."""
