"""Microsoft Teams adapter on botbuilder-core (every botbuilder import stays in this folder)."""
