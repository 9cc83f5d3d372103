"""Alerting: alerts, recipients, deliveries over SMS and email, acknowledgements, escalation and CAP export."""
