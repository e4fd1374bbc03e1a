"""Rules and queries, independent of Flask and strawberry: the REST views, GraphQL resolvers and CLI all call these.

By domain:
- common: who may see and do what (access), the audit log, pagination, Idempotency-Key, If-Match preconditions,
  the request context.
- content: published content read (catalog), loaded from data/units (loader), validated (data_files), rendered.
- sync: awarding bodies changing content: drafts, publishing and withdrawing (lifecycle), diffs, the change feed.
- tracking: learners, enrolments, evidence, decisions, IQA, progress, migration to a new unit version.
- imports: the bulk learner import (learner_import): reading, checking and writing rows, jobs and their leases.
- interop: 1EdTech CASE, served (case) and imported (case_import).
- accounts: centres, accounts and API clients, sign-in credentials and tokens.
Raw SQL a domain runs is in its queries module; whatever depends on the database backend is in api.db.
"""
