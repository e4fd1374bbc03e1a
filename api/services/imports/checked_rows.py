"""The rows an import's validation pass found valid, kept on disk in file order for its write pass (so they are
neither held in memory nor checked twice).

They are stored as segments: files of marshalled batches of row tuples, each segment with a number to add to its
row numbers (a chunk checked in another process numbers its rows from 1; see imports.chunks)."""

import marshal
import os
from collections.abc import Iterator


class CheckedRows:
    """Segments of checked rows in a folder the caller owns (and deletes)."""

    def __init__(self, folder: str):
        self.folder = folder
        self.segments: list[tuple[str, int]] = []  # (path, row-number offset), in file order
        self._out = None

    def append(self, rows: list) -> None:
        """Add a batch of rows (tuples, numbered as in the file) after those already kept."""
        if self._out is None:
            path = os.path.join(self.folder, f"rows-{len(self.segments)}")
            self._out = open(path, "wb")  # noqa: SIM115 - closed by close() or the next adopt()
            self.segments.append((path, 0))
        write_value(self._out, [tuple(row) for row in rows])

    def adopt(self, path: str, offset: int) -> None:
        """Add a segment another process wrote (lists of row tuples, with write_value), whose row numbers are
        ``offset`` too low."""
        self.close()
        self.segments.append((path, offset))

    def clear(self) -> None:
        """Forget every row kept so far (their files are left for the folder's owner to delete)."""
        self.close()
        self.segments = []

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def batches(self, skip: int = 0) -> Iterator[tuple[int, list]]:
        """(rows kept up to and including this batch, the batch's rows) in file order, leaving out the first
        ``skip`` rows (written by an earlier run of the same file)."""
        self.close()
        index = 0
        for path, offset in self.segments:
            for rows in read_values(path):
                index += len(rows)
                if index <= skip:
                    continue
                rows = rows[max(0, len(rows) - (index - skip)):]
                yield index, rows if not offset else [(row[0] + offset, *row[1:]) for row in rows]


def write_value(out, value) -> None:
    """Append a value (of types marshal knows) to a file that read_values reads back."""
    blob = marshal.dumps(value)
    out.write(len(blob).to_bytes(8, "big") + blob)


def read_values(path: str) -> Iterator:
    with open(path, "rb") as source:
        while size := int.from_bytes(source.read(8), "big"):
            yield marshal.loads(source.read(size))  # one read per batch: marshal.load(file) reads value by value
