"""One training per work dir: a run given a work dir that a live training uses is refused.

Two trainings given the same ``--work-dir`` used to run side by side: one log interleaved,
and the second run's ``epoch_N.pth`` and ``last_checkpoint`` replaced the first one's.
:func:`work_dir_lock` holds ``<work_dir>/.train.lock`` for as long as a training runs:

- the lock is an ``fcntl.flock`` on that file, which the kernel releases when the holding
  process ends, however it ends (a crash, ``kill -9``, Ctrl-C): a dead run never leaves the
  work dir locked, whatever its lock file still says;
- the file records the holder's host, pid, start time and command line, which the refusal
  names; the holder removes it when the training returns;
- processes the holder starts (``demo_runner.train``'s torchrun workers) inherit its token
  through the environment variable :data:`ENV` and share the lock;
- with several processes only global rank 0 takes it (every rank writes into the same work
  dir by design);
- on a file system without ``flock`` (some network mounts) the file's pid is checked for
  liveness instead, on the same host.

``tools/train.py`` (what ``mim train`` runs) and :func:`rtmo_plugin.lab.demo_runner.train` (every
demo) take it before the Runner is built.
"""
from __future__ import annotations

import errno
import json
import os
import socket
import sys
import time
import uuid
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

try:
    import fcntl
except ImportError:  # Windows: pid liveness only
    fcntl = None

LOCK_NAME = '.train.lock'
ENV = 'RTMO_PLUGIN_WORK_DIR_LOCK'
_RANK_VARIABLES = {'pytorch': 'RANK', 'slurm': 'SLURM_PROCID', 'mpi': 'OMPI_COMM_WORLD_RANK'}


class WorkDirInUseError(RuntimeError):
    """Another live training holds the work dir (or, as :class:`WorkDirUnusableError`, no
    training can use it)."""


class WorkDirUnusableError(WorkDirInUseError):
    """The work dir cannot be made or locked: a file of that name, a file above it, no
    permission. A subclass so that what reports one reports the other alike."""


def global_rank(launcher: str = 'none') -> int:
    """This process's global rank as ``launcher`` sets it in the environment (0 alone)."""
    variable = _RANK_VARIABLES.get(launcher)
    return int(os.environ.get(variable, 0)) if variable else 0


@dataclass
class WorkDirLock:
    """A held lock; ``fd`` is None when it is shared with the process that holds it."""

    path: Path
    token: str
    fd: Optional[int] = None

    def release(self) -> None:
        if self.fd is None:
            return
        with suppress(FileNotFoundError):  # before unlocking: a waiting run locks a new file
            os.unlink(self.path)
        os.close(self.fd)
        self.fd = None


def _holder(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _describe(work_dir: Path, holder: dict) -> str:
    who = (f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, started "
           f"{holder.get('started', '?')}: {holder.get('command', '?')}") if holder else \
        'its holder could not be read'
    return (f'work dir {work_dir} is in use by another training ({who}); wait for it to end '
            'or give this run another work dir (--work-dir). The lock '
            f'({work_dir / LOCK_NAME}) is released when that process ends, however it ends')


def _alive(holder: dict) -> bool:
    """Whether the holder recorded in a lock file runs (unknowable on another host: yes)."""
    if holder.get('host') != socket.gethostname():
        return bool(holder)
    try:
        os.kill(int(holder.get('pid', 0)), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, TypeError):
        return True
    return int(holder.get('pid', 0)) > 0


def _record(fd: int, token: str) -> None:
    info = dict(pid=os.getpid(), host=socket.gethostname(), token=token,
                started=time.strftime('%Y-%m-%d %H:%M:%S'),
                command=' '.join([os.path.basename(sys.executable), *sys.argv]))
    data = json.dumps(info).encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


def _flock(fd: int) -> Optional[bool]:
    """True: locked; False: held by another open file; None: this file system cannot."""
    if fcntl is None:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    except OSError as err:
        if err.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
            return None
        raise


def acquire(work_dir) -> WorkDirLock:
    """Locks ``work_dir`` (created if needed) or raises :class:`WorkDirInUseError`."""
    work_dir = Path(work_dir)
    path = work_dir / LOCK_NAME
    try:
        work_dir.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o644))
    except OSError as err:
        what = 'is a file' if work_dir.is_file() else (err.strerror or str(err))
        raise WorkDirUnusableError(f'work dir {work_dir} cannot be used ({what}); give '
                                   'another --work-dir (a folder, made if missing)') from None
    inherited = os.environ.get(ENV)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        locked = _flock(fd)
        holder = _holder(path) if locked is not True else {}
        if locked is None and not _alive(holder):  # no flock here: a dead pid's file
            locked = True
        if not locked:
            os.close(fd)
            if inherited and holder.get('token') == inherited:  # our parent's lock
                return WorkDirLock(path, inherited)
            raise WorkDirInUseError(_describe(work_dir, holder))
        try:  # the holder may have released (unlinked) the file before we locked it
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            token = uuid.uuid4().hex
            _record(fd, token)
            return WorkDirLock(path, token, fd)
        os.close(fd)


@contextmanager
def work_dir_lock(work_dir, launcher: str = 'none') -> Iterator[Optional[WorkDirLock]]:
    """Holds the work dir's lock while the block runs (only on global rank 0)."""
    if global_rank(launcher) != 0:
        yield None
        return
    lock = acquire(work_dir)
    previous = os.environ.get(ENV)
    os.environ[ENV] = lock.token  # processes started inside share it
    try:
        yield lock
    finally:
        if previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous
        lock.release()
