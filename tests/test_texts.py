"""Every text people read: each text file whole (fi, sv and en in every entry, none cut short), plural forms and
numbers from Babel (CLDR), and the glossary's words (docs/glossary.md) the one source of terms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from alueturva.i18n import format_number, format_percent, plural_category
from alueturva.texts import TextFileError, file_problems, load_texts

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("alueturva", "contacts", "situation", "alerting", "drills", "config")
TEXT_FILES = sorted(path for source in SOURCES for path in (ROOT / source).rglob("*texts*.yaml"))
SECTIONED = {ROOT / "drills" / "report" / "texts.yaml"}
# What people read besides the text files: templates, configuration, the demo's data.
READ_BY_PEOPLE = sorted(
    set(
        path
        for source in SOURCES
        for pattern in ("*.j2", "*.yaml", "demo.py")
        for path in (ROOT / source).rglob(pattern)
    )
    - set(TEXT_FILES)
)


def test_the_text_files_are_found() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in TEXT_FILES}
    assert {
        "alueturva/app/web/texts.yaml",
        "drills/report/texts.yaml",
        "drills/texts.yaml",
        "situation/texts.yaml",
        "contacts/texts.yaml",
        "alerting/texts.yaml",
    } <= names


@pytest.mark.parametrize("path", TEXT_FILES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_text_file_is_whole(path: Path) -> None:
    entries, problems = file_problems(path, sections=path in SECTIONED)
    assert not problems, "\n".join(problems)
    assert entries


def test_an_unquoted_comma_that_cuts_a_text_is_refused_when_loaded(tmp_path: Path) -> None:
    """The sign-in lock message was once cut at an unquoted comma into "…väärin" and a key "tai tunnus on
    lukittu."; such a file now stops the service, naming the line."""
    broken = tmp_path / "texts.yaml"
    broken.write_text(
        "login_failed: {fi: Sähköposti tai salasana on väärin, tai tunnus on lukittu., sv: Fel., en: Wrong.}\n",
        encoding="utf-8",
    )
    with pytest.raises(TextFileError, match=r"texts.yaml:1: login_failed: unexpected key"):
        load_texts(broken)


@pytest.mark.parametrize(
    ("yaml_text", "problem"),
    [
        ("a: {fi: Yksi., sv: Ett.}\n", "the en text is missing"),
        ("a: {fi: '', sv: Ett., en: One.}\n", "the fi text is missing or empty"),
        ("a: {fi: '{count} kpl', sv: '{n} st', en: '{count} pcs'}\n", "different placeholders"),
        ("a: {fi: Valmis., sv: Klar, en: Done.}\n", "end differently"),
        ("a:\n  fi: {one: yksi, few: muutama, other: monta}\n  sv: x\n  en: y\n", "plural forms must be"),
        ("a: {fi: x, sv: y, en: z}\na: {fi: x, sv: y, en: z}\n", "given twice"),
    ],
)
def test_a_broken_entry_is_named(tmp_path: Path, yaml_text: str, problem: str) -> None:
    broken = tmp_path / "texts.yaml"
    broken.write_text(yaml_text, encoding="utf-8")
    _, problems = file_problems(broken)
    assert any(problem in found for found in problems), problems


def test_plural_forms_and_numbers_come_from_cldr(tmp_path: Path) -> None:
    plural = tmp_path / "texts.yaml"
    plural.write_text(
        "gaps:\n"
        "  fi: {one: '{count} puute', other: '{count} puutetta'}\n"
        "  sv: {one: '{count} brist', other: '{count} brister'}\n"
        "  en: {one: '{count} gap', other: '{count} gaps'}\n",
        encoding="utf-8",
    )
    texts = load_texts(plural)
    assert [texts.text("gaps", language, count=1) for language in ("fi", "sv", "en")] == ["1 puute", "1 brist", "1 gap"]
    assert texts.text("gaps", "fi", count=2) == "2 puutetta" and texts.text("gaps", "sv", count=0) == "0 brister"
    assert texts.text("gaps", "fi", count=1234) == "1\xa0234 puutetta"
    assert plural_category(1, "fi") == "one" and plural_category(1.5, "en") == "other"
    assert format_number(48367, "sv") == "48\xa0367" and format_number(48367, "en") == "48,367"
    assert (format_percent(87.5, "fi"), format_percent(87.5, "en")) == ("87,5\xa0%", "87.5%")


# The glossary ---------------------------------------------------------------------------------------------------


def glossary_never() -> list[str]:
    """The words of the glossary's "never" column (a word in italics is only explained there)."""
    words = []
    for line in (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("fi", "---") or not cells[3] or cells[3].startswith("*"):
            continue
        words += [word.strip() for word in cells[3].split(",") if word.strip()]
    return words


def _pattern(word: str) -> str:
    """The word on its own (not inside another word); a word ending in a dash is followed by a space."""
    start = r"(?<!\w)" if word[0].isalnum() else ""
    end = r"(?!\w)" if word[-1].isalnum() or word[-1].isdigit() else " "
    return start + re.escape(word) + end


def test_the_glossary_names_words_never_to_use() -> None:
    never = glossary_never()
    assert {"yhteistoimintasopimus", "STM 308/2023", "hylätty", "viestiliikennekoe"} <= set(never)


@pytest.mark.parametrize("path", TEXT_FILES + READ_BY_PEOPLE, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_no_text_uses_a_word_the_glossary_rules_out(path: Path) -> None:
    content = path.read_text(encoding="utf-8")
    used = [word for word in glossary_never() if re.search(_pattern(word), content)]
    assert not used, f"{path.relative_to(ROOT)} uses {used}: see docs/glossary.md"


def test_swedish_texts_use_the_swedish_place_names() -> None:
    """Swedish texts name places in Swedish; the names come from config/organisations.yaml alone."""
    from contacts.catalogue import place_names

    names = place_names()
    assert [names[key]["sv"] for key in ("kokkola", "kaustinen", "veteli", "region")] == [
        "Karleby",
        "Kaustby",
        "Vetil",
        "Mellersta Österbotten",
    ]
    for path in TEXT_FILES:
        entries, _ = file_problems(path, sections=path in SECTIONED)
        for key, entry in entries.items():
            swedish = " ".join(entry["sv"].values()) if isinstance(entry["sv"], dict) else entry["sv"]
            for finnish in ("Kokkola", "Kaustinen", "Veteli", "Keski-Pohjanmaa"):
                assert finnish not in swedish, f"{path.relative_to(ROOT)}: {key} has {finnish} in Swedish"
