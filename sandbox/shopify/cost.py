"""Calculated query cost and the leaky bucket, per Shopify's published rules.

https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits : scalars and enums cost 0,
objects 1, interfaces and unions the maximum of their possible selections, connections 2 plus the
page size (``first``/``last``) times the cost of one node, mutations 10. A single query may not
request more than 1000. ``actualQueryCost`` counts what was really returned, and the difference is
refunded to the bucket.
"""

from __future__ import annotations

import time

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    get_named_type,
    is_leaf_type,
    value_from_ast_untyped,
)

MUTATION_COST = 10
MAX_QUERY_COST = 1000
CONNECTION_BASE = 2


def is_connection(type_) -> bool:
    return isinstance(type_, GraphQLObjectType) and type_.name.endswith("Connection") and (
        "edges" in type_.fields or "nodes" in type_.fields)


class CostCalculator:
    """Static (requested) cost of one operation of a validated document."""

    def __init__(self, schema: GraphQLSchema, fragments: dict, variables: dict) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables or {}

    def operation(self, operation: OperationDefinitionNode) -> int:
        if operation.operation == OperationType.MUTATION:
            return MUTATION_COST * sum(
                1 for s in operation.selection_set.selections if isinstance(s, FieldNode)
                and s.name.value != "__typename")
        return self.selection(operation.selection_set, self.schema.query_type)

    def _arg(self, node: FieldNode, name: str):
        for arg in node.arguments or ():
            if arg.name.value == name:
                return value_from_ast_untyped(arg.value, self.variables)
        return None

    def selection(self, selection_set, parent) -> int:
        if selection_set is None:
            return 0
        if isinstance(parent, GraphQLInterfaceType | GraphQLUnionType):
            options = self.schema.get_possible_types(parent)
            return max((self._concrete(selection_set, t, parent) for t in options), default=0)
        return self._concrete(selection_set, parent, parent)

    def _applies(self, condition, concrete: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        target = self.schema.get_type(condition.name.value)
        if target is None:
            return False
        return target is concrete or (
            isinstance(target, GraphQLInterfaceType | GraphQLUnionType)
            and self.schema.is_sub_type(target, concrete))

    def _concrete(self, selection_set, concrete, declared) -> int:
        total = 0
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                owner = concrete if sel.name.value in getattr(concrete, "fields", {}) else declared
                field = getattr(owner, "fields", {}).get(sel.name.value)
                if field is not None:
                    total += self.field(sel, field)
            elif isinstance(sel, InlineFragmentNode):
                if self._applies(sel.type_condition, concrete):
                    total += self._concrete(sel.selection_set, concrete, declared)
            elif isinstance(sel, FragmentSpreadNode):
                fragment = self.fragments.get(sel.name.value)
                if fragment and self._applies(fragment.type_condition, concrete):
                    total += self._concrete(fragment.selection_set, concrete, declared)
        return total

    def field(self, node: FieldNode, field) -> int:
        named = get_named_type(field.type)
        if is_leaf_type(named):
            return 0
        if is_connection(named):
            size = self._arg(node, "first") or self._arg(node, "last") or 0
            return CONNECTION_BASE + int(size) * self._per_node(node.selection_set, named)
        inner = 1 + self.selection(node.selection_set, named)
        if self._arg(node, "first") is not None:  # truncated lists such as trackingInfo(first:)
            return int(self._arg(node, "first")) * inner
        ids = self._arg(node, "ids")
        if isinstance(ids, list):
            return max(len(ids), 1) * inner
        return inner

    def _per_node(self, selection_set, connection: GraphQLObjectType) -> int:
        edge = get_named_type(connection.fields["edges"].type) if "edges" in connection.fields else None
        node_type = get_named_type(connection.fields["nodes"].type) if "nodes" in connection.fields \
            else get_named_type(edge.fields["node"].type)
        total = 0
        for sel in _flatten(selection_set, self.fragments):
            if sel.name.value == "nodes":
                total += 1 + self.selection(sel.selection_set, node_type)
            elif sel.name.value == "edges" and edge is not None:
                for inner in _flatten(sel.selection_set, self.fragments):
                    if inner.name.value == "node":
                        total += 1 + self.selection(inner.selection_set, node_type)
        return total


def _flatten(selection_set, fragments):
    for sel in selection_set.selections if selection_set else ():
        if isinstance(sel, FieldNode):
            yield sel
        elif isinstance(sel, InlineFragmentNode):
            yield from _flatten(sel.selection_set, fragments)
        elif isinstance(sel, FragmentSpreadNode) and sel.name.value in fragments:
            yield from _flatten(fragments[sel.name.value].selection_set, fragments)


class ActualCost:
    """graphql-core middleware that adds up the cost of what execution really returned."""

    def __init__(self) -> None:
        self.total = 0

    def resolve(self, next_, root, info, **args):
        result = next_(root, info, **args)
        if info.operation.operation == OperationType.MUTATION:
            if info.parent_type.name == "Mutation":
                self.total += MUTATION_COST
            return result
        named = get_named_type(info.return_type)
        if is_leaf_type(named) or result is None:
            return result
        if is_connection(named):
            self.total += CONNECTION_BASE
        elif named.name.endswith("Edge") or named.name == "PageInfo":
            pass
        elif isinstance(result, list):
            self.total += sum(1 for r in result if r is not None)
        else:
            self.total += 1
        return result


class LeakyBucket:
    """One app x shop bucket: ``size`` points, refilled at ``rate`` points per second."""

    def __init__(self, size: float, rate: float, clock=time.monotonic) -> None:
        self.size = float(size)
        self.rate = float(rate)
        self.clock = clock
        self.available = float(size)
        self.stamp = clock()

    def refill(self) -> None:
        now = self.clock()
        self.available = min(self.size, self.available + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self, cost: int) -> bool:
        self.refill()
        if cost > self.available:
            return False
        self.available -= cost
        return True

    def give_back(self, points: int) -> None:
        self.available = min(self.size, self.available + max(points, 0))

    def set_rate(self, rate: float) -> None:
        self.refill()
        self.rate = float(rate)

    def status(self) -> dict:
        self.refill()
        return {"maximumAvailable": self.size, "currentlyAvailable": int(self.available),
                "restoreRate": self.rate}
