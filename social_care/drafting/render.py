"""Render a reply: find the template, render it in a sandbox, fit the platform, fall back safely."""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import FileSystemLoader, StrictUndefined, Template, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from .choices import clamp_severity, effective_intent, main_category, max_length, reply_language
from .context import build_context
from .fallback import fallback_body, minimal_body
from .models import Draft, DraftRequest
from .people import clean_handle

if TYPE_CHECKING:
    from social_care.config import Brand, ReplyPolicy

BUILTIN_TEMPLATES = Path(__file__).with_name("templates")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_LABEL = re.compile(r"[a-z0-9_]{1,40}")
MAX_RENDERED = 50_000


class _TemplateFailure(Exception):
    """A template could not be found, compiled or rendered; the message says where and why."""


def candidate_names(lang: str, intent: str, category: str, severity: int) -> list[str]:
    """Template names from most to least specific (documented in templates/README.md)."""
    # The category comes from the classifier; anything but a plain label must not shape a path.
    if not _LABEL.fullmatch(category):
        category = "other"
    return [
        f"{lang}/{intent}_{category}_sev{severity}.j2",
        f"{lang}/{intent}_{category}.j2",
        f"{lang}/{intent}_sev{severity}.j2",
        f"{lang}/{intent}.j2",
    ]


@lru_cache(maxsize=32)
def _environment(folder: str) -> SandboxedEnvironment:
    # Output is plain text for social platforms, so no HTML escaping; StrictUndefined turns a
    # misspelt variable into an error (and a fallback) instead of a silent gap in the reply.
    return SandboxedEnvironment(
        loader=FileSystemLoader(folder),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )


def _folders(policy: ReplyPolicy) -> list[Path]:
    # A custom folder is searched first with the whole lookup order, so a brand that writes only
    # generic templates gets them rather than a more specific built-in one.
    custom = (policy.templates_dir or "").strip()
    return [Path(custom), BUILTIN_TEMPLATES] if custom else [BUILTIN_TEMPLATES]


def _error_location(exc: BaseException, template: Template | None) -> str:
    """Where a template error is: syntax errors carry it, runtime errors are in the traceback."""
    if isinstance(exc, TemplateSyntaxError):
        return f"{exc.filename or exc.name}, line {exc.lineno}"
    # Jinja rewrites tracebacks so that frames of compiled templates carry the template's file
    # and source line; the innermost such frame is where the error happened.
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if (
            frame.filename
            and not frame.filename.endswith(".py")
            and not frame.filename.startswith("<")
        ):
            return f"{frame.filename}, line {frame.lineno}"
    filename = template.filename if template is not None else None
    return f"{filename or 'template'}, line ?"


def _find_template(names: list[str], policy: ReplyPolicy) -> tuple[Template, str]:
    for folder in _folders(policy):
        for name in names:
            if not (folder / name).is_file():
                continue
            env = _environment(str(folder))
            try:
                template = env.get_template(name)
            except TemplateSyntaxError as exc:
                raise _TemplateFailure(f"{_error_location(exc, None)}: {exc.message}") from exc
            except Exception as exc:  # unreadable file, bad encoding: still a template problem
                raise _TemplateFailure(f"{folder / name}, line ?: {exc}") from exc
            label = name if folder == BUILTIN_TEMPLATES else str(folder / name)
            return template, label
    tried = ", ".join(names)
    raise _TemplateFailure(
        f"no template found in {', '.join(map(str, _folders(policy)))} (tried {tried})"
    )


def _render(template: Template, context: dict[str, Any]) -> str:
    try:
        # Streamed so that a runaway loop in a custom template stops at a bounded size instead
        # of filling memory; no reply is anywhere near this long.
        parts: list[str] = []
        size = 0
        for chunk in template.generate(context):
            parts.append(chunk)
            size += len(chunk)
            if size > MAX_RENDERED:
                where = template.filename or "template"
                raise _TemplateFailure(f"{where}: output longer than {MAX_RENDERED} characters")
        return "".join(parts)
    except _TemplateFailure:
        raise
    except Exception as exc:  # any template bug (undefined, sandbox violation, type error)
        raise _TemplateFailure(
            f"{_error_location(exc, template)}: {type(exc).__name__}: {exc}"
        ) from exc


def normalise(body: str) -> str:
    """Templates are written across lines for readability; a reply is one tidy paragraph."""
    text = re.sub(r"\s+", " ", body).strip()
    return re.sub(r" +([,.!?;:])(?=\s|$)", r"\1", text)


def _assemble(body: str, *, request: DraftRequest, signature: str) -> str:
    text = normalise(body)
    handle = clean_handle(request.author_handle, request.platform)
    if request.platform == "x" and handle:
        text = f"@{handle} {text}".rstrip()
    if signature:
        text = f"{text}\n{signature}"
    return text


def fit(text: str, limit: int | None) -> str:
    """Last resort for a reply still too long: keep whole sentences, never cut one mid-way."""
    if limit is None or len(text) <= limit:
        return text
    kept = ""
    for sentence in _SENTENCE_END.split(text):
        candidate = f"{kept} {sentence}" if kept else sentence
        if len(candidate) > limit:
            break
        kept = candidate
    if kept:
        return kept
    cut = text[: max(0, limit - 1)].rsplit(" ", 1)[0]
    return f"{cut}…"[:limit]


def _shape(
    make_body: Callable[[bool, bool], str], *, request: DraftRequest, lang: str, policy: ReplyPolicy
) -> str:
    """Shorter variants until one fits: full, no signature, brief, tight, then trim sentences."""
    limit = max_length(request.platform, policy)
    signature = (policy.signature.get(lang) or "").strip()
    attempts = [(False, False, signature), (False, False, ""), (True, False, ""), (True, True, "")]
    text = ""
    for brief, tight, sign in attempts:
        text = _assemble(make_body(brief, tight), request=request, signature=sign)
        if limit is None or len(text) <= limit:
            return text
    return fit(text, limit)


def draft_reply(request: DraftRequest, *, brand: Brand, policy: ReplyPolicy) -> Draft:
    """A reply draft; a broken template yields the safe generic draft, never an exception."""
    lang = reply_language(request, brand)
    intent = effective_intent(request)
    names = candidate_names(lang, intent, main_category(request), clamp_severity(request.severity))

    def context(brief: bool, tight: bool) -> dict[str, Any]:
        return build_context(
            request, lang=lang, brand=brand, policy=policy, brief=brief, tight=tight
        )

    error: str
    try:
        template, label = _find_template(names, policy)
        text = _shape(
            lambda brief, tight: _render(template, context(brief, tight)),
            request=request,
            lang=lang,
            policy=policy,
        )
        return Draft(text=text, language=lang, template=label, fallback=False, error=None)
    except _TemplateFailure as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - a bug outside the template must still leave a draft
        error = f"internal error while drafting: {type(exc).__name__}: {exc}"
    try:
        text = _shape(
            lambda brief, tight: fallback_body(context(brief, tight)),
            request=request,
            lang=lang,
            policy=policy,
        )
    except Exception:  # noqa: BLE001 - never crash: the minimal draft needs no request data
        text = _shape(
            lambda brief, tight: minimal_body(lang), request=request, lang=lang, policy=policy
        )
    return Draft(text=text, language=lang, template="fallback", fallback=True, error=error)
