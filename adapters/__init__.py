"""Platform adapters (console, Slack, Teams) and the command-line entry point."""
