"""The GraphQL edge at /graphql (strawberry): one schema over content and tracking, thin over api.services."""

from flask import Flask

from api.config import Settings


def init_app(app: Flask, settings: Settings) -> None:
    """Mount /graphql with the limits, introspection setting and trusted documents from ``settings``; GraphiQL only
    in development."""
    from api.gql.context import GraphQLLimits
    from api.gql.operations import OperationRunner
    from api.gql.schema import build_schema
    from api.gql.trusted_documents import TrustedDocuments
    from api.gql.view import make_view

    limits = GraphQLLimits(max_depth=settings.graphql_max_depth, max_aliases=settings.graphql_max_aliases,
                           max_tokens=settings.graphql_max_tokens, max_cost=settings.graphql_max_cost,
                           max_page_size=settings.graphql_max_page_size)
    runner = OperationRunner(build_schema(), limits, introspection=settings.graphql_introspection)
    trusted = (TrustedDocuments.load(settings.graphql_trusted_documents)
               if settings.graphql_trusted_documents is not None else None)
    view = make_view(runner, graphiql=settings.serves_graphiql, trusted=trusted)
    app.add_url_rule("/graphql", "graphql", view, methods=["GET", "POST"])
