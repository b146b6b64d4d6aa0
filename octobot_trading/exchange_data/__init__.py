"""Market data: per-exchange channels, managers, updaters and readiness."""
