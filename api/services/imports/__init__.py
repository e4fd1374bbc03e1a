"""The bulk learner import: a run over a file (learner_import), its rows read (reading), checked (checking) and
written (writing), the job it works on (jobs, leases), and a large file checked on several cores (chunks)."""
