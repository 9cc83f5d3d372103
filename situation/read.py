"""The picture as JSON-ready data: per area the decided and recommended level, reasons, indicators, anticipation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from alueturva.i18n import LANGUAGES
from situation.areas import Area
from situation.config import BASE_LEVEL, ReadinessConfig, change_between
from situation.engine import AreaPicture, Reason, SeriesStatus
from situation.explain import reason_text
from situation.models import ReadinessDecision, StatusReport
from situation.schemas import DecisionRead, StatusReportOut


def area_view(
    area: Area,
    picture: AreaPicture,
    decision: ReadinessDecision | None,
    report: StatusReport | None,
    config: ReadinessConfig,
    names: dict[str, dict[str, str]],
    actor_names: dict[str, str],
) -> dict[str, Any]:
    decided = _decided_view(decision, actor_names)
    recommended = picture.recommendation.level
    return {
        "key": area.key,
        "kind": area.kind,
        "names": area.names,
        "parent": area.parent,
        "municipalities": list(area.municipalities),
        "decided": decided,
        "recommended": {
            "level": recommended,
            "reasons": [_reason_view(reason, config, names) for reason in picture.recommendation.reasons],
        },
        "coverage": {"current": picture.coverage.current, "total": picture.coverage.total},
        "differs": recommended is not None and decided["level"] != recommended,
        "indicators": [_status_view(status) for status in picture.statuses],
        "unknown_indicators": [s.indicator.key for s in picture.statuses if s.status == "unknown"],
        "anticipation": [
            {
                "indicator": status.indicator.key,
                "area": status.area_key,
                "value": status.value,
                "next_level": status.projection.next_level,
                "threshold": status.projection.threshold,
                "slope_per_hour": round(status.projection.slope_per_hour, 6),
                "crosses_at": status.projection.crosses_at.isoformat(),
                "recommended_if_crossed": level_then,
            }
            for status, level_then in picture.anticipation
            if status.projection is not None
        ],
        "status_report": _report_view(report) if report else None,
    }


def decision_read(decision: ReadinessDecision) -> DecisionRead:
    """A decision row as it is shown (``situation.decisions``, ``situation.history``, a drill's exercise levels)."""
    return DecisionRead(
        id=decision.id,
        area=decision.area_key,
        level=decision.level,
        previous_level=decision.previous_level,
        recommended_level=decision.recommended_level,
        change=change_between(decision.previous_level, decision.level),
        reason=decision.reason,
        decided_by=decision.decided_by,
        decided_at=decision.decided_at,
        drill_id=decision.drill_id,
    )


def _decided_view(decision: ReadinessDecision | None, actor_names: dict[str, str]) -> dict[str, Any]:
    if decision is None:
        return {
            "level": BASE_LEVEL,
            "decision_id": None,
            "decided_at": None,
            "decided_by": None,
            "decided_by_name": None,
            "reason": None,
            "drill_id": None,
        }
    return {
        "level": decision.level,
        "decision_id": decision.id,
        "decided_at": decision.decided_at.isoformat(),
        "decided_by": decision.decided_by,
        "decided_by_name": actor_names.get(decision.decided_by, decision.decided_by),
        "reason": decision.reason,
        "drill_id": decision.drill_id,
    }


def _reason_view(reason: Reason, config: ReadinessConfig, names: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {**reason.as_dict(), "text": reason_text(reason, config, names)}


def _status_view(status: SeriesStatus) -> dict[str, Any]:
    indicator = status.indicator
    return {
        "indicator": indicator.key,
        "names": indicator.names.model_dump(),
        "domain": indicator.domain,
        "unit": indicator.unit_in("en"),
        "unit_names": {language: indicator.unit_in(language) for language in LANGUAGES},
        "direction": indicator.direction,
        "area": status.area_key,
        "status": status.status,
        "level": status.level,
        "value": status.value,
        "observed_at": status.observed_at.isoformat() if status.observed_at else None,
        "stale": status.status == "unknown" and status.observed_at is not None,
        "fresh_until": (status.observed_at + timedelta(minutes=indicator.freshness_minutes)).isoformat()
        if status.observed_at
        else None,
        "thresholds": dict(indicator.thresholds.items()),
        "threshold": status.threshold,
        "held": status.held,
        "trend_per_hour": None if status.trend_per_hour is None else round(status.trend_per_hour, 6),
        "since": status.since.isoformat() if status.since else None,
    }


def _report_view(report: StatusReport) -> dict[str, Any]:
    return status_report_out(report).model_dump(mode="json")


def status_report_out(report: StatusReport) -> StatusReportOut:
    return StatusReportOut(
        id=report.id,
        municipality=report.area_key,
        management_group_convened=report.management_group_convened,
        staff_availability_percent=report.staff_availability_percent,
        key_services_running=report.key_services_running,
        services_note=report.services_note,
        reporter_name=report.reporter_name,
        reported_by=report.reported_by,
        reported_at=report.reported_at,
    )
