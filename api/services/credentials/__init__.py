"""Open Badges 3.0 credentials: what a learner's completed units earn, signed (Data Integrity, eddsa-rdfc-2022),
verifiable by anyone, revocable through a published status list."""
