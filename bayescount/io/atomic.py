"""The one way bayescount writes a file: whole or not at all.

Every output (fit files, prediction tables, reports, rules) goes through
:func:`atomic_write`: the content is written to a temporary file in the target's
directory, flushed to disk, given the right mode and renamed over the target in one
step (POSIX ``rename`` is atomic). An interruption, a full disk or an error leaves an
existing file byte-identical and no temporary file behind.

Modes follow the user's umask for new files (``0o666 & ~umask``, as ``open`` would
create them) and keep the old file's mode on overwrite.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from bayescount.exceptions import OutputError

__all__ = ["atomic_write", "check_writable"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable(path: str | Path) -> Path:
    """Check, before any long work, that ``path`` can be written; return it as a Path.

    The directory must exist and accept a new file: a temporary file is created and
    removed there (``os.access`` is not enough — root passes it on a read-only
    filesystem).

    Parameters
    ----------
    path : str or Path
        The file that will be written.

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    OutputError
        ``path`` is a directory, its directory does not exist, or no file can be
        created there (permissions, read-only filesystem, full disk).
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"Cannot write {path}: it is a directory; give a file path.")
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(
            f"Cannot write {path}: directory {parent} does not exist; create it first."
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=parent)
    except OSError as err:
        raise OutputError(f"Cannot write {path}: {_reason(err)}.") from err
    os.close(fd)
    os.unlink(probe)
    return path


def _reason(err: OSError) -> str:
    if err.errno == errno.ENOSPC:
        return "no space left on device"
    if err.errno == errno.EROFS:
        return "read-only filesystem"
    if err.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return err.strerror or str(err)


def atomic_write(path: str | Path, content: bytes | Callable[[BinaryIO], None]) -> Path:
    """Write ``content`` to ``path`` atomically; return the path.

    Parameters
    ----------
    path : str or Path
        The file to create or replace. Its directory must exist.
    content : bytes or callable
        The bytes to write, or a function that writes them to the binary file
        object it is given (e.g. ``lambda fh: frame.to_parquet(fh)``).

    Raises
    ------
    OutputError
        The file could not be written (full disk, permissions, missing directory);
        an existing file at ``path`` is unchanged.
    """
    path = Path(path)
    parent = path.parent
    try:
        old_mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        old_mode = 0o666 & ~_umask()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    except OSError as err:
        raise OutputError(f"Cannot write {path}: {_reason(err)}.") from err
    try:
        with os.fdopen(fd, "wb") as fh:
            if callable(content):
                content(fh)
            else:
                fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, old_mode)
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise OutputError(
                f"Cannot write {path}: {_reason(err)}; "
                + ("the existing file is unchanged." if path.exists() else "nothing was written.")
            ) from err
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(parent, os.O_RDONLY)
    except OSError:
        return path
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
    return path
