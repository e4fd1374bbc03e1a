"""Documentation pages that work with no internet: the integrators' guide at /docs, a walkthrough per kind of user at
/docs/walkthroughs/<name>, Swagger UI over the contract at /docs/api, and every file they (and GraphiQL at /graphql)
load, served from this server at /docs/assets/<name>.

Swagger UI's files come from the swagger-ui-py package (only its static files are used); GraphiQL and React are
vendored from npm in api/assets/vendor/graphiql (docs/vendor_graphiql.py fetches them). Pages send a
Content-Security-Policy that allows no other host, so a stray CDN reference fails in the browser instead of phoning
out, and they have no inline scripts: each page starts its tool from a script file in api/assets.
"""

import hashlib
import importlib.util
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, request, send_file, url_for

bp = Blueprint("docs", __name__)
ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
SWAGGER_UI_FILES = ("swagger-ui-bundle.js", "swagger-ui.css")
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:",
    "font-src 'self' data:", "connect-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"))
FOREVER = "public, max-age=31536000, immutable"
# Each walkthrough takes one kind of user from a fresh clone to a working result: its name (in the URL and as
# api/templates/docs/walkthroughs/<name>.html) and its title. tests/test_walkthroughs.py runs every command of each.
WALKTHROUGHS = {
    "lms": "LMS integration (REST)",
    "graphql": "Front end (GraphQL)",
    "awarding-body": "Awarding-body content sync",
    "bulk-import": "Bulk import of learners",
}


@cache
def assets() -> dict[str, Path]:
    """Every file a page may load, by the one name it is served under: Swagger UI's, the vendored GraphiQL's, ours."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or spec.origin is None:
        raise RuntimeError("the swagger-ui-py package is missing: reinstall qualtrack (pip install -e .)")
    swagger_ui = Path(spec.origin).parent / "static"
    files = {name: swagger_ui / name for name in SWAGGER_UI_FILES}
    for directory in (ASSETS_DIR / "vendor" / "graphiql", ASSETS_DIR):
        files |= {path.name: path for path in directory.iterdir() if path.suffix in (".js", ".css")}
    return files


@cache
def digest(name: str) -> str:
    """A short hash of an asset's bytes: it changes whenever the file does."""
    return hashlib.sha256(assets()[name].read_bytes()).hexdigest()[:16]


def asset_url(name: str) -> str:
    """The URL of an asset at its current content (``?v=<digest>``), which browsers may therefore cache for good."""
    return url_for("docs.asset", name=name, v=digest(name))


def html_page(template: str, **context) -> Response:
    """A page rendered from api/templates, allowed to load only from this server, revalidated on every visit (ETag)
    so that it always names the current assets."""
    response = Response(render_template(template, asset_url=asset_url, **context), mimetype="text/html")
    response.headers.update({"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Content-Type-Options": "nosniff",
                             "Cache-Control": "no-cache"})
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/docs")
def guide():
    """The guide for integrators: what the API is, how to get a token, first calls, GraphQL, and links to the
    references (Swagger UI always; GraphiQL where it is served, in development)."""
    return html_page("docs/guide.html", base_url=_base_url(), graphiql=_graphiql_served(),
                     walkthroughs=WALKTHROUGHS)


@bp.get("/docs/walkthroughs/<name>")
def walkthrough(name):
    """One of WALKTHROUGHS (404 for any other name): commands to run in order, each naming this server's own URL, and
    what comes back."""
    if name not in WALKTHROUGHS:
        abort(404)
    return html_page(f"docs/walkthroughs/{name}.html", base_url=_base_url(), graphiql=_graphiql_served(),
                     walkthroughs=WALKTHROUGHS, current=name, title=WALKTHROUGHS[name])


def _base_url() -> str:
    """This server's root URL as the caller reached it, without a trailing slash."""
    return request.url_root.rstrip("/")


@bp.get("/docs/api")
def swagger_ui():
    """Swagger UI over /v1/openapi.yaml, whose relative ``$ref: schema/...`` resolve to /v1/schema/...; its top bar
    links the guide, and GraphiQL where it is served."""
    return html_page("docs/swagger_ui.html", spec_url=url_for("meta.openapi_document"), graphiql=_graphiql_served())


def _graphiql_served() -> bool:
    return current_app.config["QUALTRACK"].serves_graphiql


@bp.get("/docs/assets/<name>")
def asset(name):
    """One of assets() (404 for any other name): cached for a year when asked for at its current digest, otherwise
    revalidated with its ETag on every use."""
    if name not in assets():
        abort(404)
    response = send_file(assets()[name], conditional=True, etag=True)
    response.headers["Cache-Control"] = FOREVER if request.args.get("v") == digest(name) else "public, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
