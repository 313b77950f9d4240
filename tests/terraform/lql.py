"""A small evaluator for the subset of the Cloud Logging query language our filters use.

Enough to check which LogEntries a sink filter selects: ``AND``, ``OR``, ``NOT``, brackets,
``field="value"``, ``field:*`` (presence), ``field:"text"`` (substring), ``severity>=WARNING``
(and ``>``, ``<``, ``<=``, in LogSeverity order; a missing severity is DEFAULT) and
``log_id("name")``. As in Cloud Logging, ``OR`` binds tighter than ``AND``.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

_TOKEN = re.compile(r'\s*(\(|\)|"(?:[^"\\]|\\.)*"|>=|<=|>|<|=|:|[^\s()=:<>"]+)')
# google.logging.type.LogSeverity, in the order Cloud Logging compares severities.
_SEVERITY = {"DEFAULT": 0, "DEBUG": 100, "INFO": 200, "NOTICE": 300, "WARNING": 400, "ERROR": 500,
             "CRITICAL": 600, "ALERT": 700, "EMERGENCY": 800}  # fmt: skip
_COMPARISONS = {">=": int.__ge__, "<=": int.__le__, ">": int.__gt__, "<": int.__lt__}


def _tokens(text: str) -> list[str]:
    tokens = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"cannot read filter at {text[position:]!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


def _field(entry: dict[str, Any], path: str) -> Any:
    value: Any = entry
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


class _Parser:
    def __init__(self, text: str, entry: dict[str, Any]) -> None:
        self.tokens = _tokens(text)
        self.position = 0
        self.entry = entry

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise ValueError(f"expected {expected or 'a token'} at {self.position}, found {token!r}")
        self.position += 1
        return token

    def parse(self) -> bool:
        result = self.conjunction()
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()!r}")
        return result

    def conjunction(self) -> bool:
        result = self.disjunction()
        while self.peek() == "AND":
            self.take()
            right = self.disjunction()
            result = result and right
        return result

    def disjunction(self) -> bool:
        result = self.negation()
        while self.peek() == "OR":
            self.take()
            right = self.negation()
            result = result or right
        return result

    def negation(self) -> bool:
        if self.peek() == "NOT":
            self.take()
            return not self.negation()
        return self.primary()

    def primary(self) -> bool:
        token = self.take()
        if token == "(":
            result = self.conjunction()
            self.take(")")
            return result
        if token == "log_id":
            self.take("(")
            name = json.loads(self.take())
            self.take(")")
            log_name = str(self.entry.get("logName", ""))
            return log_name.endswith("/logs/" + quote(name, safe=""))
        operator = self.take()
        operand = self.take()
        value = _field(self.entry, token)
        if operator == ":" and operand == "*":
            return value is not None
        expected = json.loads(operand) if operand.startswith('"') else operand
        if operator == "=":
            return value is not None and str(value) == str(expected)
        if operator == ":":
            return value is not None and str(expected) in str(value)
        if operator in _COMPARISONS and token == "severity":
            return bool(_COMPARISONS[operator](_SEVERITY[str(value or "DEFAULT")], _SEVERITY[str(expected)]))
        raise ValueError(f"unsupported operator {operator!r}")


def matches(filter_text: str, entry: dict[str, Any]) -> bool:
    """Whether ``entry`` (a LogEntry as JSON) is selected by ``filter_text``."""
    return _Parser(filter_text, entry).parse()
