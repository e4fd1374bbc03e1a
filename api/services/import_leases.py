"""Which run owns an import job. An interrupted job is resumed by the next run of its file, but only by a run that
takes the job's lease: two runs of one file at once (two hosts, two processes) never share a job, so each job's
counts stay true. A lease ends with its holder's process, so a crashed run's job is free to resume at once.

PostgreSQL: a session advisory lock, released by its holder or when its connection closes. SQLite (one host): an
exclusive flock on a file beside the database, released by its holder or when its process ends.
"""

import fcntl
import os
import tempfile
import uuid

from api import db

JOB_LOCK_SPACE = 0x696A  # "ij": keeps job keys apart from the other advisory locks' keys


class JobLease:
    """The lease of one job: try_take() once, release() when done with the job."""

    def __init__(self, job_id: uuid.UUID):
        self.job_id = uuid.UUID(str(job_id))
        self.key = (JOB_LOCK_SPACE << 48) ^ (self.job_id.int & ((1 << 48) - 1))
        self.file = None
        self.held = False

    def try_take(self) -> bool:
        """Take the lease if no one holds it (without waiting); whether it is now held."""
        if db.is_sqlite():
            self.file = open(self._path(), "a+b")  # noqa: SIM115 - closed by release()
            try:
                fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.file.close()
                self.file = None
                return False
            self.held = True
        else:
            self.held = bool(db.database_proxy.obj.execute_sql("SELECT pg_try_advisory_lock(%s)",
                                                               (self.key,)).fetchone()[0])
        return self.held

    def release(self, finished: bool) -> None:
        """Give the lease back; ``finished``: the job will not run again, so its lock file (SQLite) is removed (a
        run that opened it before sees the job finished once it holds the lock)."""
        if not self.held:
            return
        self.held = False
        if self.file is not None:
            if finished:
                os.unlink(self.file.name)
            self.file.close()  # closing the file ends the flock
            self.file = None
        else:
            db.database_proxy.obj.execute_sql("SELECT pg_advisory_unlock(%s)", (self.key,))

    def _path(self) -> str:
        database = db.database_proxy.obj.database
        if not database or database == ":memory:":  # one process only: a private file stands in
            return os.path.join(tempfile.gettempdir(), f"qualtrack-{os.getpid()}-import-{self.job_id.hex}.lock")
        return f"{database}.import-{self.job_id.hex}.lock"
