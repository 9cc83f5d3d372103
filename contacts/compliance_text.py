"""The compliance report in words, for a person, in Finnish, Swedish or English: each text wholly in its language,
the time in Finnish time. What the agreement requires and what is only recommended are shown apart."""

from __future__ import annotations

from pathlib import Path

from alueturva.i18n import format_time
from alueturva.texts import load_texts
from contacts.compliance import ComplianceReport, Finding, RequirementResult, RuleResult


def _text(key: str, language: str, /, **values: object) -> str:
    return load_texts(Path(__file__).with_name("texts.yaml")).text(key, language, **values)


def finding_text(finding: Finding, language: str) -> str:
    person = _text("deputy", language, person=finding.person) if finding.deputy else finding.person
    values = {"person": person, "missing": finding.missing, "of": finding.of}
    return _text(finding.code, language, **values)


def rule_text(rule: RuleResult, area_names: dict[str, dict[str, str]], language: str) -> str:
    names = {area: names.get(language, area) for area, names in area_names.items()}
    text = _text("rule", language, group=rule.group_names.get(language, rule.rule), areas=", ".join(names.values()))
    said = [_text("ok", language)] if rule.ok else []
    said += [
        _text("rule_members", language, area=names.get(area, area), count=count)
        for area, count in rule.members_per_area.items()
        if count != 1
    ]
    if rule.county_members:
        said.append(_text("rule_county", language, count=rule.county_members))
    if rule.outside_areas:
        said.append(_text("rule_outside", language, count=rule.outside_areas))
    return f"{text}: {'; '.join(said)}"


def _describe(result: RequirementResult, language: str) -> str:
    status = _text(result.status, language)
    tag = f"{_text('recommended', language)}: {status}" if result.kind == "recommended" else status
    names = ", ".join(
        holder.name + (f" ({_text('deputies', language)}: {', '.join(holder.deputies)})" if holder.deputies else "")
        for holder in result.named
    )
    line = f"  [{tag}] {result.role_name.get(language, result.role_name['fi'])}: {names or '—'}"
    if result.problems:
        line += f" ({'; '.join(finding_text(finding, language) for finding in result.problems)})"
    if result.recommendations:
        advice = "; ".join(finding_text(finding, language) for finding in result.recommendations)
        line += f"\n      {_text('advice', language)}: {advice}"
    return line


def render_text(report: ComplianceReport, language: str = "fi") -> str:
    """The report as plain text for a person (the agreement's follow-up)."""
    lines = [
        f"{_text('title', language)} ({format_time(report.generated_at, language)})",
        _text("required_summary", language, met=report.met, total=report.total),
        _text("recommended_summary", language, met=report.recommendations_met, total=len(report.all_results())),
        "",
    ]
    for results in report.organisations.values():
        lines.append(results[0].scope_names.get(language, results[0].scope))
        lines += [_describe(result, language) for result in results]
    for result in report.areas:
        lines.append(f"{result.scope_names.get(language, result.scope)} ({_text('area', language)})")
        lines.append(_describe(result, language))
    for result in report.region:
        lines.append(result.scope_names.get(language, result.scope))
        lines.append(_describe(result, language))
    if report.rules:
        lines.append(_text("rules", language))
        for rule in report.rules:
            status = _text("ok" if rule.ok else "incomplete", language)
            lines.append(f"  [{status}] {rule_text(rule, report.area_names, language)}")
    return "\n".join(lines) + "\n"
