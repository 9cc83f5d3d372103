"""The roles an API key (or a person) has, and what each may do. Free of the database, so that the command line can
name the roles without loading it."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    admin = "admin"
    operator = "operator"
    reporter = "reporter"
    viewer = "viewer"


# What each role may do besides its own: an admin may do anything, an operator may also read and report.
GRANTS: dict[Role, frozenset[Role]] = {
    Role.admin: frozenset(Role),
    Role.operator: frozenset({Role.operator, Role.viewer, Role.reporter}),
    Role.reporter: frozenset({Role.reporter}),
    Role.viewer: frozenset({Role.viewer}),
}
