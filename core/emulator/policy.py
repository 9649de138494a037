"""An exact evaluator of IAM identity policies, for the emulator's own permission checks.

moto's evaluator (moto/iam/access_control.py) understands only StringEquals and skips every other condition
operator, which makes it kinder than AWS: an execution role moto lets read a model would be refused on AWS. This one
follows the AWS IAM User Guide, and a condition operator it does not know makes its condition false.

Sources, all under https://docs.aws.amazon.com/IAM/latest/UserGuide/:
- reference_policies_evaluation-logic.html: an explicit Deny wins, else an Allow allows, else the deny is implicit.
- reference_policies_elements_condition_operators.html: the operators, ...IfExists, Null, and "if the key is not
  present in the request context ... the condition is false", unless the operator is negated ("Not").
- reference_policies_condition-single-vs-multi-valued-context-keys.html: ForAllValues and ForAnyValue.
- reference_policies_variables.html: ${...} variables, their defaults and escapes, and variables with no value.
- reference_policies_elements_resource.html and reference_policies_elements_action.html: wildcards and case.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

Decision = Literal["allowed", "explicitDeny", "implicitDeny"]

# Variables were introduced with this policy-language version; under any other one "${...}" is literal text.
_VARIABLES_VERSION = "2012-10-17"

_Context = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class _Wildcard:
    """A `*` (any run of characters) or `?` (one character) of a pattern; `colon` says whether it may take a `:`."""

    many: bool
    colon: bool = True


# A pattern is a sequence of tokens: a str token is one literal character.
_Token = str | _Wildcard
_Matcher = Callable[[Sequence[_Token], str], bool]


def decide(documents: Iterable[Mapping[str, Any] | str], action: str, resource: str,
           context: Mapping[str, str | Sequence[str]] | None = None) -> Decision:
    """Whether the identity holding these policy documents may perform `action` on `resource`.

    `context` maps condition keys (any case) to a value or, for a multivalued key, a sequence of values."""
    values = {key.lower(): (value,) if isinstance(value, str) else tuple(value)
              for key, value in (context or {}).items()}
    allowed = False
    for document in documents:
        policy = json.loads(document) if isinstance(document, str) else document
        variables = policy.get("Version") == _VARIABLES_VERSION
        for statement in _listed(policy.get("Statement")):
            if not isinstance(statement, Mapping) or statement.get("Effect") not in ("Allow", "Deny"):
                continue
            if _applies(statement, action, resource, values, variables):
                if statement["Effect"] == "Deny":
                    return "explicitDeny"
                allowed = True
    return "allowed" if allowed else "implicitDeny"


def allows(documents: Iterable[Mapping[str, Any] | str], action: str, resource: str,
           context: Mapping[str, str | Sequence[str]] | None = None) -> bool:
    """`decide(...) == "allowed"`."""
    return decide(documents, action, resource, context) == "allowed"


def _listed(element: Any) -> list[Any]:
    """A policy element that may be one item or a list of them, as a list."""
    if element is None:
        return []
    return element if isinstance(element, list) else [element]


def _applies(statement: Mapping[str, Any], action: str, resource: str, context: _Context, variables: bool) -> bool:
    """Whether the statement's action, resource and condition all match the request."""
    return (_element_matches(statement, "Action", lambda pattern: _action_matches(pattern, action))
            and _element_matches(statement, "Resource",
                                 lambda pattern: _resource_matches(pattern, resource, context, variables))
            and _condition_holds(statement.get("Condition", {}), context, variables))


def _element_matches(statement: Mapping[str, Any], name: str, matches: Callable[[str], bool]) -> bool:
    """Action/NotAction or Resource/NotResource: the statement needs exactly one of the pair."""
    if (name in statement) == (f"Not{name}" in statement):
        return False
    patterns = [pattern for pattern in _listed(statement.get(name, statement.get(f"Not{name}")))
                if isinstance(pattern, str)]
    hit = any(matches(pattern) for pattern in patterns)
    return hit if name in statement else not hit


def _action_matches(pattern: str, action: str) -> bool:
    """Action names are case-insensitive; `*` and `?` are wildcards."""
    return _match(_wildcards(pattern.lower()), action.lower())


