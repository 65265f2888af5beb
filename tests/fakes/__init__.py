"""Local fakes of the platforms the escalation bots send to (tests only)."""
