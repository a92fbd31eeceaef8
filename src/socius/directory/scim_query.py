"""SCIM filters and sorting (RFC 7644 §3.4.2) as SQL over the identities of one source.

A filter is translated node by node into a condition on `directory_identity`, where the resource is stored as the
client sent it (`raw["scim"]`), with `id`, `active` and `meta` from the row's own columns. The comparisons Entra ID
and Okta send hit an index (see the SCIM expressions of socius.directory.models):

    userName eq/sw/gt…, displayName eq/sw…      btree on (source_id, lower(…) COLLATE "C")
    externalId eq                               btree on (source_id, externalId)
    emails.value eq, emails[type eq "work"].value eq, emails[type eq … and value eq …]
                                                GIN (jsonb_path_ops) on the lowercased e-mail entries
    meta.lastModified gt/ge/lt/le, sortBy meta.lastModified     btree on (source_id, updated_at)
    id eq                                       the primary key

Every other comparison of a string or boolean attribute is still evaluated in SQL, without an index, over the
calling source's own rows. The semantics are those of `scim2_models.ScimFilter.match`: attribute values compare
case-insensitively unless the attribute is caseExact, a missing value matches no operator but `ne`, a
multi-valued attribute matches `ne` only when none of its values is equal. NOT is pushed down to the comparisons
(De Morgan) so that a negated comparison keeps that meaning when the value is missing (SQL NULL).

What is not translated — comparisons of JSON dateTime/binary/number values, `meta.version`, `meta.resourceType`,
`schemas`, presence of complex attributes, sorting on a multi-valued attribute — is reported as not exact; the
caller then evaluates the filter in Python over the candidates the translated part narrows to, and only when there
are at most MAX_CANDIDATES of them.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from inspect import isclass
from typing import Any

from pydantic import EmailStr
from scim2_models import EnterpriseUser, Path
from scim2_models.path.expressions import (
    CompareOperator,
    Comparison,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)
from scim2_models.path.resolution import coerce_value
from sqlalchemy import ColumnElement, Text, and_, cast, false, func, literal, not_, or_, select, true
from sqlalchemy.dialects.postgresql import JSONB

from socius.directory.models import (
    SCIM_DISPLAY_NAME,
    SCIM_EMAILS,
    SCIM_EXTERNAL_ID,
    SCIM_USER_NAME,
    DirectoryIdentity,
    scim_json,
    scim_text,
)

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ORDERING = {CompareOperator.gt: "__gt__", CompareOperator.ge: "__ge__", CompareOperator.lt: "__lt__",
            CompareOperator.le: "__le__"}
# Lowercased and indexed (the comparison must use the very expression the index is built on).
INDEXED_CI = {("userName",): SCIM_USER_NAME, ("displayName",): SCIM_DISPLAY_NAME}


@dataclass(frozen=True)
class Condition:
    """`sql` holds for every resource the filter matches (None: no narrowing); `exact` when it is the filter."""

    sql: ColumnElement[bool] | None
    exact: bool


INEXACT = Condition(None, False)


def translate(scim_filter: Any) -> Condition:
    return _Translator(scim_filter).visit(scim_filter.ast, positive=True)


def sort_key(binding: Any) -> ColumnElement[Any] | None:
    """The SQL that orders resources as `SearchRequest.sort` does, or None when it cannot be expressed."""
    if binding is None:
        return None
    column = _column(binding)
    if column is None or column.multivalued:
        return None
    if column.kind in ("text", "id"):
        return column.key(ordering=True)
    if column.kind in ("datetime", "bool_column"):
        return column.expr
    return None


# --- attributes ---------------------------------------------------------------------------------------------

def _alias(model: Any, name: str) -> str:
    field = model.model_fields[name]
    return field.serialization_alias or field.alias or name


@dataclass(frozen=True)
class _Column:
    """An attribute as SQL: `expr` (text, or a column), its kind, and how strings compare."""

    expr: Any
    kind: str  # text | json_bool | bool_column | datetime | id
    case_exact: bool = True
    multivalued: bool = False
    json_path: tuple[str, ...] = ()
    sub: str | None = None  # for a multi-valued attribute: the key compared in each entry

    def key(self, *, ordering: bool = False) -> ColumnElement[Any]:
        """The expression comparisons use: lowercased unless case-exact, collation "C" to order by code point."""
        if self.kind == "id":
            return cast(DirectoryIdentity.id, Text).collate("C")
        indexed = INDEXED_CI.get(self.json_path)
        if indexed is not None:
            return indexed
        if self.json_path == ("externalId",) and not ordering:
            return SCIM_EXTERNAL_ID
        if not self.case_exact:
            return func.lower(self.expr.collate("C"))
        return self.expr.collate("C")


def _is_text(target: Any) -> bool:
    """A SCIM string (references and enumerations such as Email.Type are str subclasses; EmailStr is not)."""
    return isclass(target) and (issubclass(target, str) or target is EmailStr)


def _column(binding: Any) -> _Column | None:
    """Where an attribute lives in a row, or None when it is not translated."""
    model, name, sub = binding.model, binding.field_name, binding.sub_field_name
    target = binding.target_type
    if binding.urn.startswith(ENTERPRISE + ":") or (isclass(model) and issubclass(model, EnterpriseUser)):
        head = (ENTERPRISE, _alias(EnterpriseUser, name))
    else:
        head = (_alias(model, name),)
    if head == ("id",):
        return _Column(DirectoryIdentity.id, "id")
    if head == ("active",):
        return _Column(DirectoryIdentity.active, "bool_column")
    if head == ("meta",):
        if sub == "last_modified":
            return _Column(DirectoryIdentity.updated_at, "datetime")
        if sub == "created":
            return _Column(DirectoryIdentity.created_at, "datetime")
        return None  # version, resourceType, location: not stored as such
    if head == ("schemas",):
        return None
    if _is_text(target):
        kind = "text"
    elif target is bool:
        kind = "json_bool"
    else:
        return None
    sub_key = _alias(binding.field_type, sub) if sub else None
    if binding.is_multivalued:
        if sub_key is None:
            return None  # a multi-valued simple attribute (none in the User schema but `schemas`)
        return _Column(None, kind, binding.case_exact, True, head, sub_key)
    path = (*head, sub_key) if sub_key else head
    return _Column(scim_text(*path), kind, binding.case_exact, json_path=path)


def _element_column(element: Any, binding: Any, outer: _Column) -> _Column | None:
    """An attribute of one entry of a multi-valued attribute (inside `emails[…]`)."""
    if binding.sub_field_name or binding.is_multivalued:
        return None
    target = binding.target_type
    kind = "text" if _is_text(target) else "json_bool" if target is bool else None
    if kind is None:
        return None
    key = _alias(binding.model, binding.field_name)
    return _Column(element.op("->>", return_type=Text)(literal(key)), kind, binding.case_exact,
                   json_path=(*outer.json_path, key))


# --- comparisons --------------------------------------------------------------------------------------------

def _like_escape(value: str) -> str:
    return value.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _compare(column: _Column, op: CompareOperator, value: Any) -> ColumnElement[bool] | None:
    """The positive comparison (NULL where the value is missing); None when not translated."""
    if value is None:
        return column.expr.is_(None) if op == CompareOperator.eq and column.kind != "id" else None
    if column.kind == "id":
        if op == CompareOperator.eq:
            ok = isinstance(value, str) and value.isascii() and value.isdigit() and int(value) < 2**63
            return DirectoryIdentity.id == int(value) if ok else false()
        kind_value = str(value)
    elif column.kind == "bool_column":
        return column.expr.is_(bool(value)) if isinstance(value, bool) and op == CompareOperator.eq else None
    elif column.kind == "json_bool":
        if not isinstance(value, bool) or op != CompareOperator.eq:
            return None
        return column.expr == ("true" if value else "false")
    elif column.kind == "datetime":
        if op == CompareOperator.eq:
            return column.expr == value
        return getattr(column.expr, ORDERING[op])(value) if op in ORDERING else None
    elif not isinstance(value, str):
        return None
    else:
        kind_value = value
    key = column.key()
    case_exact = column.case_exact or column.kind == "id"
    operand = literal(kind_value, Text) if case_exact else func.lower(literal(kind_value, Text))
    if op == CompareOperator.eq:
        return key == operand
    if op in ORDERING:
        return getattr(key, ORDERING[op])(operand)
    escaped = literal(_like_escape(kind_value), Text)
    pattern = escaped if case_exact else func.lower(escaped)
    if op == CompareOperator.sw:
        return key.like(pattern + "%", escape="/")
    if op == CompareOperator.ew:
        return key.like("%" + pattern, escape="/")
    if op == CompareOperator.co:
        return key.like("%" + pattern + "%", escape="/")
    return None


def _present(column: _Column) -> ColumnElement[bool] | None:
    if column.kind in ("id", "bool_column", "datetime"):
        return true()
    if column.kind == "json_bool":
        return column.expr.is_not(None)
    return and_(column.expr.is_not(None), column.expr != "")


def _negate(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """NOT, where a missing value (NULL) makes the negation true, as a missing value matches nothing."""
    return func.coalesce(not_(condition), true())


class _Translator:
    def __init__(self, scim_filter: Any) -> None:
        self.filter = scim_filter

    def visit(self, node: Any, *, positive: bool) -> Condition:
        if isinstance(node, Not):
            return self.visit(node.expr, positive=not positive)
        if isinstance(node, LogicalExpr):
            # De Morgan: under NOT, and becomes or and the other way round.
            conjunction = (node.op == LogicalOperator.and_) == positive
            parts = [self.visit(term, positive=positive) for term in node.terms]
            exact = all(p.exact for p in parts)
            if conjunction:
                known = [p.sql for p in parts if p.sql is not None]
                return Condition(and_(*known) if known else None, exact)
            if any(p.sql is None for p in parts):
                return INEXACT
            return Condition(or_(*(p.sql for p in parts)), exact)
        if isinstance(node, Comparison):
            return self._comparison(node, positive)
        if isinstance(node, Present):
            return self._present(node, positive)
        if isinstance(node, ValuePath):
            return self._value_path(node, positive)
        return INEXACT

    def _comparison(self, node: Comparison, positive: bool) -> Condition:
        binding = self.filter.resolve_comparison(node.attr_path, strict=False)
        column = _column(binding) if binding is not None else None
        if column is None:
            return INEXACT
        op = node.op
        if op == CompareOperator.ne:  # ne is "no value equals": the negation of eq, in both readings
            op, positive = CompareOperator.eq, not positive
        value = _coerced(binding, node.value, op)
        if column.multivalued:
            return self._any_entry(column, lambda entry: _compare(entry, op, value), positive,
                                   contains={column.sub: value} if op == CompareOperator.eq else None)
        condition = _compare(column, op, value)
        if condition is None:
            return INEXACT
        return Condition(condition if positive else _negate(condition), True)

    def _present(self, node: Present, positive: bool) -> Condition:
        binding = self.filter.resolve(node.attr_path, strict=False)
        column = _column(binding) if binding is not None else None
        if column is None:
            return INEXACT
        if column.multivalued:
            return self._any_entry(column, _present, positive)
        condition = _present(column)
        return Condition(condition if positive else _negate(condition), True)

    def _value_path(self, node: ValuePath, positive: bool) -> Condition:
        """`emails[type eq "work" and value eq "x"]`: some entry matches the inner filter."""
        binding = self.filter.resolve(node.attr_path, strict=False)
        if binding is None or node.sub_attr or not binding.is_multivalued:
            return INEXACT
        outer = _Column(None, "text", multivalued=True, json_path=_head(binding))
        element_model = binding.field_type
        contains = _equalities(node.val_filter)

        def inner(entry_expr: Any) -> ColumnElement[bool] | None:
            translated = _ElementTranslator(element_model, entry_expr, outer).visit(node.val_filter, positive=True)
            return translated

        return self._any_entry(outer, None, positive, contains=contains, inner=inner)

    def _any_entry(self, column: _Column, compare, positive: bool, *, contains: dict | None = None,
                   inner=None) -> Condition:
        """Some entry of a multi-valued attribute matches (EXISTS over its JSON array); with `contains`, the
        e-mail entries' GIN index narrows first."""
        entries = func.jsonb_array_elements(scim_json(*column.json_path)).table_valued("value").alias("entry")
        entry = entries.c.value
        if inner is not None:
            condition = inner(entry)
        else:
            sub = _Column(entry.op("->>", return_type=Text)(literal(column.sub)), column.kind, column.case_exact,
                          json_path=(*column.json_path, column.sub))
            condition = compare(sub)
        if condition is None:
            return INEXACT
        exists = select(1).select_from(entries).where(condition).exists()
        if not positive:
            return Condition(~exists, True)
        indexed = _emails_containment(column.json_path, contains)
        return Condition(and_(indexed, exists) if indexed is not None else exists, True)


