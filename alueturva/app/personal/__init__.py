"""The wiring of personal-data care: every domain's holders (their own ``personal_data.py``), registered once per
process by ``register_holders`` (``wiring.connect_domains``). A domain that keeps more about people adds its
``HOLDERS`` here."""

from __future__ import annotations


def register_holders() -> None:
    from actioncards.personal_data import HOLDERS as ACTIONCARDS
    from alerting.personal_data import HOLDERS as ALERTING
    from alueturva.audit.personal_data import HOLDERS as AUDIT
    from alueturva.auth.personal_data import HOLDERS as AUTH
    from alueturva.personal.holders import register
    from contacts.personal_data import HOLDERS as CONTACTS
    from drills.personal_data import HOLDERS as DRILLS

    register(*CONTACTS, *ALERTING, *DRILLS, *ACTIONCARDS, *AUDIT, *AUTH)
