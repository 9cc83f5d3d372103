"""Append-only audit log of every state change a person causes (DESIGN.md §4)."""
