"""Checking a large import file on several cores.

The spooled file is cut into chunks at line ends, and each chunk is read and checked in its own process (forked, so
it shares the spool's descriptor; it opens its own database connection): each row on its own (imports.checking.precheck)
and against the database (the caller's ``database_problems``). The valid rows go to a segment of the caller's
CheckedRows; the problems, and the ULNs and external ids each row claims, come back in file order with the row
numbers a person counts, exactly as if one process had read the whole file. Repeated ULNs and external ids are
settled by the caller, in file order.

A CSV line end is a record boundary only outside a quoted field, so a cut is made only where an even number of
quote characters precede it. That is right for CSV that quotes as CSV does; a file with a stray quote inside an
unquoted field (``O"Brien``) could mislead it, so each chunk's reader is checked on reaching the end of its chunk:
a line holding a marker is fed to it after its last line, and only if that line comes back as a record of its own
did the chunk end between records (so, by induction from the first, every chunk started on a record). If any did
not, ChunksMisaligned is raised and the caller checks the file in one process.
"""

import csv
import io
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import NamedTuple

from api.db import bind, can_reconnect, database_proxy, release_connection, unconnected_copy
from api.errors import ImportRejected
from api.services.imports.checked_rows import CheckedRows, read_values, write_value
from api.services.imports.checking import References, precheck
from api.services.imports.reading import (
    UnreadableRow,
    csv_rows,
    header_names,
    in_batches,
    ndjson_rows,
    not_utf8,
    unreadable,
)

MIN_CHUNK = 1 << 20  # bytes: a smaller file (or chunk) is not worth a process
CHUNKS_PER_PROCESS = 4  # more chunks than processes, so the caller settles early chunks while later ones are checked
BLOCK = 1 << 20  # bytes read at a time while looking for cuts
END_MARKER = "\x1eend of chunk\x1e"


class ChunksMisaligned(Exception):
    """A cut fell inside a CSV record: check the file in one process instead."""


class Report(NamedTuple):
    """What checking one batch found: problems with row numbers counted in the whole file; claims with row numbers
    ``offset`` too low (repeat_problems adds it: there are many claims, and few problems)."""

    rows: int  # data rows read (empty ones are skipped, as read_rows does)
    problems: list  # (row, field, message)
    claims: list  # (row - offset, key): see imports.checking.precheck
    offset: int


class _ChunkDone(NamedTuple):
    records: int  # CSV records or NDJSON lines in the chunk, empty ones included: the next chunk's row offset
    aligned: bool  # the chunk ended between records
    not_utf8: tuple | None  # (the UnicodeDecodeError's args) if the chunk is not UTF-8
    unreadable: tuple | None = None  # (row within the chunk, why) if the csv module cannot read a record


