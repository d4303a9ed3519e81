"""Training examples from the shared data sets (JSONL, /work/shared/data layout), one per text.

Each source set labels only some tasks; every other task is left unknown (-1 / None) and is
masked out of the loss. Where a task has no human label at all (intent, categories, remedy,
Portuguese severity), the label comes from the source's own labels plus `weak_labels` rules.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from social_care.classifier.labels import CATEGORIES, INTENTS, SENTIMENTS
from social_care.classifier.weak_labels import (
    categories_for,
    looks_like_question,
    remedy_for,
    severity_for,
)
from social_care.jsonl import numbered_rows

SOURCES = (
    "complaints",
    "b2w",
    "tweeteval_sentiment_en",
    "xlmt_sentiment_pt",
    "tweetsentbr_pt_binary",
    "twitter_customer_care_ibm",
)
UNKNOWN = -1


@dataclass
class Example:
    """One text with a label (or UNKNOWN / None) per head."""

    text: str
    source: str
    sentiment: int = UNKNOWN
    intent: int = UNKNOWN
    complaint: int = UNKNOWN
    categories: list[int] | None = None
    severity: int = UNKNOWN
    remedy_due: int = UNKNOWN


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    for _, record in numbered_rows(path):
        yield record


def _sentiment(value: object) -> int:
    return SENTIMENTS.index(value) if value in SENTIMENTS else UNKNOWN


def _b2w_polarity(labels: dict[str, Any]) -> str | None:
    """Overall polarity of a b2w review from whichever of its labels are present."""
    if labels.get("polarity") in SENTIMENTS:
        return str(labels["polarity"])
    if labels.get("repro_sentiment") in ("negative", "positive"):
        return str(labels["repro_sentiment"])
    if labels.get("recommend") is True:
        return "positive"
    if labels.get("recommend") is False:
        return "negative"
    return None


def _complaint_fields(ex: Example, text: str, xci_severity: object = None) -> None:
    """Fill the complaint-only heads of an example already known to be a complaint."""
    ex.intent, ex.complaint = INTENTS.index("complaint"), 1
    cats = categories_for(text)
    # No rule fired: the category is unknown, not "none", so it stays masked.
    ex.categories = [int(c in cats) for c in CATEGORIES] if cats else None
    # A physical defect, wrong item or refund/return dispute is a remedy case; a software or
    # service malfunction (website_app) alone usually is not (care_gold definition).
    remedy_cats = {"wrong_item", "refund_return"}
    if "website_app" not in cats:
        remedy_cats.add("damaged_defective")
    ex.remedy_due = int(remedy_for(text) or bool(remedy_cats & set(cats)))
    if isinstance(xci_severity, int) and 1 <= xci_severity <= 4:
        ex.severity = xci_severity
    else:
        ex.severity = severity_for(text)


def _not_complaint(ex: Example, intent: str, text: str) -> None:
    ex.intent, ex.complaint, ex.severity, ex.remedy_due = INTENTS.index(intent), 0, 0, 0
    cats = categories_for(text) if intent == "question" else []
    ex.categories = [int(c in cats) for c in CATEGORIES]


def record_text(source: str, record: dict[str, Any]) -> str:
    """The text a record stands for: its `text`, or a dialogue's first customer turn."""
    text = str(record.get("text") or "")
    if source == "twitter_customer_care_ibm" and not text:
        turns = [t for t in record.get("turns", []) if t.get("role") == "customer"]
        text = str(turns[0]["text"]) if turns else ""
    return text


def label_record(source: str, record: dict[str, Any]) -> Example | None:
    """Example for one record of `source`; care_gold records are labelled from `source_labels`."""
    labels = {**record, **record.get("source_labels", {})}
    text = record_text(source, record)
    if not text.strip():
        return None
    ex = Example(text=text, source=source)
    if source == "complaints":
        ex.sentiment = _sentiment(labels.get("xci_sentiment"))
        if labels.get("complaint") == 1:
            _complaint_fields(ex, text, labels.get("xci_severity"))
        elif str(labels.get("domain", "")).startswith("random"):
            _not_complaint(ex, "other", text)
        elif looks_like_question(text):
            _not_complaint(ex, "question", text)
        elif labels.get("xci_sentiment") == "positive":
            _not_complaint(ex, "praise", text)
        else:
            _not_complaint(ex, "other", text)
    elif source == "b2w":
        polarity = _b2w_polarity(labels)
        ex.sentiment = _sentiment(polarity)
        rating = labels.get("rating")
        neutral = polarity == "neutral" or rating == 3
        if polarity == "negative" and labels.get("recommend") is not True:
            _complaint_fields(ex, text)
        elif polarity == "positive" and labels.get("recommend") is not False:
            _not_complaint(ex, "praise", text)
        elif neutral and (remedy_for(text) or categories_for(text)):
            # care_gold convention: a lukewarm review that reports something the shop should fix
            _complaint_fields(ex, text)
            ex.severity = min(ex.severity, 2)
        elif neutral:
            _not_complaint(ex, "other", text)
        # contradicting polarity / recommend: intent left unknown
    elif source in ("tweeteval_sentiment_en", "xlmt_sentiment_pt", "tweetsentbr_pt_binary"):
        ex.sentiment = _sentiment(labels.get("label"))
        # General and TV-show tweets: not addressed to a brand, so "other" (care_gold convention)
        _not_complaint(ex, "other", text)
    elif source == "twitter_customer_care_ibm":
        # First customer turn to a brand's care account: a complaint unless it only asks something.
        if looks_like_question(text) and not (categories_for(text) and remedy_for(text)):
            ex.intent = INTENTS.index("question")
            cats = categories_for(text)
            ex.categories = [int(c in cats) for c in CATEGORIES] if cats else None
            ex.complaint = UNKNOWN  # many such questions are really malfunction reports
        else:
            _complaint_fields(ex, text)
    else:
        raise ValueError(f"unknown source {source!r}")
    return ex


