"""The record of processing (docs/personal-data.md), made from ``config/personal_data.yaml`` in Finnish and English:
`alueturva retention record -o docs/personal-data.md`. A test keeps the file and the configuration the same."""

from __future__ import annotations

from typing import Literal

from alueturva.personal.retention import KINDS, PersonalDataConfig, load_personal_data_config

DocLanguage = Literal["fi", "en"]

_WORDS: dict[str, dict[DocLanguage, str]] = {
    "title": {"fi": "Henkilötiedot: seloste käsittelytoimista", "en": "Personal data: record of processing"},
    "generated": {
        "fi": "Tehty asetuksista (`config/personal_data.yaml`) komennolla `alueturva retention record`.",
        "en": "Made from the configuration (`config/personal_data.yaml`) by `alueturva retention record`.",
    },
    "rosters": {"fi": "Yhteyshenkilörekisteri", "en": "Rosters"},
    "kinds": {"fi": "Säilytysajat", "en": "How long it is kept"},
    "kind": {"fi": "tiedot", "en": "data"},
    "why": {"fi": "miksi", "en": "why"},
    "who": {"fi": "kuka näkee", "en": "who sees it"},
    "days": {"fi": "säilytysaika (päivää)", "en": "kept (days)"},
    "kept": {"fi": "säilytys", "en": "kept"},
    "after": {
        "fi": "Säilytysajan jälkeen henkilötiedot (nimet, numerot, osoitteet, vapaat tekstit) korvataan pysyvällä "
        'tunnisteella ("Henkilö 7f3a"); rivit jäävät, joten raporttien luvut eivät muutu. Ajastin ajaa tämän '
        "päivittäin pienissä erissä; `alueturva retention run --dry-run` kertoo, mitä muuttuisi. Istunnot poistetaan.",
        "en": "Past its time, personal data (names, numbers, addresses, free texts) becomes a stable pseudonym "
        '("Person 7f3a"); the rows stay, so reports keep their figures. The scheduler runs this daily in small '
        "batches; `alueturva retention run --dry-run` says what would change. Sessions are deleted.",
    },
    "processors": {"fi": "Minne tiedot menevät (henkilötietojen käsittelijät)", "en": "Where it goes (processors)"},
    "region": {"fi": "alue", "en": "region"},
    "used_when": {"fi": "käytössä kun", "en": "used when"},
    "rights": {"fi": "Rekisteröidyn oikeudet", "en": "A person's rights"},
    "rights_text": {
        "fi": "- Tarkastus: `GET /api/v1/people/{id}/data-export` (ylläpitäjä) antaa kaiken henkilöstä JSONina tai "
        "PDF:nä hänen kielellään; sama konsolin henkilösivulla.\n"
        "- Poisto: `POST /api/v1/people/{id}/erase` syineen (ylläpitäjä) poistaa henkilön ryhmistä ja korvaa "
        "jokaisen häntä koskevan rivin tunnisteella; raportit säilyttävät lukunsa. SQLite kirjoittaa vapautuneen "
        "tilan yli (`secure_delete`) ja tyhjentää lokinsa; PostgreSQL säilyttää vanhat riviversiot, kunnes "
        "`VACUUM` (tai autovacuum) käyttää tilan uudelleen: aja `VACUUM` poiston jälkeen.\n"
        "- Tekstiviesteissä ei lähetetä nimiä; lokeissa ja virheilmoituksissa ei ole puhelinnumeroita.",
        "en": "- Access: `GET /api/v1/people/{id}/data-export` (admin) gives everything about the person as JSON or "
        "as a PDF in their language; the same on the person's page in the console.\n"
        "- Erasure: `POST /api/v1/people/{id}/erase` with a reason (admin) takes the person out of every roster "
        "and replaces every row about them with a pseudonym; reports keep their figures. SQLite overwrites freed "
        "space (`secure_delete`) and empties its log; PostgreSQL keeps old row versions until `VACUUM` (or "
        "autovacuum) reuses the space: run `VACUUM` after an erasure.\n"
        "- No names go in SMS messages; logs and error answers hold no phone numbers.",
    },
    "reads": {"fi": "Kuka luki", "en": "Who read it"},
    "reads_text": {
        "fi": "Jokainen yhteystietojen luku (API-avain tai konsolin käyttäjä) kirjataan tapahtumalokiin: kuka, "
        "milloin, kenen ja millä sivulla tai reitillä; luettelo on luku jokaisesta näytetystä henkilöstä. "
        "Ylläpitäjä listaa ne: `GET /api/v1/audit?person_id=&kind=read` (tai `&actor=` lukijan mukaan).",
        "en": "Every read of contact details (an API key or a console user) is written to the audit log: who, when, "
        "whose, and through which page or route; a list is a read of each person it shows. Admins list them: "
        "`GET /api/v1/audit?person_id=&kind=read` (or `&actor=` per reader).",
    },
}


def _section(config: PersonalDataConfig, language: DocLanguage) -> list[str]:
    words = {key: texts[language] for key, texts in _WORDS.items()}
    lines = [f"## {words['title']} ({language})", "", words["generated"], "", f"### {words['rosters']}", ""]
    rosters = config.rosters
    lines += [f"- {getattr(rosters.what, language)}", f"- {words['why']}: {getattr(rosters.why, language)}"]
    lines += [f"- {words['kept']}: {getattr(rosters.kept, language)}", "", f"### {words['kinds']}", ""]
    lines += [f"| {words['kind']} | {words['why']} | {words['who']} | {words['days']} |", "|---|---|---|---|"]
    for kind in KINDS:
        keep = config.retention[kind]
        what, why, who = (getattr(text, language) for text in (keep.what, keep.why, keep.who))
        lines.append(f"| {what} | {why} | {who} | {keep.days} |")
    lines += ["", words["after"], "", f"### {words['processors']}", ""]
    for processor in config.processors:
        lines.append(f"- **{processor.name}**: {getattr(processor.what, language)}")
        lines.append(f"  - {words['region']}: {getattr(processor.region, language)}")
        lines.append(f"  - {words['used_when']}: {getattr(processor.used_when, language)}")
    lines += ["", f"### {words['rights']}", "", words["rights_text"], "", f"### {words['reads']}", ""]
    lines += [words["reads_text"], ""]
    return lines


def record_markdown() -> str:
    """docs/personal-data.md: the Finnish record, then the English one."""
    config = load_personal_data_config()
    lines = ["# Henkilötiedot / Personal data", ""]
    for language in ("fi", "en"):
        lines += _section(config, language)
    return "\n".join(lines).rstrip() + "\n"
