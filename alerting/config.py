"""``config/alerting.yaml``: escalation defaults, the closing time-out and SMS reply keywords."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field

from alueturva.config import ConfigModel, config_path, load_yaml


class EscalationPolicy(ConfigModel):
    resend_after_minutes: float = Field(10, gt=0, le=24 * 60)
    resend_times: int = Field(2, ge=0, le=10)
    other_channel: bool = True
    deputy_after_minutes: float | None = Field(15, ge=0, le=24 * 60)
    notify_operator_after_minutes: float | None = Field(20, ge=0, le=24 * 60)


class AlertingConfig(ConfigModel):
    escalation: EscalationPolicy = EscalationPolicy()
    close_after_minutes: float = Field(240, gt=0, le=7 * 24 * 60)
    default_channels: list[Literal["sms", "email"]] = Field(["sms", "email"], min_length=1)
    reply_keywords: list[str] = Field(min_length=1)


@lru_cache(maxsize=1)
def alerting_config() -> AlertingConfig:
    return load_yaml(config_path("alerting.yaml"), AlertingConfig)
