"""Event file input/output: one reader, streaming, writers and an event cache.

Public API (see CONTRACTS.md):

- :func:`read_events` / :func:`iter_events`: Prophesee EVT 3.0 and EVT 2.0 ``.raw``,
  legacy ``.dat``, iniVation AEDAT4, v2e AEDAT-2.0 / HDF5 / text and the nvlib cache,
  detected from content and extension, returned as :class:`nvlib.events.Events`.
- Writers (atomic): :func:`write_evt3`, :func:`write_evt2`, :func:`write_dat`, :func:`write_aedat4`,
  :func:`write_v2e_h5`, :func:`write_v2e_text`, :func:`write_cache`; chunk by chunk
  with :func:`open_writer`. :func:`read_cache` reads the cache back exactly.
- :class:`FormatError`: the only exception malformed content raises.
"""
from nvlib.io.cache import read_cache, read_cache_columns
from nvlib.io.errors import FormatError
from nvlib.io.reading import READ_FORMATS, detect_format, iter_chunks, iter_events, read_events
from nvlib.io.writers import (FORMATS, EventWriter, open_writer, write_aedat4, write_cache, write_dat, write_evt2,
                      write_evt3, write_v2e_h5, write_v2e_text)

__all__ = [
    "FormatError", "read_events", "iter_events", "iter_chunks", "detect_format", "READ_FORMATS",
    "write_evt3", "write_evt2", "write_dat", "write_aedat4", "write_v2e_h5", "write_v2e_text", "write_cache",
    "read_cache",
    "read_cache_columns", "open_writer", "EventWriter", "FORMATS",
]
