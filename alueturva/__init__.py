"""Alueturva: the preparedness situational-awareness and alerting service of Central Ostrobothnia.

The layers (docs/architecture.md): the kernel (this package) imports no domain and no face; the domains
(contacts, situation, alerting, drills) import the kernel and, one way, each other, never a face; the faces
(``alueturva.app``: HTTP, CLI, web pages, wiring) import everything. ``tests/test_layers.py`` enforces it.
"""
