"""qualtrack: a versioned REST and GraphQL API for vocational-qualification content and assessment tracking.

Importing the package loads nothing else: api.gunicorn_conf must run before anything imports prometheus_client (so
that every worker records its metrics in multiprocess mode), and the CLI starts faster.
"""


def create_app(settings=None, database=None):
    """Build the Flask app (see api.app.create_app)."""
    from api.app import create_app as build

    return build(settings, database)
