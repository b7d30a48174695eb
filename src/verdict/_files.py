"""Files and folders verdict keeps private: created 0700 (folders) and 0600 (files).

Like ``verdict.errors``, a foundation module that every layer may import: the registry, the
service's state, training runs and deployments all create folders under ``VERDICT_HOME``,
which holds API key hashes, logged inputs and models. Only what verdict creates is set;
folders and files that already exist (a user's own) keep their modes.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["private_file", "private_folder"]


def private_folder(path: Path) -> None:
    """Create ``path`` and its missing parents, each 0700; existing folders are not touched."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue  # made meanwhile by another process: theirs to set
        os.chmod(folder, 0o700)  # exactly 0700, whatever the umask


def private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 if it does not exist; an existing file is not touched."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return
    os.chmod(path, 0o600)  # exactly 0600, whatever the umask
