from pathlib import Path

import pytest

from chatd.config import ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "conf" / "chatd.example.toml"


def test_example_config_is_valid() -> None:
    config = load_config(EXAMPLE, environ={})
    assert [r.id for r in config.realms] == ["en", "fr"]
    assert config.http.port == 8765


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "chatd.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('language = "en"', 'language = "de"', "realms.0.language"),
        ("component_port = 5347", "component_port = 99999", "server.component_port"),
        ('listen = "127.0.0.1:8765"', 'listen = "nowhere"', "http.listen"),
        ('nats_url = ""', 'nats_url = "http://x"', "bus.nats_url"),
        ('secret = "change-me-watch"', 'secret = "short"', "watch.secret"),
        ("max_body_chars = 10000", "max_body_chars = 10000\nmystery = 1", "limits.mystery"),
        ('path = "var/chatd.sqlite3"', 'path = "postgresql://chatd@db/chatd"', "store"),  # and no folder
        ("several_instances = false", "several_instances = true", "bus.several_instances"),  # and no NATS
    ],
)
def test_invalid_config_names_the_bad_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    text = EXAMPLE.read_text()
    assert old in text
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, text.replace(old, new, 1)), environ={})
    assert key in str(error.value)


def test_duplicate_domains_are_refused(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace('people_domain = "fr.localhost"', 'people_domain = "en.localhost"')
    with pytest.raises(ConfigError, match="distinct"):
        load_config(write(tmp_path, text), environ={})


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[server\n"), environ={})
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml", environ={})


def test_environment_overrides_a_key() -> None:
    config = load_config(
        EXAMPLE, environ={"CHATD_STORE__PATH": "/tmp/other.sqlite3", "CHATD_HTTP__LISTEN": "127.0.0.1:9"}
    )
    assert config.store.path == "/tmp/other.sqlite3"
    assert config.http.port == 9
