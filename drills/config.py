"""``config/costs.yaml``: the price of an SMS segment and of a minute of a call, and how the shared cost is split."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from pydantic import Field

from alueturva.config import ConfigModel, config_path, load_yaml


class CostsConfig(ConfigModel):
    sms_price_per_segment: Decimal = Field(ge=0, le=10, decimal_places=6)
    voice_price_per_minute: Decimal = Field(ge=0, le=10, decimal_places=6)
    county: str = Field(pattern=r"^[a-z0-9_]+$")
    county_share_percent: Decimal = Field(ge=0, le=100)


@lru_cache(maxsize=1)
def costs_config() -> CostsConfig:
    return load_yaml(config_path("costs.yaml"), CostsConfig)
