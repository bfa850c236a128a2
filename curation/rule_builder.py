"""The admin's rule builder: form fields <-> a rule tree. No Django imports.

The builder posts its tree as flat form fields named by path. The top group is ``rb``, its children
``rb.0``, ``rb.1``, theirs ``rb.1.0`` and so on; each node's fields are ``<path>-<name>``:

    -kind        all / any / at_least / not (groups), cond (a condition), none (top only: no rule yet)
    -count       N of "at least N of"
    -q, -op      the question and the operator; -prev_q is the question the form was drawn for
    -value       a number, yes/no ("true"/"false") or one choice
    -vunit       the unit a number (or between's two) is typed in, e.g. "mmol/mol" for HbA1c: converted to the
                 question's canonical unit (eligibility/units.py) as answers typed in it are, and stored so
    -values      several choices (in / not_in), repeated
    -low, -high  between
    -amount, -unit                                 within / before, e.g. "9" "weeks"
    -min_amount, -min_unit, -max_amount, -max_unit age_between

`read` turns posted fields (plus the raw JSON text, and which of the two is the rule of record)
into a `BuilderState`: the tree, the rule, every problem attached to the node it is about, and the
rule in plain words. Conversion is lenient on purpose: a value that is not a number stays text, so
that `validate_rule`, the one judge of what a valid rule is, reports it with its path.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eligibility import jsontext
from eligibility.engine import BOOLEAN, CHOICE, DATE, DURATION_UNITS, MULTI, NUMBER, QuestionSpec
from eligibility.nodes import AllOf, AnyOf, AtLeast, Condition, Not, Rule, as_rule, read_rule, thaw
from eligibility.rules import COMPARISONS, OPERATORS_BY_TYPE, InvalidRule, Problem, describe, parse_rule, validate_rule
from eligibility.units import to_canonical, units_for
from eligibility.vocabulary import OPERATOR_WORDS, format_number

ROOT = "rb"
ALL, ANY, AT_LEAST, NOT, COND, NONE = "all", "any", "at_least", "not", "cond", "none"
GROUP_KINDS = (ALL, ANY, AT_LEAST, NOT)


def gettext_noop(message: str) -> str:
    """Marks a label for translation (makemessages finds it) without importing Django; the admin's templates
    translate it when they show it."""
    return message


GROUP_LABELS = {
    ALL: gettext_noop("all of"),
    ANY: gettext_noop("any of"),
    AT_LEAST: gettext_noop("at least N of"),
    NOT: gettext_noop("not"),
    NONE: gettext_noop("no rule yet (needs review)"),
}

# Form keys outside the tree.
ACTION = "_rule_action"  # a builder button: add_condition:PATH, add_group:PATH, remove:PATH, update, json
CHANGE = "_rule_change"  # sent by the live (htmx) refresh when any builder input changes
ORIGIN = "rule_origin"  # which one the admin is saving: "builder" or "json"
JSON_FIELD = "rule_json"
BUILDER, JSON = "builder", "json"

DURATION_CHOICES = ("days", "weeks", "months", "years")
DURATION_LABELS = {
    "days": gettext_noop("days"),
    "weeks": gettext_noop("weeks"),
    "months": gettext_noop("months"),
    "years": gettext_noop("years"),
}
MAX_DEPTH = 20  # deeper paths in a post are ignored (no real rule nests this far)

_DEFAULT_OP = {BOOLEAN: "=", NUMBER: ">", DATE: "within", CHOICE: "=", MULTI: "in"}
# Where a form needs other words than describe() uses (vocabulary.OPERATOR_WORDS, the fallback).
_OP_LABELS = {
    NUMBER: {
        "=": gettext_noop("= equals"),
        "!=": gettext_noop("≠ is not"),
        "<": gettext_noop("< below"),
        "<=": gettext_noop("≤ at most"),
        ">": gettext_noop("> above"),
        ">=": gettext_noop("≥ at least"),
    },
    DATE: {"within": gettext_noop("less than … ago"), "before": gettext_noop("at least … ago")},
    MULTI: {"in": gettext_noop("includes any of"), "not_in": gettext_noop("includes none of")},
}
# The same words as vocabulary.OPERATOR_WORDS, here so that the form's labels are marked for translation.
_COMMON_LABELS = {
    "age_between": gettext_noop("between (age limits)"),
    "=": gettext_noop("is"),
    "!=": gettext_noop("is not"),
    "in": gettext_noop("is one of"),
    "not_in": gettext_noop("is none of"),
    "answered": gettext_noop("is answered"),
    "not_answered": gettext_noop("is not answered"),
    "between": gettext_noop("between"),
}
_DURATION_RE = re.compile(r"^\s*(\S+)\s+([a-zA-Z]+)\s*$")


@dataclass
class Node:
    """One node of the builder's tree: a group or a condition, with its raw form values."""

    kind: str = ALL
    children: list[Node] = field(default_factory=list)
    count: str = "1"
    q: str = ""
    prev_q: str = ""
    op: str = ""
    value: str = ""
    values: list[str] = field(default_factory=list)
    low: str = ""
    high: str = ""
    amount: str = ""
    unit: str = "weeks"
    min_amount: str = ""
    min_unit: str = "years"
    max_amount: str = ""
    max_unit: str = "years"
    vunit: str = ""
    # Set by the builder, not posted:
    path: str = ROOT
    depth: int = 0
    rule_path: str | None = None  # where validate_rule points for this node (None: not in the rule)
    problems: list[Problem] = field(default_factory=list)
    # For drawing a condition, set by fit():
    spec: QuestionSpec | None = None
    op_choices: list[tuple[str, str]] = field(default_factory=list)
    input: str = ""  # which value inputs: number, between, boolean, choice, choices, duration, age or ""
    unit_choices: tuple[str, ...] = ()  # units a number may be typed in (the canonical one first), if several
    converted: str = ""  # a number typed in another unit, as it is stored: "7 %"

    @property
    def is_group(self) -> bool:
        return self.kind != COND

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class BuilderState:
    root: Node
    rule: Any
    json_text: str
    origin: str
    problems: list[Problem]
    words: str
    action: str = ""  # the builder button or refresh this state answers ("" when saving)
    note: str = ""

    @property
    def valid(self) -> bool:
        return not self.problems