def load_split(
    data_dir: Path, split: str, *, limits: dict[str, int] | None = None, seed: int = 0
) -> list[Example]:
    """All examples of one split (train/dev) over SOURCES, each source capped by `limits`."""
    rng = random.Random(seed)
    examples: list[Example] = []
    for source in SOURCES:
        path = data_dir / source / f"{split}.jsonl"
        if not path.is_file():
            continue
        records = list(read_jsonl(path))
        cap = (limits or {}).get(source)
        if cap is not None and len(records) > cap:
            records = rng.sample(records, cap)
        examples.extend(e for r in records if (e := label_record(source, r)) is not None)
    rng.shuffle(examples)
    return examples


def gold_example(record: dict[str, Any]) -> Example:
    """Example carrying the hand labels of a care_gold record (for calibration and evaluation)."""
    intent = str(record["intent"])
    is_question_or_complaint = intent in ("complaint", "question")
    return Example(
        text=str(record["text"]),
        source="care_gold",
        sentiment=_sentiment(record.get("sentiment")),
        intent=INTENTS.index(intent),
        complaint=int(intent == "complaint"),
        categories=[int(c in record["categories"]) for c in CATEGORIES]
        if is_question_or_complaint or not record["categories"]
        else None,
        severity=int(record["severity"]),
        remedy_due=int(bool(record["remedy_due"])),
    )


HAND_LABELS = Path(__file__).with_name("hand_labels.jsonl")
# held out of training: model and threshold choices are checked on it (docs/hand-labels.md)
HAND_LABELS_VAL = Path(__file__).with_name("hand_labels_val.jsonl")


def _check_hand_row(row: Any, where: str) -> tuple[str, str]:
    """(source, id) of one hand-label row, or ValueError naming the line and the bad field."""
    key = row.get("key") if isinstance(row, dict) else None
    source, _, ident = str(key or "").partition(":")
    if source not in SOURCES or not ident:
        raise ValueError(f"{where}: key {key!r} is not SOURCE:ID (one JSON object per line)")
    problems = []
    if row.get("intent") not in INTENTS:
        problems.append(f"intent {row.get('intent')!r}")
    categories = row.get("categories")
    if not isinstance(categories, list) or not set(categories) <= set(CATEGORIES):
        problems.append(f"categories {categories!r}")
    if row.get("severity") not in range(5) or isinstance(row.get("severity"), bool):
        problems.append(f"severity {row.get('severity')!r}")
    if not isinstance(row.get("remedy_due"), bool):
        problems.append(f"remedy_due {row.get('remedy_due')!r}")
    if row.get("sentiment") not in SENTIMENTS:
        problems.append(f"sentiment {row.get('sentiment')!r}")
    if problems:
        raise ValueError(f"{where}: {row['key']}: bad {', '.join(problems)}")
    return source, ident


def hand_labelled_records(
    data_dir: Path, labels_path: Path = HAND_LABELS
) -> tuple[list[dict[str, Any]], int]:
    """Hand-labelled train-split texts as care_gold-style records, and how many labels there are.

    `labels_path` holds one {"key": "SOURCE:ID", "intent", "categories", "remedy_due",
    "severity", "sentiment"} per line and no text: the texts are looked up by id in
    DATA_DIR/SOURCE/train.jsonl (never a dev or test split), so the file carries only our own
    annotations. Labels whose text is not found (a data directory without that source) are
    skipped; the caller reports the two counts. Each record has the row's labels plus `id`
    (the key), `source` and `text`, and the source record's `lang` where it has one.
    """
    wanted: dict[str, dict[str, dict[str, Any]]] = {}
    total = 0
    if not labels_path.is_file():
        raise ValueError(f"hand labels file {labels_path} does not exist")
    for number, row in numbered_rows(labels_path):
        source, ident = _check_hand_row(row, f"{labels_path}:{number}")
        wanted.setdefault(source, {})[ident] = row
        total += 1
    records: list[dict[str, Any]] = []
    for source, rows in wanted.items():
        path = data_dir / source / "train.jsonl"
        if not path.is_file():
            continue
        for record in read_jsonl(path):
            row = rows.get(str(record.get("id")))
            text = record_text(source, record) if row is not None else ""
            if row is not None and text.strip():
                lang = {"lang": record["lang"]} if record.get("lang") else {}
                records.append({**row, "id": row["key"], "source": source, "text": text, **lang})
    return records, total


def load_hand_labelled(data_dir: Path, labels_path: Path = HAND_LABELS) -> tuple[list[Example], int]:
    """Examples for `hand_labelled_records` (source `hand:SOURCE`), and how many labels there are."""
    records, total = hand_labelled_records(data_dir, labels_path)
    examples: list[Example] = []
    for record in records:
        example = gold_example(record)
        example.source = f"hand:{record['source']}"
        examples.append(example)
    return examples, total
