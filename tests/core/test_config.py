"""Settings: embedded defaults, TOML file, environment variables on top, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from issuance.config import ConfigError, load_settings


def test_defaults_are_the_embedded_ones() -> None:
    s = load_settings(env={})
    assert s.effective_database_url == "sqlite:///var/issuance.db"
    assert s.uses_embedded_queue
    assert (s.keystore, s.reconcile_every) == ("software", 60)


def test_environment_switches_to_the_real_services() -> None:
    s = load_settings(env={
        "ISSUANCE_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1/x",
        "ISSUANCE_REDIS_URL": "redis://127.0.0.1:6379/0",
    })
    assert s.effective_database_url.startswith("postgresql+psycopg://")
    assert not s.uses_embedded_queue


def test_toml_file_then_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "issuance.toml"
    cfg.write_text('[issuance]\nsite = "IRB"\nmin_age_years = 18\nreconcile_every = 30\n')
    s = load_settings(env={"ISSUANCE_CONFIG": str(cfg), "ISSUANCE_SITE": "AQJ"})
    assert (s.site, s.min_age_years, s.reconcile_every) == ("AQJ", 18, 30)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ISSUANCE_MIN_AGE_YEARS": "sixteen"}, "min_age_years: must be a whole number"),
        ({"ISSUANCE_KEYSTORE": "usb-stick"}, "keystore: must be one of"),
        ({"ISSUANCE_RECONCILE_EVERY": "soon"}, "reconcile_every: must be a whole number"),
    ],
)
def test_bad_values_name_the_setting(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env=env)


def test_missing_explicit_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(env={}, config_file=tmp_path / "nope.toml")


def test_every_setting_is_read_somewhere() -> None:
    """A setting nothing reads misleads the person who sets it."""
    import dataclasses
    import re

    from issuance.config import Settings

    repo = Path(__file__).resolve().parents[2]
    source = "\n".join(path.read_text() for package in ("issuance", "enrollment", "personalization",
                                                         "printing", "workers")
                       for path in (repo / package).rglob("*.py"))
    unread = [f.name for f in dataclasses.fields(Settings) if not re.search(rf"\.{f.name}\b", source)]
    assert unread == []