# --------------------------------------------------------------------------------------------
# Operators


def operators_for(spec: QuestionSpec | None) -> tuple[str, ...]:
    if spec is None:
        return ()
    ops = OPERATORS_BY_TYPE[spec.type]
    return ("age_between",) + ops if spec.code == "age" else ops


def operator_choices(spec: QuestionSpec | None) -> list[tuple[str, str]]:
    """(operator, label) pairs that fit the question, e.g. ("<=", "≤ at most") for a number."""
    if spec is None:
        return []
    labels = _OP_LABELS.get(spec.type, {})
    return [(op, labels.get(op) or _COMMON_LABELS.get(op) or OPERATOR_WORDS.get(op, op)) for op in operators_for(spec)]


def default_operator(spec: QuestionSpec) -> str:
    return "age_between" if spec.code == "age" else _DEFAULT_OP[spec.type]


def value_input(spec: QuestionSpec | None, op: str) -> str:
    """Which value inputs a condition needs for its question and operator."""
    if spec is None or op in ("answered", "not_answered", ""):
        return ""
    if op == "age_between":
        return "age"
    if op == "between":
        return "between"
    if op in ("within", "before"):
        return "duration"
    if op in ("in", "not_in"):
        return "choices"
    return {BOOLEAN: "boolean", CHOICE: "choice", NUMBER: "number"}.get(spec.type, "")


# --------------------------------------------------------------------------------------------
# Form fields -> tree


def _get(data: Any, key: str) -> str:
    value = data.get(key, "")
    if isinstance(value, list):  # a plain dict of lists
        value = value[-1] if value else ""
    return str(value) if value is not None else ""


def _getlist(data: Any, key: str) -> list[str]:
    if hasattr(data, "getlist"):
        return [str(v) for v in data.getlist(key)]
    value = data.get(key, [])
    return [str(v) for v in value] if isinstance(value, list) else ([str(value)] if value else [])


