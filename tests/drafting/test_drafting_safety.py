"""Broken or hostile input: template errors fall back with file and line; mentions never run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from social_care.config import Brand, ReplyPolicy
from social_care.drafting import DraftRequest, draft_reply, lint_draft

RequestFactory = Callable[..., DraftRequest]


def custom_policy(tmp_path: Path, files: dict[str, str]) -> ReplyPolicy:
    for name, source in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return ReplyPolicy(templates_dir=str(tmp_path), remedies={"delivery": ["refund"]})


def test_syntax_error_falls_back_with_file_and_line(
    tmp_path: Path, brand: Brand, make_request: RequestFactory
) -> None:
    policy = custom_policy(
        tmp_path, {"pt/complaint.j2": "{{ greeting }}\nSentimos muito.\n{% if %}\n"}
    )
    draft = draft_reply(make_request(), brand=brand, policy=policy)
    assert draft.fallback and draft.template == "fallback"
    assert draft.error is not None
    assert str(tmp_path / "pt" / "complaint.j2") in draft.error
    assert "line 3" in draft.error
    # The safe draft is still a proper reply in the mention's language.
    assert draft.language == "pt"
    assert draft.text.startswith("Oi, Ana! Sentimos muito")
    assert [
        f
        for f in lint_draft(draft.text, make_request(), brand=brand, policy=policy)
        if f.level == "error"
    ] == []


def test_undefined_variable_falls_back_with_file_and_line(
    tmp_path: Path, brand: Brand, make_request: RequestFactory
) -> None:
    policy = custom_policy(
        tmp_path, {"en/praise.j2": "{{ greeting }}\n\nThanks, {{ customer_nmae }}!\n"}
    )
    request = make_request(language="en", intent="praise", categories=())
    draft = draft_reply(request, brand=brand, policy=policy)
    assert draft.fallback
    assert draft.error is not None
    assert "praise.j2, line 3" in draft.error and "customer_nmae" in draft.error
    assert draft.language == "en" and "Thank you" in draft.text


def test_runtime_error_in_template_falls_back(
    tmp_path: Path, brand: Brand, make_request: RequestFactory
) -> None:
    policy = custom_policy(tmp_path, {"pt/complaint.j2": "{{ greeting }} {{ 1 // 0 }}"})
    draft = draft_reply(make_request(), brand=brand, policy=policy)
    assert draft.fallback and draft.error and "complaint.j2, line 1" in draft.error


@pytest.mark.parametrize(
    "escape",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ greeting.__class__.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ self._TemplateReference__context }}",
    ],
)
def test_sandbox_escape_fails_safely(
    tmp_path: Path, brand: Brand, make_request: RequestFactory, escape: str
) -> None:
    policy = custom_policy(tmp_path, {"pt/complaint.j2": "{{ greeting }}\n" + escape + "\n"})
    draft = draft_reply(make_request(), brand=brand, policy=policy)
    assert draft.fallback
    assert draft.error is not None and "complaint.j2" in draft.error
    assert "class" not in draft.text and "object" not in draft.text and "uid=" not in draft.text


def test_missing_template_falls_back(
    tmp_path: Path, brand: Brand, make_request: RequestFactory
) -> None:
    policy = ReplyPolicy(templates_dir=str(tmp_path))
    ok = draft_reply(make_request(), brand=brand, policy=policy)
    assert not ok.fallback  # the built-ins fill in for an empty custom folder


HOSTILE = [
    "{{ 7*7 }}",
    "{% for x in range(10**9) %}x{% endfor %}",
    "<script>alert(1)</script>",
    "\u202etxet desrever\u202c e \u200f mark",
    "zero\u200bwidth\u200d\ufeff",
    "😡😡😡 🇧🇷 pedido atrasado",
    "nul\x00byte",
    "x" * 100_000,
    "{{ ''.__class__.__mro__ }}",
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:20]))
@pytest.mark.parametrize("platform", ["x", "instagram"])
def test_hostile_mention_text_is_never_evaluated(
    brand: Brand, policy: ReplyPolicy, make_request: RequestFactory, text: str, platform: str
) -> None:
    request = make_request(text=text, platform=platform)
    draft = draft_reply(request, brand=brand, policy=policy)
    assert not draft.fallback
    assert "49" not in draft.text and "<script>" not in draft.text and "\x00" not in draft.text
    assert text[:30] not in draft.text
    assert len(draft.text) <= policy.max_length[platform]
    assert not [
        f for f in lint_draft(draft.text, request, brand=brand, policy=policy) if f.level == "error"
    ]


@pytest.mark.parametrize(
    "name, handle",
    [
        ("{{ 7*7 }}", "{{7*7}}"),
        ("<script>alert(1)</script>", "<b>x</b>"),
        ("\u202eanA\u202c", "\u200bana\u200b"),
        ("😀 Ana", "ana😀"),
        ("\x00", "\x00"),
        ("Ana" * 10_000, "a" * 10_000),
    ],
)
def test_hostile_names_and_handles(
    brand: Brand, policy: ReplyPolicy, make_request: RequestFactory, name: str, handle: str
) -> None:
    for platform in ("x", "facebook", "instagram"):
        request = make_request(platform=platform, author_name=name, author_handle=handle)
        draft = draft_reply(request, brand=brand, policy=policy)
        assert not draft.fallback
        assert len(draft.text) <= policy.max_length[platform]
        findings = lint_draft(draft.text, request, brand=brand, policy=policy)
        assert not [f for f in findings if f.level == "error"], (draft.text, findings)
        assert "{{" not in draft.text and "<" not in draft.text and "\x00" not in draft.text
        assert "\u202e" not in draft.text and "\u200b" not in draft.text


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.text(max_size=300),
    handle=st.one_of(st.none(), st.text(max_size=40)),
    name=st.one_of(st.none(), st.text(max_size=60)),
    platform=st.sampled_from(["x", "facebook", "instagram"]),
    language=st.sampled_from(["pt", "en", "es", "other", "fr", ""]),
    intent=st.sampled_from(["complaint", "question", "praise", "other", "weird"]),
    categories=st.lists(
        st.sampled_from(
            [
                "delivery",
                "wrong_item",
                "damaged_defective",
                "refund_return",
                "payment_billing",
                "customer_service",
                "website_app",
                "other",
                "unknown",
            ]
        ),
        max_size=3,
    ),
    severity=st.integers(min_value=-3, max_value=9),
    remedy_due=st.booleans(),
    prior=st.integers(min_value=0, max_value=5),
)
def test_any_input_gives_a_draft_within_limits(
    brand: Brand,
    policy: ReplyPolicy,
    text: str,
    handle: str | None,
    name: str | None,
    platform: str,
    language: str,
    intent: str,
    categories: list[str],
    severity: int,
    remedy_due: bool,
    prior: int,
) -> None:
    request = DraftRequest(
        platform=platform,
        text=text,
        language=language,
        author_handle=handle,
        author_name=name,
        intent=intent,
        sentiment="neutral",
        complaint=intent == "complaint",
        categories=tuple(categories),
        severity=severity,
        remedy_due=remedy_due,
        prior_mentions=prior,
        prior_complaints=prior,
    )
    draft = draft_reply(request, brand=brand, policy=policy)
    assert draft.text.strip()
    assert not draft.fallback, draft.error
    assert len(draft.text) <= policy.max_length[platform]
    findings = lint_draft(draft.text, request, brand=brand, policy=policy)
    assert not [f for f in findings if f.rule == "placeholder"]
    assert not [f for f in findings if f.level == "error"], (draft.text, findings)


def test_runaway_template_output_is_cut_off(
    tmp_path: Path, brand: Brand, make_request: RequestFactory
) -> None:
    bomb = "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"
    policy = custom_policy(tmp_path, {"pt/complaint.j2": bomb})
    draft = draft_reply(make_request(), brand=brand, policy=policy)
    assert draft.fallback and draft.error and "output longer than" in draft.error
