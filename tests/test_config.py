"""Config loading: defaults, ${VAR} secrets, unknown keys, bad values, and documentation of every key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from social_care.config import (
    DEFAULT_CONFIG_PATH,
    ConfigError,
    describe_keys,
    documented_keys,
    load_config,
    parse_config,
)

REPO = Path(__file__).resolve().parents[1]
BASE = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))


def _doc(**changes: object) -> str:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        node = data
        parts = dotted.split("__")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[parts[-1]] = value
    return yaml.safe_dump(data, allow_unicode=True)


def test_embedded_defaults_load_and_match_top_level_config() -> None:
    config = parse_config(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"), environ={})
    assert config.brand.name == "Loja Aurora"
    assert [a.platform for a in config.settings.accounts] == ["x", "facebook", "instagram"]
    assert (REPO / "config.yaml").read_text(encoding="utf-8") == DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")


def test_classifier_threshold_defaults_agree_everywhere() -> None:
    """`python -m social_care.classifier.evaluate` uses `Thresholds()`; the app uses the config.

    Model-card figures come from the former, so both (and config.yaml) must decide alike.
    """
    from social_care.classifier.result import Thresholds
    from social_care.config import ClassifierThresholdSettings

    expected = {"complaint": Thresholds().complaint, "category": Thresholds().category, "remedy_due": Thresholds().remedy_due}
    declared = ClassifierThresholdSettings().model_dump()
    shipped = parse_config(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"), environ={}).settings.classifier.thresholds
    for name, value in expected.items():
        assert declared[name] == value, name
        assert getattr(shipped, name) == value, name


def test_default_database_is_a_sqlite_file_under_data_dir(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(_doc(data_dir="state"), encoding="utf-8")
    config = load_config(path, environ={})
    assert config.database_url == f"sqlite:///{tmp_path / 'state' / 'social-care.db'}"


def test_unknown_key_names_the_closest_valid_key() -> None:
    with pytest.raises(ConfigError, match=r"unknown config key 'brand.timezon'.*did you mean 'timezone'"):
        parse_config(_doc(brand__timezon="UTC"), environ={})
    with pytest.raises(ConfigError, match=r"'classifier.treshold'.*'thresholds'"):
        parse_config(_doc(classifier__treshold=1), environ={})


def test_unknown_account_option_names_the_platforms_valid_option() -> None:
    text = _doc(accounts__0__options={"user_idd": "1"})
    with pytest.raises(ConfigError, match=r"accounts\[0\].options.user_idd.*did you mean 'user_id'"):
        parse_config(text, environ={})


def test_secret_must_be_a_variable_reference_never_a_literal() -> None:
    text = _doc(accounts__0__secrets={"bearer_token": "AAAA-real-token"})
    with pytest.raises(ConfigError, match=r"accounts\[0\].secrets.bearer_token must be a \$\{VAR\} reference"):
        parse_config(text, environ={})
    with pytest.raises(ConfigError, match=r"web.session_secret must be a \$\{VAR\}"):
        parse_config(_doc(web__session_secret="hunter2hunter2"), environ={})


def test_variable_references_resolve_from_environment_then_secrets_file(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("X_BEARER_TOKEN: from-file\nSESSION: file-session\n", encoding="utf-8")
    path = tmp_path / "config.yaml"
    path.write_text(
        _doc(secrets_file="secrets.yaml", accounts__0__secrets={"bearer_token": "${X_BEARER_TOKEN}"},
             web__session_secret="${SESSION}"),
        encoding="utf-8",
    )
    config = load_config(path, environ={"SESSION": "env-session"})
    assert config.settings.accounts[0].secrets["bearer_token"] == "from-file"
    assert config.settings.web.session_secret == "env-session"  # the environment wins


def test_missing_variable_is_a_startup_error_naming_key_and_variable() -> None:
    text = _doc(accounts__0__secrets={"bearer_token": "${X_BEARER_TOKEN}"})
    with pytest.raises(ConfigError) as info:
        parse_config(text, environ={})
    assert "accounts[0].secrets.bearer_token" in str(info.value)
    assert "X_BEARER_TOKEN" in str(info.value)


def test_default_after_colon_dash_is_used_when_unset() -> None:
    config = parse_config(_doc(log_level="${LEVEL:-WARNING}"), environ={})
    assert config.settings.log_level == "WARNING"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"brand__timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"accounts__0__platform": "myspace"}, "accounts.0.platform"),
        ({"accounts__0__poll_interval_seconds": 1}, "poll_interval_seconds"),
        ({"classifier__thresholds__complaint": 3}, "thresholds.complaint"),
        ({"accounts__1__name": "aurora-x"}, "unique"),
        ({"reply_policy__templates_dir": "no/such/folder"}, "reply_policy.templates_dir"),
    ],
)
def test_bad_values_name_the_key(change: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(_doc(**change), environ={})


def test_missing_file_and_bad_yaml_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("brand: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError):
        load_config(binary)


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
                    max_leaves=10))
def test_arbitrary_yaml_documents_give_config_error_not_a_crash(document: object) -> None:
    try:
        parse_config(yaml.safe_dump(document, allow_unicode=True), environ={})
    except ConfigError:
        pass


def test_every_config_key_is_documented_in_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [key for key in documented_keys() if f"`{key}`" not in readme]
    assert not missing, f"README.md does not document: {missing}"


def test_every_platform_option_and_secret_is_documented_in_readme() -> None:
    from connectors import OPTION_TYPES, SECRET_NAMES

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [f"{p}:{f}" for p, t in OPTION_TYPES.items() for f in t.__dataclass_fields__ if f"`{f}`" not in readme]
    missing += [f"{p}:{s}" for p, names in SECRET_NAMES.items() for s in names if f"`{s}`" not in readme]
    assert not missing, f"README.md does not document these account options/secrets: {missing}"


def test_describe_keys_has_a_description_for_every_key() -> None:
    assert all(description for _key, _default, description in describe_keys())


def test_readme_generated_tables_are_current(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("config_reference", REPO / "scripts" / "config_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    copy = tmp_path / "README.md"
    copy.write_text((REPO / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    module.update_readme(copy)
    assert copy.read_text(encoding="utf-8") == (REPO / "README.md").read_text(encoding="utf-8"), (
        "README.md's generated tables are stale: run `.venv/bin/python scripts/config_reference.py --update-readme`")