def from_form(data: Mapping[str, Any]) -> Node:
    """The tree as posted. A form without builder fields is a criterion with no rule."""
    paths = {key[: -len("-kind")] for key in data if key.endswith("-kind") and _is_path(key[: -len("-kind")])}
    if ROOT not in paths:
        return Node(kind=NONE)
    children: dict[str, list[str]] = {}
    for path in paths:
        if path != ROOT:
            children.setdefault(path.rsplit(".", 1)[0], []).append(path)

    def build(path: str) -> Node:
        kind = _get(data, f"{path}-kind")
        if kind not in GROUP_KINDS + (COND,) and not (path == ROOT and kind == NONE):
            kind = ALL if path == ROOT else COND
        if path == ROOT and kind == COND:
            kind = ALL
        node = Node(kind=kind)
        if kind == COND:
            for name in (
                "q",
                "prev_q",
                "op",
                "value",
                "low",
                "high",
                "amount",
                "unit",
                "min_amount",
                "min_unit",
                "max_amount",
                "max_unit",
                "vunit",
            ):
                setattr(node, name, _get(data, f"{path}-{name}").strip() or getattr(Node, name, ""))
            node.values = [v for v in _getlist(data, f"{path}-values") if v]
        else:
            node.count = _get(data, f"{path}-count").strip() or "1"
            ordered = sorted(children.get(path, []), key=lambda p: int(p.rsplit(".", 1)[1]))
            node.children = [build(child) for child in ordered]
        return node

    root = build(ROOT)
    _number_paths(root)
    return root


def _is_path(path: str) -> bool:
    parts = path.split(".")
    # ASCII digits only: "²" and "١" are digits to str.isdigit() too, and int() refuses the first.
    return (
        parts[0] == ROOT
        and len(parts) <= MAX_DEPTH
        and all(p.isascii() and p.isdigit() and len(p) < 6 for p in parts[1:])
    )


def _number_paths(node: Node, path: str = ROOT, depth: int = 0) -> None:
    node.path, node.depth = path, depth
    for i, child in enumerate(node.children):
        _number_paths(child, f"{path}.{i}", depth + 1)


def find(root: Node, path: str) -> Node | None:
    return next((n for n in root.walk() if n.path == path), None)


# --------------------------------------------------------------------------------------------
# Rule -> tree


def from_rule(rule: Any) -> Node:
    """The tree for a rule, JSON or nodes (a single condition sits in an "all of" group of one)."""
    rule = as_rule(rule)
    if rule is None:
        root = Node(kind=NONE)
    else:
        root = _from_node(rule)
        if root.kind == COND:
            root = Node(kind=ALL, children=[root])
    _number_paths(root)
    return root


def _from_node(rule: Rule) -> Node:
    if isinstance(rule, Condition):
        return _condition_node(rule.q, rule.op, thaw(rule.value))
    if isinstance(rule, Not):
        # The builder writes "not" over several children as not (all of them): show it as it was built.
        inner = rule.child.children if isinstance(rule.child, AllOf) else (rule.child,)
        return Node(kind=NOT, children=[_from_node(c) for c in inner])
    if isinstance(rule, (AllOf, AnyOf)):
        return Node(kind=ALL if isinstance(rule, AllOf) else ANY, children=[_from_node(c) for c in rule.children])
    if isinstance(rule, AtLeast):
        return Node(kind=AT_LEAST, count=str(rule.n), children=[_from_node(c) for c in rule.children])
    return _from_malformed(thaw(rule.raw))


def _from_malformed(raw: Any) -> Node:
    """What the builder can show of a part that is not a rule, so that it can be mended there."""
    if not isinstance(raw, Mapping):
        return Node(kind=COND)
    if "q" in raw:  # no question code or no operator name: a condition to finish
        return _condition_node(_text(raw.get("q")), _text(raw.get("op")), raw.get("value"))
    if "all" in raw or "any" in raw:  # not a list: an empty group to fill in
        return Node(kind=ALL if "all" in raw else ANY)
    if "at_least" in raw:  # a count that is not a number, or "of" that is not a list
        of = raw.get("of")
        children = [_from_node(read_rule(c)) for c in of] if isinstance(of, list) else []
        return Node(kind=AT_LEAST, count=_text(raw["at_least"]), children=children)
    return Node(kind=ALL)  # not a rule at all


