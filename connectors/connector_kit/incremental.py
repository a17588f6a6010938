"""Cursor-based incremental reads, shared by both sources: state, slices and the lower bound.

A stream reads either one collection (``campaigns``) or one collection per parent object, a
*partition* (``list_members`` per audience, ``email_activity`` per campaign). Its state is the
highest cursor value seen, kept per partition for partitioned streams::

    {"last_changed": "2026-05-01T10:00:00+00:00"}                        # one collection
    {"partitions": {"<list id>": {"last_changed": "2026-05-01T..."}}}    # one per partition

Each slice carries its lower bound as ``since`` (absent on a first read), so the stream only has
to turn ``since`` into the API's server-side filter. The CDK emits the stream's state after every
slice; because the cursor is only raised by records already yielded, a sync killed mid-slice
resumes from the last state the destination committed and loses nothing. The bound is inclusive:
records at exactly the bound are read again and the destination's dedup drops the copies.

Cursor values are compared as they come: ISO 8601 strings in one format and zone (text order is
then time order) or epoch numbers.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams import CheckpointMixin
from airbyte_cdk.sources.streams.core import StreamData

from connector_kit.http import ApiStream

PARTITIONS = "partitions"


class IncrementalApiStream(ApiStream, CheckpointMixin):
    """An ``ApiStream`` that reads only what changed since its state, slice by slice.

    Subclasses set ``cursor_field`` (and, for partitioned streams, what ``ApiStream`` asks).
    """

    cursor_field: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._state: dict[str, Any] = {}

    @property
    def is_resumable(self) -> bool:
        """Checkpointed: the CDK emits this stream's state after every slice."""
        return True

    @property
    def state(self) -> Mapping[str, Any]:
        # Read by the CDK after every record: return the live mapping, never a copy.
        return self._state

    @state.setter
    def state(self, value: Mapping[str, Any]) -> None:
        self._state = dict(value or {})
        if self.partition_key:
            self._state[PARTITIONS] = dict(self._state.get(PARTITIONS) or {})

    def stream_slices(
        self,
        *,
        sync_mode: SyncMode = SyncMode.full_refresh,
        stream_state: Mapping[str, Any] | None = None,
        **_: Any,
    ) -> Iterable[Mapping[str, Any] | None]:
        """One slice, or one per partition, with ``since`` from the state when incremental."""
        incremental = sync_mode == SyncMode.incremental
        if not self.partition_key:
            since = self._state.get(self.cursor_field) if incremental else None
            yield {"since": since} if since else {}
            return
        for partition in self.partitions():
            cursor = self._state[PARTITIONS].get(partition, {}) if incremental else {}
            since = cursor.get(self.cursor_field)
            yield {self.partition_key: partition, **({"since": since} if since else {})}

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: list[str] | None = None,
        stream_slice: Mapping[str, Any] | None = None,
        stream_state: Mapping[str, Any] | None = None,
    ) -> Iterable[StreamData]:
        """Yield the slice's records, raising the slice's cursor to the highest value seen."""
        stream_slice = stream_slice or {}
        cursor = self._cursor_of(stream_slice)
        highest = cursor.get(self.cursor_field) or stream_slice.get("since")
        field = self.cursor_field
        for record in super().read_records(sync_mode, cursor_field, stream_slice, stream_state):
            yield record
            value = record.get(field) if isinstance(record, Mapping) else None
            if value and (highest is None or value > highest):
                highest = value
                cursor[field] = value

    def _cursor_of(self, stream_slice: Mapping[str, Any]) -> dict[str, Any]:
        """The mutable state entry the slice's records advance."""
        if not self.partition_key:
            return self._state
        partitions = self._state.setdefault(PARTITIONS, {})
        return partitions.setdefault(stream_slice[self.partition_key], {})
