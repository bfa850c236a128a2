"""The rule language as typed, frozen nodes, read from JSON once. No Django imports.

A rule arrives as JSON (the database, the admin's builder, an import) and is read here into nodes that every
consumer walks: both engines, describe(), referenced_questions(). `to_json` gives the JSON back.

    {"all": [rule, ...]}                          AllOf(children)
    {"any": [rule, ...]}                          AnyOf(children)
    {"at_least": N, "of": [rule, ...]}            AtLeast(n, children)
    {"not": rule}                                 Not(child)
    {"q": CODE, "op": OP, "value": V, "unit": U}  Condition(q, op, value, unit)

Reading never fails. A rule that bypassed validation (a raw database edit, an old row) must still screen, as
"needs review", and be worded beside its problems, so a part that is not a rule at all becomes a `Malformed`
node that keeps the JSON and says what is wrong. Everything else is read the way the engine has always read
it, so a rule screens exactly as it did when it was a dict; whether it is *valid* for the question catalogue
is rules.validate_rule's call (it reads through the same walker here, so the problems come in rule order).

Values stay JSON, frozen: lists become tuples and objects `FrozenObject`s, so that nodes hash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .wording import Message, Text, render, say

# --------------------------------------------------------------------------------------------
# Problems


@dataclass(frozen=True)
class Problem:
    code: str
    reason: Text  # a message (eligibility.wording), worded when shown
    path: str = ""  # where in the rule, e.g. "rule.any[2]"

    @property
    def message(self) -> str:
        """The reason in words, in the active language."""
        return render(self.reason)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


# --------------------------------------------------------------------------------------------
# Frozen JSON values


class FrozenObject(Mapping[str, Any]):
    """A JSON object that cannot change and so hashes; reads like the dict it was made from."""

    __slots__ = ("_data",)

    def __init__(self, items: Mapping[str, Any]):
        self._data = dict(items)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return repr(self._data)


def freeze(value: Any) -> Any:
    """A JSON value with lists as tuples and objects as FrozenObjects (hashable all the way down)."""
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    if isinstance(value, Mapping):
        return FrozenObject({k: freeze(v) for k, v in value.items()})
    return value


def thaw(value: Any) -> Any:
    """The JSON value `freeze` was given."""
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    if isinstance(value, FrozenObject):
        return {k: thaw(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------------------------
# Nodes


class Node:
    """What every rule node shares: value equality and hashing, and a view of the JSON it stands for.

    A node compares equal to its JSON, and `node["value"]` reads it, so that code written when rules were
    dicts (`spec.rule == {"all": []}`, `spec.rule["value"]`) keeps working. The dataclasses below are
    declared with eq=False so that these methods, not generated ones, are used.
    """

    __slots__ = ()

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__dataclass_fields__)  # type: ignore[attr-defined]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Node):
            return type(self) is type(other) and self._fields() == other._fields()
        if isinstance(other, Mapping):
            return to_json(self) == other  # type: ignore[arg-type]
        return NotImplemented

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._fields()))

    def __getitem__(self, key: str) -> Any:
        return to_json(self)[key]  # type: ignore[arg-type]


@dataclass(frozen=True, eq=False)
class Condition(Node):
    """A comparison on one question. `value` and `unit` are frozen JSON, None when absent."""

    q: str
    op: str
    value: Any = None
    unit: Any = None


@dataclass(frozen=True, eq=False)
class AllOf(Node):
    children: tuple[Rule, ...]


@dataclass(frozen=True, eq=False)
class AnyOf(Node):
    children: tuple[Rule, ...]


@dataclass(frozen=True, eq=False)
class AtLeast(Node):
    n: int
    children: tuple[Rule, ...]


@dataclass(frozen=True, eq=False)
class Not(Node):
    child: Rule


@dataclass(frozen=True, eq=False)
class Malformed(Node):
    """JSON where a rule should be that is not one. The engine screens it as "needs review" (`reason` says
    why), describe() calls it an invalid rule, and to_json gives the JSON back."""

    raw: Any  # frozen
    reason: str


Rule = Condition | AllOf | AnyOf | AtLeast | Not | Malformed


def to_json(rule: Rule | None) -> Any:
    """The JSON of a rule (None for no rule)."""
    if rule is None:
        return None
    if isinstance(rule, Condition):
        out: dict[str, Any] = {"q": rule.q, "op": rule.op}
        if rule.value is not None:
            out["value"] = thaw(rule.value)
        if rule.unit is not None:
            out["unit"] = thaw(rule.unit)
        return out
    if isinstance(rule, AllOf):
        return {"all": [to_json(c) for c in rule.children]}
    if isinstance(rule, AnyOf):
        return {"any": [to_json(c) for c in rule.children]}
    if isinstance(rule, AtLeast):
        return {"at_least": rule.n, "of": [to_json(c) for c in rule.children]}
    if isinstance(rule, Not):
        return {"not": to_json(rule.child)}
    return thaw(rule.raw)


# --------------------------------------------------------------------------------------------
# Reading JSON


# Checks one condition (the raw JSON object) against something outside the language, e.g. the question
# catalogue (rules.validate_rule), adding what it finds to the list.
ConditionCheck = Callable[[Mapping[str, Any], str, list[Problem]], None]


def read_rule(raw: Any, problems: list[Problem] | None = None, check: ConditionCheck | None = None) -> Rule:
    """The nodes of a JSON rule. Never raises: what is not a rule becomes a Malformed node.

    With `problems`, every problem of the rule's shape is added to it (and, with `check`, whatever `check`
    finds in each condition), in the order they appear, each with its path ("rule.any[2]").
    """
    return _read(raw, "rule", problems, check)


def _read(raw: Any, path: str, problems: list[Problem] | None, check: ConditionCheck | None) -> Rule:
    def note(code: str, message: Text) -> None:
        if problems is not None:
            problems.append(Problem(code, message, path))

    if not isinstance(raw, Mapping):
        note("not_an_object", say("rule_not_object", got=_typename(raw)))
        return Malformed(freeze(raw), f"a rule must be an object, not {type(raw).__name__}")
    logic = [k for k in ("all", "any", "not", "at_least") if k in raw]
    if "q" in raw:
        if logic:
            note("mixed_node", Message("rule_mixed_node"))
        if check is not None and problems is not None:
            check(raw, path, problems)
        return _condition(raw)
    if len(logic) != 1:
        note("unknown_node", Message("rule_unknown_node"))
        if not logic:
            return Malformed(freeze(raw), f"unknown rule node with keys {sorted(map(str, raw))}")
        # Read as the engine always has (the first of not / all / any / at_least), but the problem
        # above is the whole story: nothing inside is checked.
        problems = None
    # The engine's order, so that a node with two keys screens as it always did.
    kind = next(k for k in ("not", "all", "any", "at_least") if k in raw)
    if kind == "not":
        return Not(_read(raw["not"], f"{path}.not", problems, check))
    key = "of" if kind == "at_least" else kind
    items = raw.get(key)
    if not isinstance(items, list):
        note("not_a_list", say("rule_not_a_list", key=key))
        return Malformed(freeze(raw), f"'{key}' must be a list of rules")
    if kind == "at_least":
        n = raw.get("at_least")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1 or n > len(items):
            note("bad_count", say("rule_bad_count", count=len(items), got=repr(n)))
    elif kind == "any" and not items:
        note("empty_group", Message("rule_empty_any"))
    children = tuple(_read(child, f"{path}.{key}[{i}]", problems, check) for i, child in enumerate(items))
    if kind == "all":
        return AllOf(children)
    if kind == "any":
        return AnyOf(children)
    try:
        # As the engine always read it: "2" and 2.0 count as 2 (validation still reports them).
        need = int(raw["at_least"])
    except (TypeError, ValueError, OverflowError) as exc:
        return Malformed(freeze(raw), f"'at_least' is not a number ({exc})")
    return AtLeast(need, children)


def _condition(raw: Mapping[str, Any]) -> Rule:
    q, op = raw.get("q"), raw.get("op")
    # The engine cannot evaluate a condition without a question code or an operator name; anything else
    # (an unknown code or operator, a value of the wrong kind) it reads and judges when it evaluates.
    if not isinstance(q, str):
        return Malformed(freeze(raw), f'a condition\'s "q" must be a question code, not {_typename(q)}')
    if not isinstance(op, str):
        return Malformed(freeze(raw), f"unknown operator {op!r}")
    return Condition(q, op, freeze(raw.get("value")), freeze(raw.get("unit")))


def _typename(value: Any) -> str:
    return {dict: "object", list: "list", str: "text", bool: "true/false", int: "number", float: "number"}.get(
        type(value), type(value).__name__ if value is not None else "nothing"
    )


def as_rule(rule: Any) -> Rule | None:
    """`rule` as nodes: nodes and None as they are, JSON read (for callers that still hold JSON)."""
    if rule is None or isinstance(rule, Node):
        return rule  # type: ignore[return-value]
    return read_rule(rule)


def walk(rule: Rule | None) -> Iterator[Rule]:
    """Every node of a rule, parents before children."""
    if rule is None:
        return
    yield rule
    if isinstance(rule, (AllOf, AnyOf, AtLeast)):
        for child in rule.children:
            yield from walk(child)
    elif isinstance(rule, Not):
        yield from walk(rule.child)
