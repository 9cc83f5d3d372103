"""Text files: every word people read, as YAML entries ``key: {fi: …, sv: …, en: …}``, checked whole when loaded.

An entry has exactly the three languages, each a non-empty string, or, for a text that depends on a count, the
language's CLDR plural forms (``{one: "{count} puute", other: "{count} puutetta"}``; Babel picks the form). A file
may group entries in sections (``report: {title: {fi: …}}``). The check refuses, naming the file, line and key:

- a missing, empty or extra language (an unquoted comma in a YAML flow mapping, ``{fi: a, b, sv: …}``, silently
  cuts the text at the comma and makes ``b`` a key: that is an extra language here);
- versions with different ``{placeholders}`` (a placeholder one language forgot, or a text cut short);
- versions that end differently: one a sentence (``.``, ``?``, ``!``), a lead-in (``:``) or a fragment, another not;
- plural forms other than the language's CLDR categories.

``tests/test_texts.py`` checks every text file of the repository the same way. Placeholders are ``str.format``
fields; ``{count}`` is written the language's way (Babel); format other numbers with ``alueturva.i18n``.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from alueturva.i18n import LANGUAGES, format_number, plural_categories, plural_category

Entry = Mapping[str, str | Mapping[str, str]]
_ENDINGS = {".": "sentence", "?": "sentence", "!": "sentence", ":": "lead-in", "…": "fragment"}


class TextFileError(ValueError):
    """A text file that is not whole: its problems, each with file, line and key."""


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that remembers each mapping key's line, and refuses a key given twice."""


def _mapping_with_lines(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(None, None, f"the key {key!r} is given twice", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=True)
        lines[str(key)] = key_node.start_mark.line + 1
    return _Lined(mapping, lines)


class _Lined(dict[str, Any]):
    def __init__(self, mapping: dict[str, Any], lines: dict[str, int]) -> None:
        super().__init__(mapping)
        self.lines = lines


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_lines)


def placeholders(text: str) -> frozenset[str]:
    return frozenset(field for _, field, _, _ in string.Formatter().parse(text) if field)


def _ending(text: str) -> str:
    return _ENDINGS.get(text.rstrip()[-1:], "none")


def _versions(entry: Mapping[str, Any]) -> dict[str, list[str]]:
    return {
        language: list(value.values()) if isinstance(value, Mapping) else [value]
        for language, value in entry.items()
        if language in LANGUAGES
    }


def entry_problems(key: str, entry: Any) -> list[str]:
    """What is wrong with one entry (empty when it is whole)."""
    if not isinstance(entry, Mapping):
        return [f"{key}: expected {{fi: …, sv: …, en: …}}, got {type(entry).__name__}"]
    problems = []
    extra = sorted(str(language) for language in entry if language not in LANGUAGES)
    if extra:
        problems.append(f"{key}: unexpected key(s) {extra}: a text cut at an unquoted comma? Quote the text")
    for language in LANGUAGES:
        value = entry.get(language)
        if isinstance(value, Mapping):
            expected = plural_categories(language)
            if set(value) != expected:
                problems.append(f"{key}.{language}: plural forms must be {sorted(expected)}, not {sorted(value)}")
            if not all(isinstance(form, str) and form.strip() for form in value.values()):
                problems.append(f"{key}.{language}: every plural form needs a text")
        elif not isinstance(value, str) or not value.strip():
            problems.append(f"{key}: the {language} text is missing or empty")
    if problems:
        return problems
    versions = _versions(entry)
    fields = {language: frozenset().union(*map(placeholders, texts)) for language, texts in versions.items()}
    if len(set(fields.values())) > 1:
        shown = ", ".join(f"{language} {sorted(names)}" for language, names in fields.items())
        problems.append(f"{key}: the languages have different placeholders ({shown})")
    for language, value in entry.items():
        if isinstance(value, Mapping) and fields[language] - placeholders(value["other"]):
            problems.append(f"{key}.{language}.other: lacks a placeholder another form has ({value['other']!r})")
    endings = {language: {_ending(text) for text in texts} for language, texts in versions.items()}
    if len({frozenset(ends) for ends in endings.values()}) > 1:
        shown = ", ".join(f"{language} {'/'.join(sorted(ends))}" for language, ends in endings.items())
        problems.append(f"{key}: the languages end differently ({shown}): is one cut short?")
    return problems


def file_problems(path: Path, *, sections: bool = False) -> tuple[dict[str, Entry], list[str]]:
    """The entries of a text file (``section.key`` for a sectioned one) and what is wrong with it."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # a SafeLoader
    except yaml.YAMLError as exc:
        return {}, [f"{path}: not valid YAML: {exc}"]
    if not isinstance(data, _Lined):
        return {}, [f"{path}: expected a mapping of text entries"]
    entries: dict[str, Entry] = {}
    problems: list[str] = []
    groups = data.items() if sections else [("", data)]
    for section, group in groups:
        if not isinstance(group, _Lined):
            problems.append(f"{path}:{data.lines.get(section, 0)}: section {section}: expected a mapping of entries")
            continue
        for key, entry in group.items():
            name = f"{section}.{key}" if section else str(key)
            found = entry_problems(name, entry)
            problems += [f"{path}:{group.lines.get(str(key), 0)}: {problem}" for problem in found]
            if not found:
                entries[name] = entry
    return entries, problems


@dataclass(frozen=True)
class TextFile:
    """The checked entries of one text file; a text in a language, with its placeholders filled in."""

    path: Path
    entries: Mapping[str, Entry]

    def text(self, key: str, language: str, /, **values: Any) -> str:
        """The entry's text in ``language`` (Finnish for an unknown one), placeholders filled in; for a plural
        entry, ``count`` chooses the form."""
        entry = self.entries[key]
        language = language if language in LANGUAGES else "fi"
        version = entry[language]
        if isinstance(version, Mapping):
            if "count" not in values:
                raise KeyError(f"{self.path}: {key} depends on a count; give count=")
            version = version.get(plural_category(values["count"], language), version["other"])
        if "count" in values:
            values["count"] = format_number(values["count"], language)
        return version.format(**values)

    def section(self, section: str, language: str) -> dict[str, str]:
        """Every plain (not plural) text of a section in ``language``, by key, placeholders unfilled (templates fill
        them)."""
        prefix = f"{section}." if section else ""
        language = language if language in LANGUAGES else "fi"
        return {
            key.removeprefix(prefix): str(entry[language])
            for key, entry in self.entries.items()
            if key.startswith(prefix) and isinstance(entry[language], str)
        }

    def words(self, language: str) -> dict[str, str]:
        """Every plain text of an unsectioned file in ``language``, by key (for templates)."""
        return self.section("", language)


@cache
def load_texts(path: Path, *, sections: bool = False) -> TextFile:
    """A text file, checked whole: any problem stops the service with every problem named."""
    entries, problems = file_problems(path, sections=sections)
    if problems:
        raise TextFileError("\n".join(problems))
    return TextFile(path, entries)
