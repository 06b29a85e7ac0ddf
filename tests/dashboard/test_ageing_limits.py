"""Ageing limits from the settings: one default, per-state overrides, and errors that name the key."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from issuance.config import ConfigError, Settings, load_settings
from issuance.dashboard import AGEING_STATES, ageing_limits


def test_default_and_overrides(tmp_path: Path) -> None:
    config = tmp_path / "issuance.toml"
    config.write_text("[issuance]\nageing_limit_hours = 12\n[issuance.ageing_limits]\nexception = 48\n")
    limits = ageing_limits(load_settings(env={}, config_file=config))
    assert set(limits) == {str(s) for s in AGEING_STATES} and "delivered" not in limits
    assert limits["exception"] == 48 and limits["validating"] == 12


@pytest.mark.parametrize(("table", "message"), [
    ({"deliverd": 3}, "ageing_limits.deliverd: not a state that ages"),
    ({"delivered": 3}, "ageing_limits.delivered: not a state that ages"),
    ({"exception": "soon"}, "ageing_limits.exception: must be a number of hours"),
    ({"exception": 0}, "ageing_limits.exception: must be above 0"),
    ("48", "ageing_limits: must be a table"),
])
def test_bad_limits_name_the_key(table: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ageing_limits(replace(Settings(), extra={"ageing_limits": table}))


def test_default_limit_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="ageing_limit_hours: must be above 0"):
        ageing_limits(replace(Settings(), ageing_limit_hours=0))