def _resource_matches(pattern: str, resource: str, context: _Context, variables: bool) -> bool:
    """Case-sensitive. In the first five parts of an ARN a wildcard stays within its part, except that "If the *
    wildcard is the last character of a resource ARN segment, it can expand to match beyond the colon boundaries";
    in the resource part (after the fifth colon) wildcards match anything, `/` and `:` included. A pattern with a
    variable that has no value "will not match any resource"."""
    tokens = _tokens(pattern, context, variables)
    if tokens is None:
        return False
    parts = _arn_parts(tokens)
    bounded: list[_Token] = []
    for index, part in enumerate(parts):
        if index:
            bounded.append(":")
        for position, token in enumerate(part):
            trailing_star = _is_star(token) and position == len(part) - 1
            bounded.append(_Wildcard(token.many, colon=False)
                           if isinstance(token, _Wildcard) and index < 5 and not trailing_star else token)
    return _match(bounded, resource)


def _condition_holds(condition: Any, context: _Context, variables: bool) -> bool:
    """Every operator must hold, and within an operator every key."""
    if not isinstance(condition, Mapping):
        return False
    return all(isinstance(block, Mapping)
               and all(_key_holds(name, key, _policy_values(values), context, variables)
                       for key, values in block.items())
               for name, block in condition.items())


def _policy_values(values: Any) -> list[str]:
    """A condition's value or values, as strings (IAM also takes JSON booleans and numbers)."""
    return [str(value).lower() if isinstance(value, bool) else str(value) for value in _listed(values)]


def _key_holds(name: str, key: str, policy_values: list[str], context: _Context, variables: bool) -> bool:
    """One condition key under one operator, such as `ForAllValues:StringLikeIfExists`."""
    request_values = context.get(key.lower()) or None  # a key with no values is as good as absent
    if name == "Null":
        return any(value.lower() == ("true" if request_values is None else "false") for value in policy_values)
    set_operator, _, base = name.rpartition(":")
    if_exists = base.endswith("IfExists")
    known = _OPERATORS.get(base.removesuffix("IfExists"))
    if known is None or set_operator not in ("", "ForAllValues", "ForAnyValue"):
        return False
    matcher, negated, takes_variables = known
    if request_values is None:
        # "ForAllValues ... also returns true if there are no context keys in the request"; ForAnyValue returns false.
        return if_exists or set_operator == "ForAllValues" or (negated and not set_operator)
    if not set_operator and len(request_values) > 1:
        return False  # "Multivalued context keys require a condition set operator"
    patterns = [_tokens(value, context, variables and takes_variables) for value in policy_values]

    def value_holds(request_value: str) -> bool:
        # Several policy values are ORed; a negated operator holds when none of them matches (a NOR), and a value
        # whose variable has no value matches nothing: "StringNotEquals ... do match against a null value".
        hit = any(pattern is not None and matcher(pattern, request_value) for pattern in patterns)
        return hit != negated

    if set_operator == "ForAllValues":
        return all(value_holds(value) for value in request_values)
    return any(value_holds(value) for value in request_values)


_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_VARIABLE_BODY = re.compile(r"\s*([^\s,']+)\s*(?:,\s*'([^']*)'\s*)?")


def _tokens(text: str, context: _Context, variables: bool) -> list[_Token] | None:
    """`text` as a pattern, its `${...}` variables replaced by literal text; None when one has no value."""
    tokens: list[_Token] = []
    end = 0
    for found in _VARIABLE.finditer(text) if variables else ():
        value = _variable(found.group(1), context)
        if value is None:
            return None
        tokens += _wildcards(text[end:found.start()])
        tokens += list(value)
        end = found.end()
    return tokens + _wildcards(text[end:])


def _wildcards(text: str) -> list[_Token]:
    return [_Wildcard(many=char == "*") if char in "*?" else char for char in text]


def _variable(body: str, context: _Context) -> str | None:
    """The value of `${body}`: `${*}`, `${?}` and `${$}` are those characters; `${key, 'default'}` falls back to
    the default. Only a single-valued key can be a variable."""
    if body in ("*", "?", "$"):
        return body
    parsed = _VARIABLE_BODY.fullmatch(body)
    if parsed is None:
        return None
    values = context.get(parsed.group(1).lower(), ())
    return values[0] if len(values) == 1 else parsed.group(2)


