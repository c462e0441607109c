"""The emulator's schema is a faithful subset of the real Admin API 2026-07 SDL."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLUnionType,
    build_schema,
)
from graphql.type import introspection_types, specified_scalar_types

from sandbox.shopify import subset
from sandbox.shopify.graphql_api import SCHEMA_PATH

REFERENCE = Path(__file__).parents[2].parent / "shared/reference/shopify/admin-2026-07.graphql"
BUILTIN = set(introspection_types) | set(specified_scalar_types)


@pytest.fixture(scope="module")
def real():
    if not REFERENCE.exists():
        pytest.skip(f"../shared/reference/shopify/admin-2026-07.graphql not present: "
                    f"no reference to compare {SCHEMA_PATH.name} with ({REFERENCE})")
    return build_schema(REFERENCE.read_text())


@pytest.fixture(scope="module")
def ours():
    return build_schema(SCHEMA_PATH.read_text())


def _args(field) -> dict:
    return {name: (str(a.type), repr(a.default_value), a.deprecation_reason)
            for name, a in field.args.items()}


def test_every_type_exists_with_the_same_kind(real, ours):
    for name, type_ in ours.type_map.items():
        if name in BUILTIN:
            continue
        theirs = real.get_type(name)
        assert theirs is not None, f"{name} is not in the real schema"
        assert type(theirs) is type(type_), f"{name} is a {type(theirs).__name__} in the real schema"


def test_fields_and_arguments_have_real_signatures(real, ours):
    for name, type_ in ours.type_map.items():
        if name in BUILTIN or not isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            continue
        theirs = real.get_type(name)
        assert {i.name for i in type_.interfaces} <= {i.name for i in theirs.interfaces}, name
        for field_name, field in type_.fields.items():
            real_field = theirs.fields.get(field_name)
            assert real_field is not None, f"{name}.{field_name} is not in the real schema"
            assert str(field.type) == str(real_field.type), f"{name}.{field_name}"
            assert field.deprecation_reason == real_field.deprecation_reason, f"{name}.{field_name}"
            assert _args(field) == _args(real_field), f"arguments of {name}.{field_name}"


def test_inputs_enums_and_unions_match(real, ours):
    for name, type_ in ours.type_map.items():
        if name in BUILTIN:
            continue
        theirs = real.get_type(name)
        if isinstance(type_, GraphQLEnumType):
            assert set(type_.values) <= set(theirs.values), f"values of {name}"
        elif isinstance(type_, GraphQLInputObjectType):
            mine = {n: (str(f.type), repr(f.default_value)) for n, f in type_.fields.items()}
            real_fields = {n: (str(f.type), repr(f.default_value))
                           for n, f in theirs.fields.items()}
            assert mine == real_fields, f"fields of input {name}"
        elif isinstance(type_, GraphQLUnionType):
            assert {t.name for t in type_.types} <= {t.name for t in theirs.types}, name


def test_directives_match(real, ours):
    for directive in ours.directives:
        theirs = real.get_directive(directive.name)
        assert theirs is not None, f"@{directive.name} is not in the real schema"
        assert set(directive.locations) == set(theirs.locations)
        assert _args(directive) == _args(theirs)


def test_schema_file_is_what_the_generator_writes(real):
    assert subset.build_subset_sdl(full=real) == SCHEMA_PATH.read_text(), (
        "schema.graphql is stale: run `python -m sandbox.shopify.subset`")
