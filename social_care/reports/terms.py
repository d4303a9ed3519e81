"""Frequent words and two-word phrases in complaints, with Portuguese, English and Spanish stopwords removed."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

TOP_TERMS = 30  # a week's "top terms": the most frequent 30, by how many complaints contain them
NEW_TERMS_SHOWN = 10
MIN_COMPLAINTS = 2  # a term one person wrote once is not a trend

TERMS_RULE = (
    f"Words and two-word phrases (pt/en/es stopwords, handles, links and numbers removed), counted once per "
    f"complaint. A term is new when it is among this week's top {TOP_TERMS}, appears in at least "
    f"{MIN_COMPLAINTS} complaints, and was not among the top {TOP_TERMS} of any of the trailing 8 weeks."
)

_STOPWORDS_PT = ["a", "à", "ao", "aos", "as", "às", "até", "com", "como", "da", "das", "de", "dela", "dele", "deles", "do", "dos", "e", "é", "ela", "elas", "ele", "eles", "em", "entre", "era", "essa", "esse", "esta", "está", "estão", "este", "eu", "foi", "for", "foram", "há", "isso", "isto", "já", "la", "lá", "mais", "mas", "me", "mesmo", "meu", "minha", "muito", "na", "nas", "não", "nem", "no", "nos", "nós", "num", "numa", "o", "os", "ou", "para", "pela", "pelas", "pelo", "pelos", "por", "porque", "pra", "pro", "qual", "quando", "que", "quem", "se", "sem", "ser", "seu", "seus", "sua", "suas", "só", "também", "te", "tem", "têm", "tenho", "ter", "teu", "tu", "um", "uma", "umas", "uns", "vai", "vc", "você", "vocês", "voces", "ainda", "agora", "aqui", "hoje", "ontem", "bem", "sim", "estou", "estava", "fiz", "faz", "fazer", "nada", "tudo", "todo", "toda", "todos", "todas", "outro", "outra", "dia", "dias", "vez", "sobre", "depois", "antes", "onde", "então", "entao", "tá", "ta", "né", "ne", "lo", "los"]
_STOPWORDS_EN = ["a", "about", "after", "again", "all", "am", "an", "and", "any", "are", "as", "at", "be", "been", "before", "being", "but", "by", "can", "could", "did", "do", "does", "doing", "don", "for", "from", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "me", "more", "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "out", "over", "own", "same", "she", "should", "so", "some", "still", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yet", "get", "got", "im", "ive", "dont", "didnt", "cant", "wont", "its"]
_STOPWORDS_ES = ["al", "algo", "como", "con", "contra", "cual", "cuando", "de", "del", "desde", "donde", "el", "ella", "ellas", "ellos", "en", "entre", "era", "es", "esa", "ese", "eso", "esta", "está", "están", "este", "esto", "estoy", "fue", "ha", "han", "hasta", "hay", "la", "las", "le", "les", "lo", "los", "más", "me", "mi", "mis", "muy", "nada", "ni", "no", "nos", "o", "os", "otra", "otro", "para", "pero", "por", "porque", "que", "qué", "se", "sea", "ser", "si", "sí", "sin", "sobre", "su", "sus", "también", "tengo", "tiene", "todo", "tu", "tus", "un", "una", "uno", "unos", "usted", "ya", "yo", "aún", "hoy", "ayer", "mucho", "poco"]
STOPWORDS = frozenset(_STOPWORDS_PT + _STOPWORDS_EN + _STOPWORDS_ES)

_NOISE_RE = re.compile(r"https?://\S+|www\.\S+|@\w+")
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def terms_of(text: str, *, ignore: frozenset[str] = frozenset()) -> set[str]:
    """The unigrams and bigrams of one text; a bigram joins two adjacent non-stopwords."""
    words = [w.replace("’", "'") for w in _WORD_RE.findall(_NOISE_RE.sub(" ", text.lower()))]
    keep = [len(w) >= 3 and w not in STOPWORDS and w not in ignore for w in words]
    found = {w for w, k in zip(words, keep) if k}
    for i in range(len(words) - 1):
        if keep[i] and keep[i + 1]:
            found.add(f"{words[i]} {words[i + 1]}")
    return found


def term_counts(texts: Iterable[str], *, ignore: frozenset[str] = frozenset()) -> Counter[str]:
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(terms_of(text, ignore=ignore))
    return counts


def top_terms(counts: Counter[str], n: int = TOP_TERMS) -> list[tuple[str, int]]:
    """The n most frequent terms, ties broken alphabetically so reports are reproducible."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n]


def new_terms(this_week: Counter[str], trailing: list[Counter[str]]) -> list[tuple[str, int]]:
    """This week's top terms that no trailing week had among its top terms."""
    seen = {term for counts in trailing for term, _ in top_terms(counts)}
    fresh = [(t, n) for t, n in top_terms(this_week) if n >= MIN_COMPLAINTS and t not in seen]
    return fresh[:NEW_TERMS_SHOWN]
