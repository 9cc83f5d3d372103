"""Checking a request against Twilio's official OpenAPI description of ``api.twilio.com`` (from the twilio/twilio-oai
repository, MIT licence beside it in ``tests/data/twilio/``; the same file as ``shared/schemas/``).

A request is found by its method and path among the description's operations; its form body is read as the
description's ``application/x-www-form-urlencoded`` schema says (repeated keys make an array; integers and booleans
from their text) and validated with ``jsonschema``: the required fields are there, every field is one the operation
knows (a misspelt parameter is silently ignored by Twilio, so it fails here), and each value has its type, enum and
format (``uri``: an absolute http(s) URL; ``endpoint``: an E.164 number; ``http-method``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema

SPEC = Path(__file__).resolve().parents[1] / "data" / "twilio" / "twilio_api_v2010.json"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@cache
def description() -> dict[str, Any]:
    return dict(json.loads(SPEC.read_text(encoding="utf-8")))


def _operation(method: str, path: str) -> dict[str, Any]:
    for template, item in description()["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return dict(item[method.lower()])
    raise AssertionError(f"{method} {path} is no operation of Twilio's API description")


def _resolved(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = description()["components"]["schemas"][name]
    return schema


def _typed(value: str, schema: dict[str, Any]) -> Any:
    kind = _resolved(schema).get("type")
    if kind == "integer":
        return int(value) if re.fullmatch(r"-?\d+", value) else value
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            return value
    if kind == "boolean":
        return {"true": True, "false": False}.get(value, value)
    return value


def _form(pairs: Sequence[tuple[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
    """The form's fields as the schema reads them: an array field from its repeated keys."""
    properties = schema.get("properties", {})
    body: dict[str, Any] = {}
    for key, value in pairs:
        field = _resolved(properties.get(key, {}))
        if field.get("type") == "array":
            body.setdefault(key, []).append(_typed(value, field.get("items", {})))
        else:
            assert key not in body, f"{key} is given twice"
            body[key] = _typed(value, field)
    return body


FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("uri")
def _absolute_url(value: object) -> bool:
    parts = urlsplit(str(value))
    return parts.scheme in ("http", "https") and bool(parts.hostname) and "_" not in (parts.hostname or "")


@FORMATS.checks("endpoint")
def _endpoint(value: object) -> bool:
    return bool(E164.match(str(value)))


@FORMATS.checks("http-method")
def _http_method(value: object) -> bool:
    return value in ("GET", "POST")


def _inlined(schema: Any) -> Any:
    """The schema with every ``$ref`` to the description's components replaced by what it names."""
    if isinstance(schema, dict):
        return {key: _inlined(value) for key, value in _resolved(schema).items()}
    if isinstance(schema, list):
        return [_inlined(item) for item in schema]
    return schema


def problems(method: str, path: str, pairs: Sequence[tuple[str, str]]) -> list[str]:
    """What is wrong with this request by Twilio's description; empty when it conforms."""
    operation = _operation(method, path)
    schema = dict(operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"])
    body = _form(pairs, schema)
    found = [f"{key} is no parameter of this operation" for key in body if key not in schema.get("properties", {})]
    validator = jsonschema.Draft7Validator(_inlined(schema), format_checker=FORMATS)
    found += [f"{'.'.join(map(str, error.path)) or 'body'}: {error.message}" for error in validator.iter_errors(body)]
    return found
