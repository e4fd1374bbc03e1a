"""Counting the SQL statements a piece of work runs, with the bearer token's revocation check kept apart."""

from playhouse.test_utils import count_queries


class count_work(count_queries):  # noqa: N801 - a context manager, named like playhouse's count_queries
    """playhouse's count_queries, whose ``count`` leaves out the bearer token's revocation check; how many checks
    there were is ``revocation_checks`` (at most one a request). On SQLite a worker skips the check for a token it
    checked moments ago when no revocation has been signalled since (api.auth._Verified), so whether a request makes
    it depends on the requests before it, not on the request itself."""

    def __exit__(self, exc_type, exc_value, traceback):
        super().__exit__(exc_type, exc_value, traceback)
        self.revocation_checks = sum("FROM revoked_token" in query.msg[0] for query in self.get_queries())
        self.count -= self.revocation_checks
