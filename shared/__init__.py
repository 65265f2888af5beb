"""orderflow's common package: settings, database, auth, tasks, escalations, telemetry."""
