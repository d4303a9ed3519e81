"""Draft a reply for every text of a labelled file (e.g. care_gold/test.jsonl) and count the policy lint's
findings per rule and language: the check that every generated draft honours the reply policy.

    .venv/bin/python scripts/draft_lint_report.py ../shared/data/care_gold/test.jsonl [--labels gold|model] [--format table|json]

``--labels model`` (default) drafts from the shipped classifier's reading of each text, as the pipeline
does; ``--labels gold`` drafts from the file's hand labels. Each text is drafted for X (the tightest
limit) and for Facebook. Exit code 1 when any draft has a lint error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from social_care.classifier import load_classifier
from social_care.config import load_config
from social_care.drafting import DraftRequest, draft_reply, lint_draft, needs_reply

PLATFORMS = ("x", "facebook")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--labels", choices=("model", "gold"), default="model")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args()

    config = load_config(args.config)
    records = [json.loads(line) for line in args.dataset.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.labels == "model":
        classifier = load_classifier(config.model_path, threads=config.settings.classifier.threads)
        readings = [r.as_dict() for r in classifier.classify([r["text"] for r in records])]
    else:
        readings = [{"language": r.get("lang", "pt"), "intent": r["intent"], "sentiment": r["sentiment"],
                     "complaint": r["intent"] == "complaint", "categories": r.get("categories") or [],
                     "severity": r.get("severity", 0), "remedy_due": bool(r.get("remedy_due"))} for r in records]
    policy, brand = config.settings.reply_policy, config.brand
    drafts = 0
    skipped = 0
    errors: Counter[tuple[str, str]] = Counter()
    warnings: Counter[tuple[str, str]] = Counter()
    per_language: Counter[str] = Counter()
    failing: list[dict[str, str]] = []
    for record, reading in zip(records, readings, strict=True):
        for platform in PLATFORMS:
            request = DraftRequest(
                platform=platform, text=record["text"], language=reading["language"],
                author_handle="cliente_teste", author_name="Cliente Teste", intent=reading["intent"],
                sentiment=reading["sentiment"], complaint=bool(reading["complaint"]),
                categories=tuple(reading["categories"]), severity=int(reading["severity"]),
                remedy_due=bool(reading["remedy_due"]),
            )
            if not needs_reply(request, policy)[0]:
                skipped += 1
                continue
            draft = draft_reply(request, brand=brand, policy=policy)
            drafts += 1
            per_language[draft.language] += 1
            for finding in lint_draft(draft.text, request, brand=brand, policy=policy):
                target = errors if finding.level == "error" else warnings
                target[(finding.rule, draft.language)] += 1
                if finding.level == "error":
                    failing.append({"id": str(record.get("id")), "platform": platform, "rule": finding.rule,
                                    "draft": draft.text})
    failed_drafts = len({(f["id"], f["platform"]) for f in failing})
    result = {
        "dataset": str(args.dataset), "labels": args.labels, "platforms": list(PLATFORMS),
        "texts": len(records), "drafts": drafts, "no_reply_needed": skipped,
        "drafts_per_language": dict(per_language),
        "drafts_passing_lint": drafts - failed_drafts,
        "pass_rate": round((drafts - failed_drafts) / drafts, 4) if drafts else None,
        "errors_by_rule_and_language": {f"{rule}/{lang}": n for (rule, lang), n in sorted(errors.items())},
        "warnings_by_rule_and_language": {f"{rule}/{lang}": n for (rule, lang), n in sorted(warnings.items())},
        "failing_examples": failing[:10],
    }
    if args.format == "json":
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(f"{result['texts']} texts x {len(PLATFORMS)} platforms ({args.labels} labels): {drafts} drafts, "
              f"{skipped} needed no reply; per language {dict(per_language)}")
        print(f"drafts passing the lint: {result['drafts_passing_lint']}/{drafts} ({(result['pass_rate'] or 0):.1%})")
        print("errors by rule/language:", result["errors_by_rule_and_language"] or "none")
        print("warnings by rule/language:", result["warnings_by_rule_and_language"] or "none")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