def _condition_node(q: str, op: str, value: Any) -> Node:
    node = Node(kind=COND, q=q, op=op)
    node.prev_q = node.q
    if node.op == "age_between" and isinstance(value, Mapping):
        node.min_amount, node.min_unit = _split_duration(value.get("min"), "years")
        node.max_amount, node.max_unit = _split_duration(value.get("max"), "years")
    elif node.op == "between" and isinstance(value, list) and len(value) == 2:
        node.low, node.high = _text(value[0]), _text(value[1])
    elif node.op in ("within", "before"):
        node.amount, node.unit = _split_duration(value, "weeks")
    elif node.op in ("in", "not_in") and isinstance(value, list):
        node.values = [_text(v) for v in value]
    elif isinstance(value, bool):
        node.value = "true" if value else "false"
    else:
        node.value = _text(value)
    return node


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _split_duration(value: Any, default_unit: str) -> tuple[str, str]:
    if not value:
        return "", default_unit
    match = _DURATION_RE.match(str(value))
    if match and match.group(2).lower() in DURATION_UNITS:
        return match.group(1), DURATION_UNITS[match.group(2).lower()]
    return str(value), ""


# --------------------------------------------------------------------------------------------
# Editing the tree


def apply(root: Node, action: str) -> None:
    """Carry out a builder button: add_condition:PATH, add_group:PATH or remove:PATH."""
    verb, _, path = action.partition(":")
    target = find(root, path)
    if target is None:
        return
    if verb in ("add_condition", "add_group") and target.is_group:
        if target.kind == NONE:
            target.kind = ALL
        target.children.append(Node(kind=COND) if verb == "add_condition" else Node(kind=ALL))
    elif verb == "remove" and target is not root:
        parent = find(root, path.rsplit(".", 1)[0])
        if parent is not None:
            parent.children.remove(target)
    _number_paths(root)


def fit(root: Node, catalogue: Mapping[str, QuestionSpec]) -> None:
    """Keep every condition's operator and value inputs fitting its question.

    A condition whose question changed starts afresh: the old operator and value meant something
    for the old question only.
    """
    for node in root.walk():
        if node.kind != COND:
            continue
        spec = catalogue.get(node.q)
        node.spec, node.op_choices, node.input = spec, operator_choices(spec), ""
        if spec is None:
            continue
        if node.prev_q and node.prev_q != node.q:
            fresh = Node(kind=COND, q=node.q, spec=spec, op_choices=node.op_choices)
            node.__dict__.update({k: v for k, v in fresh.__dict__.items() if k not in ("path", "depth", "children")})
        if node.op not in operators_for(spec):
            node.op = default_operator(spec)
        if spec.type == BOOLEAN and node.value not in ("true", "false"):
            node.value = "true"
        if spec.type == DATE and not node.unit:
            node.unit = "weeks"
        node.prev_q = node.q
        node.input = value_input(spec, node.op)
        choices = units_for(spec.unit) if spec.type == NUMBER and spec.unit else ()
        node.unit_choices = choices if len(choices) > 1 else ()
        if not node.unit_choices or not node.vunit:
            node.vunit = spec.unit
        # A unit the question does not take (a forged post) is kept, for the condition to be reported.


# --------------------------------------------------------------------------------------------
# Tree -> rule


def to_rule(root: Node, catalogue: Mapping[str, QuestionSpec]) -> tuple[Any, list[Problem]]:
    """The rule the tree stands for, and the problems only the builder can see (an empty "not",
    a condition with no question). Sets each node's `rule_path`."""
    for node in root.walk():
        node.rule_path = None
        node.problems = []
    problems: list[Problem] = []
    if root.kind == NONE:
        return None, problems
    if root.kind == ALL and len(root.children) == 1:
        # One condition (or group) needs no "all of" around it.
        return _to_rule(root.children[0], "rule", catalogue, problems), problems
    return _to_rule(root, "rule", catalogue, problems), problems


