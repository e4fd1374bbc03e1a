"""Accounts: centres (the tenants), person accounts and API clients, and the tokens they sign in with."""

from api.services.accounts.administration import *  # noqa: F403 - replaced by named imports when the module is split
from api.services.accounts.administration import _signal_revocation  # noqa: F401
