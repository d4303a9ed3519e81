"""The public surface of ``connectors``: factory, option dataclasses, secret names."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import typing

import pytest

import connectors
from connectors import OPTION_TYPES, SECRET_NAMES, Connector, XOptions, build_connector
from social_care.sandbox import FB_PAGE_ID, IG_USER_ID, X_USER_ID, sandbox_secrets

ACCOUNT_IDS = {
    "x": ("user_id", X_USER_ID),
    "facebook": ("page_id", FB_PAGE_ID),
    "instagram": ("ig_user_id", IG_USER_ID),
}
SIMPLE_TYPES = {str, int, float, bool, list[str], str | None, int | None, float | None}


def _field_docs(cls: type) -> set[str]:
    body = ast.parse(inspect.getsource(cls)).body[0].body  # type: ignore[attr-defined]
    return {
        node.target.id
        for node, following in itertools.pairwise(body)
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and isinstance(following, ast.Expr)
        and isinstance(following.value, ast.Constant)
    }


@pytest.mark.parametrize("platform", sorted(OPTION_TYPES))
def test_options_are_simple_documented_and_defaulted(platform):
    cls = OPTION_TYPES[platform]
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    assert cls.__dataclass_params__.frozen
    assert {f.name for f in fields} <= _field_docs(cls), "every option needs a docstring line"
    required = [
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    assert required == [ACCOUNT_IDS[platform][0]]
    assert all(hints[f.name] in SIMPLE_TYPES for f in fields)


@pytest.mark.parametrize("platform", sorted(OPTION_TYPES))
def test_factory_builds_a_connector_for_every_platform(platform):
    field_name, account_id = ACCOUNT_IDS[platform]
    options = OPTION_TYPES[platform](**{field_name: account_id})
    connector = build_connector(
        platform,
        options=options,
        secrets=sandbox_secrets()[platform],
        base_url="http://127.0.0.1:1",
    )
    assert isinstance(connector, Connector)
    assert connector.platform == platform
    assert set(sandbox_secrets()[platform]) == set(SECRET_NAMES[platform])


def test_factory_rejects_bad_input():
    options = XOptions(user_id=X_USER_ID)
    with pytest.raises(ValueError, match="unknown platform"):
        build_connector("tiktok", options=options, secrets={})
    with pytest.raises(TypeError, match="FacebookOptions"):
        build_connector("facebook", options=options, secrets={})
    with pytest.raises(ValueError, match="unknown x secrets"):
        build_connector("x", options=options, secrets={"password": "hunter2"})
    with pytest.raises(ValueError, match="bearer_token"):
        build_connector("x", options=options, secrets={})


def test_public_api_is_declared():
    assert set(connectors.__all__) >= {
        "build_connector",
        "OPTION_TYPES",
        "SECRET_NAMES",
        "parse_webhook",
        "verify_signature",
    }
    for name in connectors.__all__:
        assert hasattr(connectors, name)
