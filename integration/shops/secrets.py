"""Key rotation for secrets at rest.

Rotation: put the new key first in ``NEARSTOCK_ENCRYPTION_KEY`` (``new,old``), deploy, run
``flask --app integration rotate-keys``, then drop the old key. Reading works throughout because
the vault decrypts with any configured key.
"""

from __future__ import annotations

from sqlalchemy import inspect, select, update

from integration.extensions import db, vault
from integration.models import Base
from integration.models.base import EncryptedText


def encrypted_columns():
    for mapper in Base.registry.mappers:
        table = mapper.local_table
        for column in table.columns:
            if isinstance(column.type, EncryptedText):
                yield table, column


def rotate_all(batch: int = 500) -> int:
    """Re-encrypt every EncryptedText value with the current key, reading raw ciphertext."""
    count = 0
    session = db.session
    for table, column in encrypted_columns():
        pk = inspect(table).primary_key.columns.values()[0]
        raw = column.type.impl  # read and write the ciphertext as plain text
        last = None
        while True:
            query = select(pk, column.cast(raw)).where(column.isnot(None)).order_by(pk).limit(batch)
            if last is not None:
                query = query.where(pk > last)
            rows = session.execute(query).all()
            if not rows:
                break
            for row_id, token in rows:
                rotated = vault.rotate(token)
                session.execute(update(table).where(pk == row_id).values({column.name: literal_text(rotated)}))
                count += 1
                last = row_id
            session.commit()
    return count


def literal_text(value: str):
    """A bound value typed as plain Text, so EncryptedText does not encrypt it a second time."""
    from sqlalchemy import Text, literal

    return literal(value, Text())
