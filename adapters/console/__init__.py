"""The console chat: the coach in a terminal, with no account and no server."""
