"""Slack: Bolt app, Block Kit rendering, proactive sender, manifest and roster."""
