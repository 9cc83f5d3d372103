"""Append-only audit log of every state change a person causes (docs/architecture.md §4)."""