def _text(tokens: Sequence[_Token]) -> str:
    """A pattern read as plain text, its wildcards as the characters they were written as."""
    return "".join(token if isinstance(token, str) else "*" if token.many else "?" for token in tokens)


def _match(pattern: Sequence[_Token], text: str) -> bool:
    """Whether the pattern matches the whole text. It walks a set of pattern positions, so no pattern can make it
    backtrack (a regex such as `.*a.*a.*a...b` can take minutes)."""
    states = _after_empty_stars(pattern, {0})
    for char in text:
        following = set()
        for state in states:
            if state == len(pattern):
                continue
            token = pattern[state]
            if isinstance(token, str):
                if token == char:
                    following.add(state + 1)
            elif token.colon or char != ":":
                following.add(state if token.many else state + 1)
        states = _after_empty_stars(pattern, following)
    return len(pattern) in states


def _after_empty_stars(pattern: Sequence[_Token], states: set[int]) -> set[int]:
    """The states plus those reached by letting `*` tokens match nothing."""
    reached = set(states)
    for state in states:
        while state < len(pattern) and _is_star(pattern[state]):
            state += 1
            reached.add(state)
    return reached


def _is_star(token: _Token) -> bool:
    return isinstance(token, _Wildcard) and token.many


def _arn_parts(tokens: Sequence[_Token]) -> list[list[_Token]]:
    """The pattern split at its first five literal colons: the six parts of an ARN (fewer if it has fewer)."""
    parts: list[list[_Token]] = [[]]
    for token in tokens:
        if token == ":" and len(parts) < 6:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _string_equals(pattern: Sequence[_Token], value: str) -> bool:
    return _text(pattern) == value


def _string_equals_ignore_case(pattern: Sequence[_Token], value: str) -> bool:
    return _text(pattern).casefold() == value.casefold()


def _arn_like(pattern: Sequence[_Token], value: str) -> bool:
    """ArnEquals and ArnLike "behave identically": each of the six colon-delimited parts is matched separately."""
    parts = _arn_parts(pattern)
    values = value.split(":", 5)
    return len(parts) == len(values) == 6 and all(map(_match, parts, values))


def _bool(pattern: Sequence[_Token], value: str) -> bool:
    expected = _text(pattern).lower()
    return expected in ("true", "false") and expected == value.lower()


def _number(text: str) -> Decimal | None:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _numeric(compare: Callable[[Decimal, Decimal], bool]) -> _Matcher:
    """A numeric operator comparing the request's value (left) with the policy's; a non-number matches nothing."""
    def matcher(pattern: Sequence[_Token], value: str) -> bool:
        policy, request = _number(_text(pattern)), _number(value)
        return policy is not None and request is not None and compare(request, policy)
    return matcher


# Base operator -> (positive matcher, negated, takes policy variables). Variables work "in any condition that
# involves the string operators or the ARN operators" (reference_policies_variables.html).
_OPERATORS: dict[str, tuple[_Matcher, bool, bool]] = {
    "StringEquals": (_string_equals, False, True),
    "StringNotEquals": (_string_equals, True, True),
    "StringEqualsIgnoreCase": (_string_equals_ignore_case, False, True),
    "StringNotEqualsIgnoreCase": (_string_equals_ignore_case, True, True),
    "StringLike": (_match, False, True),
    "StringNotLike": (_match, True, True),
    "ArnEquals": (_arn_like, False, True),
    "ArnLike": (_arn_like, False, True),
    "ArnNotEquals": (_arn_like, True, True),
    "ArnNotLike": (_arn_like, True, True),
    "Bool": (_bool, False, False),
    "NumericEquals": (_numeric(operator.eq), False, False),
    "NumericNotEquals": (_numeric(operator.eq), True, False),
    "NumericLessThan": (_numeric(operator.lt), False, False),
    "NumericLessThanEquals": (_numeric(operator.le), False, False),
    "NumericGreaterThan": (_numeric(operator.gt), False, False),
    "NumericGreaterThanEquals": (_numeric(operator.ge), False, False),
}
