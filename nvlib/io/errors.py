"""The one exception type every nvlib.io decoder raises on malformed input."""
from __future__ import annotations

import os


class FormatError(ValueError):
    """A file does not hold what its format promises.

    The message names the file, the byte offset where decoding stopped and what
    was expected there; the parts are also kept as attributes ``path``,
    ``offset`` (int or None) and ``reason``.
    """

    def __init__(self, path: str | os.PathLike | None, offset: int | None, reason: str):
        self.path = None if path is None else str(path)
        self.offset = None if offset is None else int(offset)
        self.reason = reason
        where = self.path if self.path is not None else "<bytes>"
        at = f" at byte offset {self.offset}" if self.offset is not None else ""
        super().__init__(f"{where}{at}: {reason}")


#: the advice for a file without a sensor geometry, naming the Python argument and the ``nvlib info`` flag
SENSOR_SIZE_HINT = "pass sensor_size=(W, H) (on the command line: --sensor-size W H)"

#: the advice for a RAW file whose header does not say EVT 2.0 or EVT 3.0
FORMAT_HINT = "pass format='evt3' or format='evt2' (on the command line: --format evt3 or --format evt2)"
