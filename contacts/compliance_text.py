"""The compliance report in words, for a person, in Finnish, Swedish or English: each text wholly in its language,
the time in Finnish time. What the agreement requires and what is only recommended are shown apart."""

from __future__ import annotations

from alueturva.i18n import format_time
from contacts.compliance import ComplianceReport, Finding, RequirementResult, RuleResult

WORDS: dict[str, dict[str, str]] = {
    "fi": {
        "title": "Yhteyshenkilöiden nimeäminen",
        "required_summary": "Sopimuksen vaatimukset: {met}/{total} täytetty",
        "recommended_summary": "Suositukset: {met}/{total} toteutunut",
        "ok": "kunnossa",
        "incomplete": "puutteellinen",
        "missing": "puuttuu",
        "recommended": "suositus",
        "area": "alue",
        "rules": "Kokoonpanosäännöt",
        "deputies": "varahenkilö",
        "advice": "suositus",
        "not_named": "{missing}/{of} nimeämättä",
        "unreachable": "{person}: ei matkapuhelinnumeroa eikä sähköpostiosoitetta",
        "inactive": "{person}: ei aktiivinen",
        "no_deputy": "varahenkilöä ei ole nimetty",
        "no_mobile": "{person}: ei matkapuhelinnumeroa",
        "no_email": "{person}: ei sähköpostiosoitetta",
        "deputy": "{person} (varahenkilö)",
        "rule": "{group}: yksi jäsen kultakin alueelta ({areas})",
        "rule_members": "{area}: {count} jäsentä",
        "rule_outside": "alueiden ulkopuolelta {count} jäsentä",
    },
    "sv": {
        "title": "Utsedda kontaktpersoner",
        "required_summary": "Avtalets krav: {met}/{total} uppfyllda",
        "recommended_summary": "Rekommendationer: {met}/{total} uppfyllda",
        "ok": "i ordning",
        "incomplete": "ofullständig",
        "missing": "saknas",
        "recommended": "rekommendation",
        "area": "område",
        "rules": "Regler för sammansättningen",
        "deputies": "ersättare",
        "advice": "rekommendation",
        "not_named": "{missing} av {of} inte utsedda",
        "unreachable": "{person}: varken mobilnummer eller e-postadress",
        "inactive": "{person}: inte aktiv",
        "no_deputy": "ingen ersättare utsedd",
        "no_mobile": "{person}: inget mobilnummer",
        "no_email": "{person}: ingen e-postadress",
        "deputy": "{person} (ersättare)",
        "rule": "{group}: en medlem från varje område ({areas})",
        "rule_members": "{area}: {count} medlemmar",
        "rule_outside": "{count} medlemmar utanför områdena",
    },
    "en": {
        "title": "Named contacts",
        "required_summary": "Required by the agreement: {met}/{total} met",
        "recommended_summary": "Recommendations: {met}/{total} met",
        "ok": "ok",
        "incomplete": "incomplete",
        "missing": "missing",
        "recommended": "recommended",
        "area": "area",
        "rules": "Composition rules",
        "deputies": "deputy",
        "advice": "recommended",
        "not_named": "{missing} of {of} not named",
        "unreachable": "{person}: neither a mobile number nor an email address",
        "inactive": "{person}: not active",
        "no_deputy": "no deputy named",
        "no_mobile": "{person}: no mobile number",
        "no_email": "{person}: no email address",
        "deputy": "{person} (deputy)",
        "rule": "{group}: one member from each area ({areas})",
        "rule_members": "{area}: {count} members",
        "rule_outside": "{count} members from outside the areas",
    },
}


def finding_text(finding: Finding, language: str) -> str:
    words = WORDS.get(language, WORDS["fi"])
    person = words["deputy"].format(person=finding.person) if finding.deputy else finding.person
    return words[finding.code].format(person=person, missing=finding.missing, of=finding.of)


def rule_text(rule: RuleResult, area_names: dict[str, dict[str, str]], language: str) -> str:
    words = WORDS.get(language, WORDS["fi"])
    names = {area: names.get(language, area) for area, names in area_names.items()}
    text = words["rule"].format(group=rule.group_names.get(language, rule.rule), areas=", ".join(names.values()))
    if rule.ok:
        return f"{text}: {words['ok']}"
    problems = [
        words["rule_members"].format(area=names.get(area, area), count=count)
        for area, count in rule.members_per_area.items()
        if count != 1
    ]
    if rule.outside_areas:
        problems.append(words["rule_outside"].format(count=rule.outside_areas))
    return f"{text}: {'; '.join(problems)}"


def _describe(result: RequirementResult, language: str) -> str:
    words = WORDS.get(language, WORDS["fi"])
    status = words[result.status]
    tag = f"{words['recommended']}: {status}" if result.kind == "recommended" else status
    names = ", ".join(
        holder.name + (f" ({words['deputies']}: {', '.join(holder.deputies)})" if holder.deputies else "")
        for holder in result.named
    )
    line = f"  [{tag}] {result.role_name.get(language, result.role_name['fi'])}: {names or '—'}"
    if result.problems:
        line += f" ({'; '.join(finding_text(finding, language) for finding in result.problems)})"
    if result.recommendations:
        advice = "; ".join(finding_text(finding, language) for finding in result.recommendations)
        line += f"\n      {words['advice']}: {advice}"
    return line


def render_text(report: ComplianceReport, language: str = "fi") -> str:
    """The report as plain text for a person (the agreement's follow-up)."""
    words = WORDS.get(language, WORDS["fi"])
    lines = [
        f"{words['title']} ({format_time(report.generated_at, language)})",
        words["required_summary"].format(met=report.met, total=report.total),
        words["recommended_summary"].format(met=report.recommendations_met, total=len(report.all_results())),
        "",
    ]
    for results in report.organisations.values():
        lines.append(results[0].scope_names.get(language, results[0].scope))
        lines += [_describe(result, language) for result in results]
    for result in report.areas:
        lines.append(f"{result.scope_names.get(language, result.scope)} ({words['area']})")
        lines.append(_describe(result, language))
    for result in report.region:
        lines.append(result.scope_names.get(language, result.scope))
        lines.append(_describe(result, language))
    if report.rules:
        lines.append(words["rules"])
        for rule in report.rules:
            lines.append(
                f"  [{words['ok' if rule.ok else 'incomplete']}] {rule_text(rule, report.area_names, language)}"
            )
    return "\n".join(lines) + "\n"
