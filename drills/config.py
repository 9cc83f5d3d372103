"""``config/costs.yaml``: the price of an SMS segment and of a minute of a call, and how the year's message costs are
divided in the follow-up (the agreement's example of a split, or one the parties agreed)."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import Field

from alueturva.config import ConfigModel, Names, config_path, load_yaml


class CostSplit(ConfigModel):
    basis: Literal["example", "agreed"] = Field(
        description="example: the agreement's example (3.2), calculated and not agreed; agreed: the parties agreed it"
    )
    applies_to: Names = Field(description="What the split is applied to, in each language")
    county: str = Field(pattern=r"^[a-z0-9_]+$")
    county_share_percent: Decimal = Field(ge=0, le=100)


class CostsConfig(ConfigModel):
    sms_price_per_segment: Decimal = Field(ge=0, le=10, decimal_places=6)
    voice_price_per_minute: Decimal = Field(ge=0, le=10, decimal_places=6)
    split: CostSplit


@lru_cache(maxsize=1)
def costs_config() -> CostsConfig:
    return load_yaml(config_path("costs.yaml"), CostsConfig)
