"""Escalations: breached clocks stored, listed, acknowledged and pushed to webhooks."""
