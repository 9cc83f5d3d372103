"""Action cards (toimintaohjekortit): what each preparedness role does when a readiness level is raised, in a drill
or by hand, and whether it was done (docs/action-cards.md)."""
