"""CAP 1.2 (OASIS Common Alerting Protocol), shared by the CAP import (situation) and export (alerting): the
namespace, the schema (one copy, ``cap12.xsd``) and CAP's time format."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import xmlschema

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_SCHEMA_PATH = Path(__file__).with_name("cap12.xsd")


@lru_cache(maxsize=1)
def cap_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(CAP_SCHEMA_PATH))


def cap_time(moment: datetime) -> str:
    """CAP's date format: seconds, and UTC written as ``-00:00`` (never ``Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + "-00:00"
