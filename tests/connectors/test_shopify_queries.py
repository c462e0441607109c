"""Every GraphQL document we send is valid against the real Admin API 2026-07 schema.

The reference SDL (printed from Shopify's introspection) builds with graphql-core as it is: it
declares the custom directives it uses (``@idempotent(key: String!) on FIELD``,
``@accessRestricted``). The only pre-processing is a guard that declares ``@idempotent`` should a
future print of the schema omit it, since our inventory mutation depends on it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import (
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoDeprecatedCustomRule

from connectors.shopify.client import QUERIES_DIR

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared/reference/shopify/admin-2026-07.graphql"
DOCUMENTS = sorted(QUERIES_DIR.glob("*.graphql"))
# Mutations that Shopify rejects at run time without @idempotent since 2026-04 (the schema cannot
# say so: the directive is optional at the schema level).
IDEMPOTENT_REQUIRED = {"inventorySetQuantities", "inventoryAdjustQuantities", "refundCreate"}


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    if not REFERENCE.is_file():
        pytest.skip(f"reference schema not found at {REFERENCE} (kept outside the repository)")
    sdl = REFERENCE.read_text()
    if not re.search(r"^directive @idempotent\b", sdl, re.MULTILINE):
        sdl += "\ndirective @idempotent(key: String!) on FIELD\n"
    return build_schema(sdl)


def test_there_are_documents():
    assert len(DOCUMENTS) >= 15


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_document_is_valid_against_2026_07(schema, path):
    document = parse(path.read_text())
    errors = validate(schema, document, [*specified_rules, NoDeprecatedCustomRule])
    assert not errors, "\n".join(e.message for e in errors)


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_document_is_one_named_operation_matching_its_file(path):
    document = parse(path.read_text())
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1
    assert operations[0].name is not None and operations[0].name.value == path.stem


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_mutations_needing_idempotency_carry_the_directive(path):
    document = parse(path.read_text())
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    for selection in operation.selection_set.selections:
        if selection.name.value in IDEMPOTENT_REQUIRED:
            directives = {d.name.value for d in selection.directives}
            assert "idempotent" in directives, f"{selection.name.value} without @idempotent"


def test_a_wrong_document_is_caught(schema):
    """The validation is real: a made-up field and a removed 2026-04 input field fail."""
    bad = parse(
        """
        mutation Bad($id: ID!) {
          inventorySetQuantities(input: {name: "available", reason: "correction",
              ignoreCompareQuantity: true,
              quantities: [{inventoryItemId: $id, locationId: $id, quantity: 1}]}) {
            userErrors { field message bogus }
          }
        }
        """
    )
    messages = " ".join(e.message for e in validate(schema, bad))
    assert "ignoreCompareQuantity" in messages
    assert "bogus" in messages
