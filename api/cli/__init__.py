"""The ``qualtrack`` command (``python -m api.cli``): its group is in api.cli.group, its commands by what they
manage: accounts (centres, accounts, clients), content (data/units, CASE, the GraphQL schema), imports (learners),
tracking (progress tallies), serving (migrations, serve, start), webhooks (the worker, endpoints)."""

from api.cli import accounts, content, imports, serving, tracking, webhooks  # noqa: F401 - each module adds its commands to main
from api.cli.group import main

__all__ = ["main"]
