"""Escalation routes (`/escalations`) over the escalation table of shared/escalations."""
