"""The readiness levels' keys, lowest first (their names in each language are data in ``config/readiness.yaml``).
Free of the configuration machinery, so that the command line can list them without loading it."""

from __future__ import annotations

from typing import Literal, get_args

LevelKey = Literal["perusvalmius", "tehostettu_valmius", "taysvalmius"]
LEVEL_ORDER: tuple[LevelKey, ...] = get_args(LevelKey)
BASE_LEVEL: LevelKey = LEVEL_ORDER[0]
RAISED_LEVELS: tuple[LevelKey, ...] = LEVEL_ORDER[1:]
