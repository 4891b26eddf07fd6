"""Profiles, environment overrides and the production secret check."""

from __future__ import annotations

import pytest

from app.settings import SettingsError, load_settings

STRONG = "kX9f2-Lq8mZr4Tn7Wb1Yc6Hd3Jp0Vs5Ge_A"


def test_development_is_the_default_profile() -> None:
    settings = load_settings({})
    assert settings.APP_ENV == "development"
    assert settings.DATABASE_URL == "sqlite://data/onramp.sqlite3"
    assert settings.DOCS_ENABLED is True
    assert settings.MIGRATE_ON_START is True


def test_environment_overrides_profile_values_with_types() -> None:
    settings = load_settings(
        {
            "APP_ENV": "testing",
            "DB_POOL_MAX": "12",
            "DOCS_ENABLED": "false",
            "KEEP_ALIVE_TIMEOUT": "2.5",
            "BLUEPRINTS": "blueprints.health, blueprints.vendors",
            "PUBLIC_BASE_URL": "https://onramp.example",
        }
    )
    assert settings.DB_POOL_MAX == 12
    assert settings.DOCS_ENABLED is False
    assert settings.KEEP_ALIVE_TIMEOUT == 2.5
    assert settings.BLUEPRINTS == ("blueprints.health", "blueprints.vendors")
    assert settings.PUBLIC_BASE_URL == "https://onramp.example"


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="DB_POOL_MAX"):
        load_settings({"DB_POOL_MAX": "many"})


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(SettingsError, match="APP_ENV"):
        load_settings({"APP_ENV": "staging"})


@pytest.mark.parametrize(
    "secret",
    [
        None,
        "",
        "changeme",
        "dev-only-insecure-secret-key-change-me",
        "short-but-random-7Hq",
        "a" * 64,
    ],
)
def test_production_refuses_weak_secrets(secret: str | None) -> None:
    env = {"APP_ENV": "production"}
    if secret is not None:
        env["SECRET_KEY"] = secret
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings(env)


def test_production_accepts_a_strong_secret_and_hides_docs() -> None:
    settings = load_settings({"APP_ENV": "production", "SECRET_KEY": STRONG})
    assert settings.DOCS_ENABLED is False
    assert settings.MIGRATE_ON_START is False
    assert settings.SHOW_ERROR_DETAILS is False
    assert settings.KEEP_ALIVE_TIMEOUT < 60


def test_production_docs_can_be_enabled() -> None:
    env = {"APP_ENV": "production", "SECRET_KEY": STRONG, "DOCS_ENABLED": "true"}
    assert load_settings(env).DOCS_ENABLED is True


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://u@h/db", "must start with sqlite:// or postgres://"),
        ("postgres://u@h:notaport/db", "port that is not a number"),
        ("postgres://u@h:5432", "needs a host and a database name"),
        ("postgres:///db", "needs a host and a database name"),
        ("sqlite://", "needs a file path"),
    ],
)
def test_a_database_url_the_driver_cannot_use_is_one_line(url: str, says: str) -> None:
    """(A port that is not a number reached Tortoise and ended in a traceback.)"""
    with pytest.raises(SettingsError, match=says) as raised:
        load_settings({"DATABASE_URL": url})
    assert "DATABASE_URL" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_database_url_through_a_unix_socket_is_accepted() -> None:
    url = "postgres://onramp@/onramp?host=/var/run/postgresql"
    assert url == load_settings({"DATABASE_URL": url}).DATABASE_URL
