"""Rules and queries, independent of Flask and strawberry: the REST views, GraphQL resolvers and CLI all call these."""
