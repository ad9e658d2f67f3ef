"""Erasing everything a user owns in a table keyed by `userId`.

Every table puts a user's items under their own partition, so erasure is a Query of
that partition followed by batched deletes: no Scan, and nothing of another user is
ever read.
"""

from __future__ import annotations

from dataclasses import dataclass

from sniper import aws
from sniper.repositories.dynamo import partition_keys


@dataclass(frozen=True)
class UserPartition:
    """A table whose partition key is the user id, and its full primary key."""

    table_name: str
    key_names: tuple[str, ...]
    partition_key: str = "userId"

    def erase(self, user_id: str) -> int:
        """Delete every item of `user_id`; returns how many went."""
        table = aws.table(self.table_name)
        deleted = 0
        with table.batch_writer() as batch:
            for key in partition_keys(
                table, self.partition_key, user_id, self.key_names
            ):
                batch.delete_item(Key=key)
                deleted += 1
        return deleted
