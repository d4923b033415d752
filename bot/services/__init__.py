"""Feature services: each takes its dependencies and returns Reply values."""
