"""What a clip was converted from: its source digest.

A cache folder is named after the conversion parameters only, so two copies of a dataset with the same
folder name share a cache folder. What keeps them apart is each clip's ``source_digest``, recorded in
its ``info.json`` and checked by every run (:mod:`nvlib.convert.runner`): a finished clip is reused only
when the digest of its source is unchanged; otherwise it is converted again (only that clip).

The digest is sha256 over:

- the **contents** of the clip's annotation and label files, or of the part that concerns the clip
  (AFEW-VA's ``NNN.json``; NEFER's CSV rows, label and published face box; the rows of a videos CSV);
- the **relative path, size and modification time (ns)** of each media file (frames, videos, recordings),
  which are large: reading them on every run would cost as much as converting them;
- the facts a job carries (group, the sample clip's derived labels source).

No absolute path enters the digest: a moved or copied tree whose files keep their sizes and times (``cp -a``,
``rsync -a``, ``shutil.copytree``) reuses the clips already converted, an edited annotation is converted
again even when its size and time did not change, and a copy that did not keep the times (``cp -r``) is
converted again in full. Files changed in place with their size and time restored are not detected.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

#: bump when what enters the digest changes (all clips are then converted again)
DIGEST_VERSION = 1


def file_stamp(path, root=None) -> list:
    """``[relative path, size, mtime_ns]`` of a media file (``["<missing>", path]`` when it is absent)."""
    path = Path(path)
    rel = os.path.relpath(path, root) if root is not None else path.name
    try:
        st = path.stat()
    except OSError:
        return ["<missing>", Path(rel).as_posix()]
    return [Path(rel).as_posix(), int(st.st_size), int(st.st_mtime_ns)]


def file_sha256(path) -> str:
    """sha256 of a file's bytes ("<missing>" when it cannot be read)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return "<missing>"
    return h.hexdigest()


def source_digest(*, media=(), contents=(), facts=None, root=None) -> str:
    """32 hex digits: sha256 of the stamps of ``media`` files, the sha256 of each file in ``contents``
    (relative to ``root``) and the JSON of ``facts``."""
    doc = {"v": DIGEST_VERSION,
           "media": [file_stamp(p, root) for p in media],
           "contents": [[Path(os.path.relpath(p, root) if root is not None else Path(p).name).as_posix(),
                         file_sha256(p)] for p in contents],
           "facts": facts}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()[:32]
