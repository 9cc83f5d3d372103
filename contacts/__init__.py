"""Organisations, people, groups, the role catalogue, roster import/export and roster compliance."""