class _ElementTranslator:
    """The inner filter of `attr[…]`, on one JSON entry (positive form only; NOT inside brackets is pushed)."""

    def __init__(self, model: Any, entry: Any, outer: _Column) -> None:
        self.model, self.entry, self.outer = model, entry, outer

    def visit(self, node: Any, *, positive: bool) -> ColumnElement[bool] | None:
        if isinstance(node, Not):
            return self.visit(node.expr, positive=not positive)
        if isinstance(node, LogicalExpr):
            conjunction = (node.op == LogicalOperator.and_) == positive
            parts = [self.visit(term, positive=positive) for term in node.terms]
            if any(p is None for p in parts):
                return None
            return and_(*parts) if conjunction else or_(*parts)
        if isinstance(node, Comparison | Present):
            binding = _entry_binding(self.model, str(node.attr_path))
            column = _element_column(self.entry, binding, self.outer) if binding is not None else None
            if column is None:
                return None
            if isinstance(node, Present):
                condition = _present(column)
            else:
                op = node.op
                if op == CompareOperator.ne:
                    op, positive = CompareOperator.eq, not positive
                condition = _compare(column, op, _coerced(binding, node.value, op))
            if condition is None:
                return None
            return condition if positive else _negate(condition)
        return None


@functools.cache
def _entry_binding(model: Any, attr_path: str) -> Any:
    """An attribute of an entry model (Email, PhoneNumber …); resolving builds a model class, so it is cached."""
    try:
        return Path[model](attr_path).resolve()
    except Exception:
        return None


