"""``config/alerting.yaml``: escalation defaults, the closing time-out, SMS reply keywords and the voices calls
speak with."""

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
    call_after_minutes: float | None = Field(None, ge=0, le=24 * 60)


class Voice(ConfigModel):
    voice: str = Field(min_length=1, max_length=60, description="The provider's voice, e.g. Polly.Suvi-Neural")
    locale: str = Field(pattern=r"^[a-z]{2}-[A-Z]{2}$", description="The voice's language, e.g. fi-FI")


class Voices(ConfigModel):
    fi: Voice
    sv: Voice
    en: Voice

    def __getitem__(self, language: str) -> Voice:
        voice: Voice = getattr(self, language)
        return voice


class AlertingConfig(ConfigModel):
    escalation: EscalationPolicy = EscalationPolicy()
    close_after_minutes: float = Field(240, gt=0, le=7 * 24 * 60)
    default_channels: list[Literal["sms", "email", "voice"]] = Field(["sms", "email"], min_length=1)
    reply_keywords: list[str] = Field(min_length=1)
    voices: Voices


@lru_cache(maxsize=1)
def alerting_config() -> AlertingConfig:
    return load_yaml(config_path("alerting.yaml"), AlertingConfig)
