"""Which run owns an import job. An interrupted job is resumed by the next run of its file, but only by a run that
takes the job's lease (api.db.Lease): two runs of one file at once (two hosts, two processes) never share a job, so
each job's counts stay true. A lease ends with its holder's process, so a crashed run's job is free to resume at once.
"""

import uuid

from api import db

JOB_LOCK_SPACE = 0x696A  # "ij": keeps job keys apart from the other advisory locks' keys


def job_lease(job_id: uuid.UUID) -> db.Lease:
    """The lease of one job (not taken yet): try_take() once, release() when done with the job."""
    job_id = uuid.UUID(str(job_id))
    return db.Lease((JOB_LOCK_SPACE << 48) ^ (job_id.int & ((1 << 48) - 1)), f"import-{job_id.hex}")
