"""API keys and roles: every /api/v1 route names the roles that may call it."""