def reports_in_parallel(spool, file_format: str, refs: References, database_problems, checked: CheckedRows,
                        processes: int, batch: int, clear_empty: bool = False) -> Iterator[Report] | None:
    """Check the file in ``processes`` processes, ``batch`` rows at a time: its reports in file order, with the valid
    rows added to ``checked`` as they come; None when the file is too small to be worth it. Raises ImportRejected as
    read_rows would, and ChunksMisaligned (possibly after some reports) when the file must be read in one process."""
    size = os.fstat(spool.fileno()).st_size
    if processes < 2 or size < 2 * MIN_CHUNK or not can_reconnect(database_proxy.obj):
        return None
    if file_format == "csv":
        begin, names = _csv_header(spool.fileno(), size)
        first_row = 2
    else:
        begin, names, first_row = 0, None, 1
    cuts = _cuts(spool.fileno(), begin, size, min(processes * CHUNKS_PER_PROCESS, size // MIN_CHUNK),
                 quotes_matter=file_format == "csv")
    if len(cuts) < 2:
        return None
    chunks = [_Chunk(spool.fileno(), start, end, end == size, file_format, names, os.path.join(checked.folder, f"c{n}"))
              for n, (start, end) in enumerate(zip(cuts, [*cuts[1:], size], strict=True))]
    return _run(chunks, first_row, refs, database_problems, checked, processes, batch, clear_empty)


class _Chunk(NamedTuple):
    fd: int
    start: int
    end: int
    last: bool
    file_format: str
    names: list | None
    output: str  # path prefix of its two files: .rows (a CheckedRows segment) and .report


def _run(chunks, first_row, refs, database_problems, checked, processes, batch, clear_empty) -> Iterator[Report]:
    context = multiprocessing.get_context("fork")  # the children inherit the spool's descriptor
    with ProcessPoolExecutor(processes, mp_context=context, initializer=_reconnect) as pool:
        futures = [pool.submit(_check_chunk, chunk, refs, database_problems, batch, clear_empty) for chunk in chunks]
        offset = first_row - 1
        try:
            for future, chunk in zip(futures, chunks, strict=True):
                done = future.result()
                if done.not_utf8:
                    raise not_utf8(UnicodeDecodeError(*done.not_utf8))
                if done.unreadable:
                    number, reason = done.unreadable
                    raise unreadable(number + offset, reason)
                if not done.aligned:
                    raise ChunksMisaligned
                checked.adopt(f"{chunk.output}.rows", offset)
                for rows, problems, claims in read_values(f"{chunk.output}.report"):
                    yield Report(rows, [(number + offset, field, message) for number, field, message in problems],
                                 claims, offset)
                offset += done.records
        finally:
            for future in futures:
                future.cancel()


def _reconnect() -> None:
    """In a new child: its own connection (one inherited across fork must not be used)."""
    bind(unconnected_copy(database_proxy.obj))


def _check_chunk(chunk: _Chunk, refs, database_problems, batch, clear_empty) -> _ChunkDone:
    """In a child process: check the rows of bytes [start, end) of the file, numbering them from 1, and write the
    valid ones and the reports of each batch to the chunk's two files."""
    marked = chunk.file_format == "csv" and not chunk.last
    text = io.TextIOWrapper(_Range(chunk.fd, chunk.start, chunk.end, f"{END_MARKER}\n".encode() if marked else b""),
                            encoding="utf-8-sig" if chunk.start == 0 else "utf-8", newline="")
    records = _Records(csv.reader(text) if chunk.file_format == "csv" else text, END_MARKER if marked else None)
    rows = csv_rows(records, chunk.names, first=1) if chunk.file_format == "csv" else ndjson_rows(records, first=1)
    try:
        with open(f"{chunk.output}.rows", "wb") as valid_out, open(f"{chunk.output}.report", "wb") as report_out:
            for raw in in_batches(rows, batch):
                valid, problems, claims = precheck(raw, refs, clear_empty)
                write_value(valid_out, [tuple(row) for row in valid])
                write_value(report_out, (len(raw), problems + database_problems(valid), claims))
    except UnicodeDecodeError as error:
        return _ChunkDone(0, True, error.args)
    except UnreadableRow as error:
        return _ChunkDone(0, True, None, error.args)
    finally:
        release_connection()
    return _ChunkDone(records.count, records.aligned, None)


class _Records:
    """Passes a chunk's records (CSV records or NDJSON lines) through, counting them, up to the end marker, whose
    arrival as a record of its own shows the chunk ended between records (``aligned``)."""

    def __init__(self, records, marker: str | None):
        self.records, self.marker, self.count, self.aligned = iter(records), marker, 0, marker is None

    def __iter__(self):
        return self

    def __next__(self):
        record = next(self.records)
        if self.marker is not None and record == [self.marker]:
            self.aligned = True
            raise StopIteration
        self.count += 1
        return record


class _Range(io.RawIOBase):
    """Bytes [start, end) of a file descriptor (read with pread, so processes sharing it do not disturb each other),
    then ``tail``."""

    def __init__(self, fd: int, start: int, end: int, tail: bytes):
        self.fd, self.position, self.end, self.tail = fd, start, end, tail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.position < self.end:
            data = os.pread(self.fd, min(len(buffer), self.end - self.position), self.position)
            self.position += len(data)
        else:
            data, self.tail = self.tail[:len(buffer)], self.tail[len(buffer):]
        buffer[:len(data)] = data
        return len(data)


def _csv_header(fd: int, size: int) -> tuple[int, list[str]]:
    """(where the data rows start, the column names) of a CSV file."""
    head = os.pread(fd, min(size, BLOCK), 0)
    end = head.find(b"\n")
    if end < 0 or b'"' in head[:end]:  # a header this long, or quoted, is read the ordinary way
        raise ChunksMisaligned
    try:
        text = head[:end + 1].decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise not_utf8(error) from None
    return end + 1, header_names(next(csv.reader([text]), None))


def _cuts(fd: int, begin: int, end: int, parts: int, quotes_matter: bool) -> list[int]:
    """Where each chunk starts: ``begin``, then just after the first line end past each ``parts``-th of the way
    (outside quotes, for CSV), reading the file a block at a time."""
    step = (end - begin) // max(parts, 1)
    cuts, target = [begin], begin + step
    quotes, position = 0, begin  # quote characters in [begin, position)
    while position < end and len(cuts) < parts:
        block = os.pread(fd, min(BLOCK, end - position), position)
        search = max(target, position) - position
        while search < len(block):
            newline = block.find(b"\n", search)
            if newline < 0:
                break
            if not quotes_matter or (quotes + block.count(b'"', 0, newline)) % 2 == 0:
                cuts.append(position + newline + 1)
                target = begin + step * len(cuts)
                if len(cuts) == parts:
                    break
                search = max(target - position, newline + 1)
            else:
                search = newline + 1
        quotes += block.count(b'"') if quotes_matter else 0
        position += len(block)
    return [cut for cut in cuts if cut < end]


__all__ = ["ChunksMisaligned", "ImportRejected", "Report", "reports_in_parallel"]