def _to_rule(node: Node, path: str, catalogue: Mapping[str, QuestionSpec], problems: list[Problem]) -> Any:
    node.rule_path = path
    if node.kind == COND:
        if not node.q:
            problems.append(Problem("no_question", "pick a question", path))
        return _condition(node, catalogue.get(node.q))
    if node.kind == NOT:
        if not node.children:
            problems.append(Problem("empty_not", "'not' needs a condition or group inside it", path))
            return {"not": {"all": []}}
        if len(node.children) == 1:
            return {"not": _to_rule(node.children[0], f"{path}.not", catalogue, problems)}
        # Several children under "not": none may hold all together, i.e. not (all of them).
        return {
            "not": {
                "all": [_to_rule(c, f"{path}.not.all[{i}]", catalogue, problems) for i, c in enumerate(node.children)]
            }
        }
    if not node.children and path != "rule" and node.kind == ALL:
        # Valid, but "all of nothing" always holds: inside another group that is a slip, not a rule.
        problems.append(Problem("empty_group", "this group has no conditions yet (empty, it would always hold)", path))
    key = "of" if node.kind == AT_LEAST else node.kind
    children = [_to_rule(c, f"{path}.{key}[{i}]", catalogue, problems) for i, c in enumerate(node.children)]
    if node.kind == AT_LEAST:
        return {"at_least": _count(node.count), "of": children}
    return {node.kind: children}


def _condition(node: Node, spec: QuestionSpec | None) -> dict[str, Any]:
    rule: dict[str, Any] = {"q": node.q, "op": node.op}
    op = node.op
    if not node.q or op in ("answered", "not_answered"):
        return rule
    if op == "age_between":
        bounds = {}
        if node.min_amount:
            bounds["min"] = f"{node.min_amount} {node.min_unit}".strip()
        if node.max_amount:
            bounds["max"] = f"{node.max_amount} {node.max_unit}".strip()
        rule["value"] = bounds
        return rule
    kind = spec.type if spec else None
    node.converted = ""
    if kind == NUMBER and op in COMPARISONS + ("between",) and spec.unit and node.vunit not in ("", spec.unit):
        # Typed in another unit (HbA1c in mmol/mol): stored in the question's unit, rounded as answers typed in that
        # unit are (units.to_canonical), so that a patient at the limit compares equal to it.
        typed = [node.low, node.high] if op == "between" else [node.value]
        values = [_canonical(text, node.vunit, spec.unit) for text in typed]
        if all(_is_number(v) for v in values):
            node.converted = "–".join(format_number(v) for v in values) + f" {spec.unit}"
        rule["value"] = values if op == "between" else values[0]
    elif op == "between":
        rule["value"] = [_number(node.low), _number(node.high)]
    elif op in ("within", "before"):
        rule["value"] = f"{node.amount} {node.unit}".strip() if node.amount else ""
    elif op in ("in", "not_in"):
        rule["value"] = list(node.values)
    elif kind == BOOLEAN:
        rule["value"] = {"true": True, "false": False}.get(node.value, node.value or None)
    elif kind == NUMBER:
        rule["value"] = _number(node.value)
    else:
        rule["value"] = node.value
    if kind == NUMBER and spec.unit and op in COMPARISONS + ("between",):
        rule["unit"] = spec.unit
    return rule


def _number(text: str) -> Any:
    """A number typed in a form; anything else stays as typed, for validation to report."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and abs(number) < 1e15 else number


def _canonical(text: str, unit: str, canonical: str) -> Any:
    """A number typed in `unit`, in `canonical`; anything else stays as typed, for validation to report."""
    number = _number(text)
    if not _is_number(number):
        return number
    try:
        value = to_canonical(float(number), unit, canonical)
    except (ValueError, OverflowError):
        return f"{text} {unit}"  # not a number of the question's unit: validation says so
    if not math.isfinite(value):
        return value
    return int(value) if value.is_integer() and abs(value) < 1e15 else value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _count(text: str) -> Any:
    """N of "at least N of"; anything but a plain whole number stays as typed, for validation to report."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else text


def build(root: Node, catalogue: Mapping[str, QuestionSpec]) -> tuple[Any, list[Problem]]:
    """The rule and every problem in it (builder's and validate_rule's), each attached to its node."""
    rule, problems = to_rule(root, catalogue)
    if rule is not None:
        # A condition with no question yet is reported once, as "pick a question".
        unpicked = {p.path for p in problems if p.code == "no_question"}
        problems += [p for p in validate_rule(rule, catalogue) if p.path not in unpicked]
        # In the order the conditions appear, not builder's problems first.
        position = {n.rule_path: i for i, n in enumerate(root.walk()) if n.rule_path}
        problems.sort(key=lambda p: position.get(p.path, len(position)))
    _attach(root, problems)
    return rule, problems


