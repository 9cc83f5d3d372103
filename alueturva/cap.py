"""CAP 1.2 (OASIS Common Alerting Protocol), shared by the CAP import (situation) and export (alerting): the
namespace, the schema (one copy, ``cap12.xsd``) and CAP's time format."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_SCHEMA_PATH = Path(__file__).with_name("cap12.xsd")


_per_thread = threading.local()


def cap_schema() -> etree.XMLSchema:
    """The schema as a libxml2 validator, whose work grows linearly with the document. One per thread: a validator
    keeps the errors of its last run, so two threads must not share one."""
    schema = getattr(_per_thread, "schema", None)
    if schema is None:
        schema = _per_thread.schema = etree.XMLSchema(etree.parse(str(CAP_SCHEMA_PATH)))
    return schema


def cap_time(moment: datetime) -> str:
    """CAP's date format: seconds, and UTC written as ``-00:00`` (never ``Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + "-00:00"
