"""What every process of the service does before its work, in one place.

The API (``alueturva.app.http.create_app``), every command of the CLI (when it runs, never for ``--help``), the RQ
worker and the scheduler call ``boot``: the domains are connected (a readiness decision's reactions reach the alerting
domain, the picture knows drills; ``wiring.connect_domains``). A process that runs send jobs (``alueturva worker``,
and ``alueturva up`` with its in-process worker) boots with ``worker=True``: the send path is loaded before the first
job. Before serving anything, the CLI checks the whole configuration with ``configuration_problems``.
"""

from __future__ import annotations


def boot(*, worker: bool = False) -> None:
    """Connect the domains (idempotent); with ``worker``, also load the send path now, so that a forking RQ worker
    starts each job with it in memory."""
    from alueturva.app.wiring import connect_domains

    connect_domains()
    if worker:
        from alerting.public import warm_up

        warm_up()


def configuration_problems() -> list[str]:
    """Every setting checked together (``alueturva.config_check``), then every configuration file and template
    (``wiring.validate_configuration``); empty when the service may start."""
    from alueturva.app.wiring import validate_configuration
    from alueturva.config import ConfigError
    from alueturva.config_check import load_problems
    from alueturva.settings import get_settings

    settings, problems = load_problems()
    if settings is None:
        return problems
    get_settings.cache_clear()
    try:
        validate_configuration()
    except ConfigError as exc:
        problems.append(str(exc))
    return problems
