"""Evaluates X recent-search queries (the subset of operators social-care uses) against tweets.

Supported: keywords, "exact phrases", #hashtags, @mentions, from:, to:, conversation_id:,
is:retweet, is:reply, lang:, url:, negation with ``-``, ``OR`` and parentheses. As on X,
juxtaposition (AND) binds tighter than ``OR``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from social_care.sandbox.state import Tweet, XUser

Predicate = Callable[[Tweet], bool]

_TOKEN_RE = re.compile(r'\(|\)|-?"[^"]*"|-?[^\s()"]+')
_WORD_RE = re.compile(r"[#@$]?[\w']+", re.UNICODE)


class QuerySyntaxError(ValueError):
    """The query cannot be parsed (X answers 400 invalid-request)."""


@dataclass
class _Parser:
    tokens: list[str]
    users: dict[str, XUser]
    position: int = 0

    def parse(self) -> Predicate:
        predicate = self._or_expression()
        if self.position != len(self.tokens):
            raise QuerySyntaxError(f"unexpected {self.tokens[self.position]!r}")
        return predicate

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _or_expression(self) -> Predicate:
        branches = [self._and_expression()]
        while self._peek() == "OR":
            self.position += 1
            branches.append(self._and_expression())
        if len(branches) == 1:
            return branches[0]
        return lambda tweet: any(branch(tweet) for branch in branches)

    def _and_expression(self) -> Predicate:
        parts: list[Predicate] = []
        while self._peek() not in (None, ")", "OR"):
            parts.append(self._unary())
        if not parts:
            raise QuerySyntaxError("empty clause")
        return lambda tweet: all(part(tweet) for part in parts)

    def _unary(self) -> Predicate:
        token = self.tokens[self.position]
        if token == "(":
            self.position += 1
            inner = self._or_expression()
            if self._peek() != ")":
                raise QuerySyntaxError("unbalanced parentheses")
            self.position += 1
            return inner
        self.position += 1
        if token.startswith("-") and len(token) > 1:
            positive = self._term(token[1:])
            return lambda tweet: not positive(tweet)
        return self._term(token)

    def _term(self, token: str) -> Predicate:
        if token.startswith('"'):
            phrase = token.strip('"').lower()
            return lambda tweet: phrase in tweet.text.lower()
        if ":" in token and not token.startswith(("#", "@")):
            operator, _, value = token.partition(":")
            return self._operator(operator.lower(), value.strip('"').lower())
        word = token.lower()
        return lambda tweet: word in _words(tweet.text)

    def _operator(self, operator: str, value: str) -> Predicate:
        users = self.users

        def username(user_id: str | None) -> str:
            user = users.get(user_id or "")
            return user.username.lower() if user else ""

        if operator == "from":
            return lambda tweet: username(tweet.author_id) == value
        if operator == "to":
            return lambda tweet: username(tweet.in_reply_to_user_id) == value
        if operator == "conversation_id":
            return lambda tweet: tweet.conversation_id == value
        if operator == "lang":
            return lambda tweet: tweet.lang == value
        if operator == "url":
            return lambda tweet: value in tweet.text.lower()
        if operator == "is" and value == "retweet":
            return lambda tweet: tweet.retweet_of is not None
        if operator == "is" and value == "reply":
            return lambda tweet: tweet.in_reply_to_tweet_id is not None
        raise QuerySyntaxError(f"unsupported operator {operator}:{value}")


def _words(text: str) -> set[str]:
    return {match.group(0).lower().rstrip("'") for match in _WORD_RE.finditer(text)}


def compile_query(query: str, users: dict[str, XUser]) -> Predicate:
    """Turn a query into a predicate over tweets; raise :class:`QuerySyntaxError` if invalid."""
    tokens = _TOKEN_RE.findall(query)
    if not tokens:
        raise QuerySyntaxError("empty query")
    predicate = _Parser(tokens, users).parse()
    has_positive = any(not t.startswith("-") and t not in ("(", ")", "OR") for t in tokens)
    if not has_positive:
        raise QuerySyntaxError("a query needs at least one positive clause")
    return predicate