def _head(binding: Any) -> tuple[str, ...]:
    if binding.urn.startswith(ENTERPRISE + ":"):
        return (ENTERPRISE, _alias(EnterpriseUser, binding.field_name))
    return (_alias(binding.model, binding.field_name),)


def _coerced(binding: Any, value: Any, op: CompareOperator) -> Any:
    """The filter's value as the attribute's type (a dateTime string as a datetime). Strings stay as they are:
    the request's validation has checked them already, and coercion builds a pydantic TypeAdapter each time
    (some milliseconds for an EmailStr)."""
    if isinstance(value, str) and _is_text(binding.target_type):
        return value
    value = coerce_value(binding, value, op)
    if hasattr(value, "value") and isinstance(value.value, str):  # an enum such as Email.Type
        value = value.value
    return value


def _equalities(node: Any) -> dict[str, Any] | None:
    """`type eq "work" and value eq "x"` → {"type": "work", "value": "x"}: what one entry must contain."""
    if isinstance(node, Comparison) and node.op == CompareOperator.eq and isinstance(node.value, str) \
            and not node.attr_path.sub_attr and not node.attr_path.uri:
        return {node.attr_path.attr: node.value}
    if isinstance(node, LogicalExpr) and node.op == LogicalOperator.and_:
        parts = [_equalities(term) for term in node.terms]
        if all(p is not None for p in parts):
            merged: dict[str, Any] = {}
            for part in parts:
                for k, v in part.items():
                    if merged.get(k, v) != v:
                        return None
                    merged[k] = v
            return merged
    return None


def _emails_containment(path: tuple[str, ...], contains: dict | None) -> ColumnElement[bool] | None:
    """For e-mails only (the GIN index): the lowercased entries contain one with these lowercased values. The
    keys are the attribute names as the filter spells them, which are case-insensitive: lowercase them too."""
    if path != ("emails",) or not contains:
        return None
    wanted_entry = {k.lower(): v for k, v in contains.items() if isinstance(v, str)}
    # The value alone: `"type": "work"` is in nearly every row, and GIN would read that whole posting list too.
    # The EXISTS beside it checks the type.
    if "value" in wanted_entry:
        wanted_entry = {"value": wanted_entry["value"]}
    if not wanted_entry:
        return None
    wanted = json.dumps([wanted_entry], ensure_ascii=False)
    return SCIM_EMAILS.op("@>", return_type=JSONB)(cast(func.lower(literal(wanted, Text)), JSONB))
