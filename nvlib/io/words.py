"""Streaming over the fixed-size words of Prophesee ``.raw`` payloads (EVT 2.0: 32-bit, EVT 3.0: 16-bit)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from nvlib.io.errors import FormatError


class WordStreamDecoder:
    """Base of the streaming Prophesee decoders: feed byte chunks of any length, get column tuples.

    Subclasses set ``WORD_BYTES``, ``DTYPE``, ``FORMAT_NAME``, ``STATE`` (a state class) and ``decode``
    (``(words, state, sensor_size, path, offset) -> ((x, y, t, p), state)``). Bytes of an incomplete word
    are carried to the next chunk; :meth:`finish` reports any left at the end with their byte offset.
    """

    WORD_BYTES: int
    DTYPE: str
    FORMAT_NAME: str
    STATE: type
    decode: Callable  # staticmethod in each subclass

    def __init__(self, sensor_size, path=None, offset: int = 0):
        self.sensor_size = (int(sensor_size[0]), int(sensor_size[1]))
        self.path = path
        self.offset = offset  # byte offset of the next byte fed
        self.state = self.STATE()
        self._carry = b""

    def feed(self, data: bytes):
        """Decode ``data`` (continuing the previous chunk); returns ``(x, y, t, p)``."""
        if self._carry:
            data = self._carry + data
        n = len(data) - len(data) % self.WORD_BYTES
        self._carry = data[n:]
        start = self.offset  # the carried bytes (if any) started here
        words = np.frombuffer(data, dtype=self.DTYPE, count=n // self.WORD_BYTES)
        cols, self.state = self.decode(words, self.state, self.sensor_size, self.path, start)
        self.offset = start + n
        return cols

    def finish(self):
        """Check the stream ended on a word boundary."""
        if self._carry:
            raise FormatError(self.path, self.offset, f"expected a complete {8 * self.WORD_BYTES}-bit "
                              f"{self.FORMAT_NAME} word, found {len(self._carry)} dangling byte(s) at the end "
                              "of the file")
