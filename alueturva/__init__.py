"""Alueturva: the preparedness situational-awareness and alerting service of Central Ostrobothnia."""
