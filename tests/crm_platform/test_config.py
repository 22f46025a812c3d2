"""Settings come from the environment and are checked."""

from __future__ import annotations

import pytest

from crm_platform import create_app
from crm_platform.config import Settings
from crm_platform.errors import ConfigError


def test_environment_variables_are_read_and_typed() -> None:
    settings = Settings.from_env({
        "DATABASE_URL": "postgres://u@db/loom", "REDIS_URL": "redis://r:6379/0",
        "SECRET_KEY": "s", "LOOM_MAX_BODY_BYTES": "4096", "LOOM_SECURE_COOKIES": "true",
        "LOOM_DEFAULT_LOCALE": "zh"})
    assert settings.database_url == "postgresql+psycopg://u@db/loom"
    assert settings.redis_url == "redis://r:6379/0"
    assert settings.max_body_bytes == 4096
    assert settings.secure_cookies is True
    assert settings.default_locale == "zh"


def test_defaults_are_the_embedded_setup() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite:///loom.db"
    assert settings.redis_url is None


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("LOOM_MAX_BODY_BYTES", "lots", "LOOM_MAX_BODY_BYTES must be a whole number"),
    ("LOOM_DEFAULT_LOCALE", "fr", "LOOM_DEFAULT_LOCALE must be 'en' or 'zh'"),
    ("LOOM_LOGIN_MAX_FAILURES", "0", "LOOM_LOGIN_MAX_FAILURES must be at least 1"),
])
def test_bad_values_name_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({variable: value})


def test_the_app_refuses_to_start_without_a_secret_key() -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(Settings(database_url="sqlite://"))
