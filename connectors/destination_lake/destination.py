"""DestinationLake: spec, check, and the write loop that passes state on only after files land."""

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from airbyte_cdk.destinations import Destination
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    ConfiguredAirbyteCatalog,
    DestinationSyncMode,
    FailureType,
    Status,
    Type,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from destination_lake.part_files import PartFiles, arrow_schema

logger = logging.getLogger("airbyte")

DEFAULT_FORMAT = "parquet"
DEFAULT_BATCH_SIZE = 50_000


class DestinationLake(Destination):
    """Lands each stream's records as raw events in ``<lake_root>/bronze/<stream>/ingest_date=*/``.

    Bronze is an append-only log of what was extracted: every sync adds files and none is ever
    changed, so any later layer can be rebuilt from it. Duplicates across syncs (a full refresh
    extracts the same events again) are removed in silver, which knows the event key.
    """

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """Create the bronze folder and land and remove a probe file in it."""
        try:
            bronze = _bronze(config)
            bronze.mkdir(parents=True, exist_ok=True)
            probe = bronze / ".connection-probe"
            probe.write_bytes(b"ok")
            probe.rename(bronze / ".connection-probe-renamed")
            (bronze / ".connection-probe-renamed").unlink()
            _ingest_date(config)
        except Exception as error:  # any failure is the answer to "can we write here?"
            return AirbyteConnectionStatus(status=Status.FAILED, message=f"{error}")
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)

    def write(
        self,
        config: Mapping[str, Any],
        configured_catalog: ConfiguredAirbyteCatalog,
        input_messages: Iterable[AirbyteMessage],
    ) -> Iterable[AirbyteMessage]:
        """Land the records; pass each state message on only once every record before it landed."""
        ingest_date = _ingest_date(config)
        file_format = config.get("format") or DEFAULT_FORMAT
        batch_size = int(config.get("batch_size") or DEFAULT_BATCH_SIZE)
        streams: dict[str, PartFiles] = {}
        for configured in configured_catalog.streams:
            name = configured.stream.name
            if configured.destination_sync_mode != DestinationSyncMode.append:
                logger.warning(
                    f"Stream {name}: bronze is append-only; "
                    f"{configured.destination_sync_mode.value} is landed as append."
                )
            partition = _bronze(config) / _safe_name(name) / f"ingest_date={ingest_date}"
            schema = arrow_schema(configured.stream.json_schema)
            streams[name] = PartFiles(partition, schema, file_format, batch_size)

        for message in input_messages:
            if message.type == Type.RECORD:
                files = streams.get(message.record.stream)
                if files is None:
                    raise AirbyteTracedException(
                        message=f"Record for stream '{message.record.stream}', not in the catalog.",
                        failure_type=FailureType.system_error,
                    )
                files.add(message.record.data, message.record.emitted_at)
            elif message.type == Type.STATE:
                for files in streams.values():
                    files.flush()
                yield message
        for name, files in streams.items():
            files.flush()
            logger.info(f"Stream {name}: {files.files_landed} file(s) landed in {files.partition}.")


def _bronze(config: Mapping[str, Any]) -> Path:
    return Path(config["lake_root"]) / "bronze"


def _ingest_date(config: Mapping[str, Any]) -> str:
    """The partition to land in: the configured date (validated), else today in UTC."""
    configured = config.get("ingest_date")
    if not configured:
        return dt.datetime.now(dt.UTC).date().isoformat()
    try:
        return dt.date.fromisoformat(configured).isoformat()
    except ValueError:
        raise AirbyteTracedException(
            message=f"ingest_date must be YYYY-MM-DD, got {configured!r}.",
            failure_type=FailureType.config_error,
        ) from None


def _safe_name(stream: str) -> str:
    """A stream name as a folder name: one path component, never hidden (readers skip those)."""
    if not stream or "/" in stream or "\\" in stream or stream.startswith((".", "_")):
        raise AirbyteTracedException(
            message=f"Stream name {stream!r} cannot be a lake folder name.",
            failure_type=FailureType.config_error,
        )
    return stream