def _attach(root: Node, problems: list[Problem]) -> None:
    by_path = {n.rule_path: n for n in root.walk() if n.rule_path}
    for problem in problems:
        node = by_path.get(problem.path)
        if node is not None:
            node.problems.append(problem)


# --------------------------------------------------------------------------------------------
# JSON text


def dump(rule: Any, level: int = 0) -> str:
    """The rule as JSON for people: one condition per line, groups indented.

    This lays out the JSON itself, not its nodes: the text must be the rule as stored or as the builder wrote it,
    byte for byte, and nodes give back a tidied JSON (no "value": null while a value is still to be typed, keys
    in their own order, none the language does not know).
    """
    if rule is None:
        return ""
    if isinstance(rule, Mapping) and "q" not in rule:
        pad = "  " * (level + 1)
        for key in ("all", "any", "of"):
            children = rule.get(key)
            if isinstance(children, list) and children:
                head = "".join(
                    f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}, " for k, v in rule.items() if k != key
                )
                items = ",\n".join(pad + dump(child, level + 1) for child in children)
                return "{" + head + json.dumps(key) + ": [\n" + items + "\n" + "  " * level + "]}"
        if set(rule) == {"not"}:
            return '{"not": ' + dump(rule["not"], level) + "}"
    return json.dumps(rule, ensure_ascii=False)


def parse_json(text: str, catalogue: Mapping[str, QuestionSpec]) -> tuple[Any, list[Problem]]:
    """A rule typed as JSON: empty (or null) means no rule; malformed JSON is one problem.

    JSON the database would refuse is malformed too (eligibility/jsontext.py): NaN, Infinity, numbers too long,
    the NUL character, nesting too deep, wherever they are, even in keys validate_rule does not read.
    """
    if not text.strip():
        return None, []
    try:
        rule = jsontext.loads(text)
    except ValueError as exc:
        return None, [Problem("bad_json", f"not valid JSON: {exc}")]
    if rule is None:
        return None, []
    return rule, validate_rule(rule, catalogue)


# --------------------------------------------------------------------------------------------
# The whole state


def initial(rule: Any, catalogue: Mapping[str, QuestionSpec]) -> BuilderState:
    """The builder for a stored rule."""
    # Read once: the tree, the problems and the words all come from the same nodes.
    nodes, problems = None, []
    if rule is not None:
        try:
            nodes = parse_rule(rule, catalogue)
        except InvalidRule as exc:
            nodes, problems = exc.rule, exc.problems
    root = from_rule(nodes)
    fit(root, catalogue)
    to_rule(root, catalogue)  # sets the nodes' rule paths
    _attach(root, problems)
    return BuilderState(root, rule, dump(rule), BUILDER, problems, describe(nodes, catalogue))


def read(data: Mapping[str, Any], catalogue: Mapping[str, QuestionSpec]) -> BuilderState:
    """The builder after a post: a button, a live refresh, or the final save."""
    action = _get(data, ACTION).strip()
    if not action and _get(data, CHANGE):
        action = "refresh"
    origin = JSON if action == "json" else BUILDER if action else (_get(data, ORIGIN) or BUILDER)
    if origin not in (BUILDER, JSON):
        origin = BUILDER
    json_text = _get(data, JSON_FIELD)

    if origin == JSON:
        rule, problems = parse_json(json_text, catalogue)
        # Until the JSON is valid the builder keeps what it showed: a half-typed rule has no tree.
        root = from_form(data) if problems else from_rule(rule)
        fit(root, catalogue)
        to_rule(root, catalogue)
        malformed = any(p.code == "bad_json" for p in problems)
        return BuilderState(
            root,
            rule,
            json_text,
            JSON,
            problems,
            "" if malformed else describe(rule, catalogue),
            action,
            "The builder follows the JSON once the JSON is valid." if problems else "",
        )

    root = from_form(data)
    if action not in ("refresh", "update", ""):
        apply(root, action)
    fit(root, catalogue)
    rule, problems = build(root, catalogue)
    return BuilderState(root, rule, dump(rule), BUILDER, problems, describe(rule, catalogue), action)
