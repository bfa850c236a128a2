"""JSON an admin types into a form, read strictly: what loads is what the database can store. No Django imports.

Python's json module accepts more than JSON: NaN and Infinity (neither PostgreSQL's jsonb nor SQLite's json_valid
take them), numbers of any length (int() gives up at 4,300 digits with a message for programmers, a float
overflows to infinity), and any nesting (a RecursionError). PostgreSQL's jsonb also refuses the NUL character.
`loads` turns each of these into a ValueError whose message says what is wrong.
"""

from __future__ import annotations

import json
from typing import Any

# Levels of JSON objects and lists. A rule group is two ({"all": [...]}), so this is 15 groups, far more than a
# protocol needs (the rule builder offers 3); templates and repr() recurse per level.
MAX_DEPTH = 32
MAX_DIGITS = 30


def loads(text: str) -> Any:
    """The value of `text`, or ValueError naming the problem (with line and column for a syntax error)."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_short_int)
    except RecursionError:  # the decoder's own limit
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    problem = unstorable(value)
    if problem:
        raise ValueError(problem)
    return value


def unstorable(value: Any) -> str | None:
    """Why `value` cannot be stored (too deep, or a NUL character), or None. Iterative: it runs before anything
    recursive sees the value."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)) and depth > MAX_DEPTH:
            return f"nested more than {MAX_DEPTH} levels deep"
        if isinstance(item, dict):
            stack += [(key, depth) for key in item] + [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, depth + 1) for v in item]
        elif isinstance(item, str) and "\x00" in item:
            return "text may not contain the NUL character (\\u0000)"
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON can store")


def _finite_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is too large a number")
    return number


def _short_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        raise ValueError(f"a number of {digits} digits is too long")
    return int(text)
