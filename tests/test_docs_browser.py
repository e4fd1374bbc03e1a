"""The documentation pages work with no internet, in a real browser: headless Chromium loads the guide (/docs), its
walkthroughs (/docs/walkthroughs/...), Swagger UI (/docs/api) and GraphiQL (/graphql, development) from a real
`qualtrack serve`, sees them render (the operations of openapi.yaml with the schemas they $ref; a GraphQL query run
from the editor) and makes no request to any other host. Screenshots are left in test-artifacts/ (not committed).

Without /usr/bin/chromium the browser tests are skipped (`apt-get install chromium`); the checks before them need no
browser.
"""

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import yaml

from api import create_app
from api.config import PROJECT_ROOT, Settings
from api.rest.docs import WALKTHROUGHS
from tests.conftest import empty_database_url
from tests.test_serve import running_server

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
WALKTHROUGH_PAGES = tuple(f"/docs/walkthroughs/{name}" for name in WALKTHROUGHS)
PAGES = ("/docs", "/docs/api", "/graphql", *WALKTHROUGH_PAGES)
HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


# -- without a browser ------------------------------------------------------------------------------------------------

@pytest.fixture
def dev_client(database, database_url):
    """A test client of the app as development serves it (GraphiQL on)."""
    return create_app(Settings(database_url=database_url, env="development"), database=database).test_client()


def test_vendored_graphiql_matches_its_recorded_checksums():
    result = subprocess.run([sys.executable, "docs/vendor_graphiql.py", "--check"], cwd=PROJECT_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pages_load_only_this_servers_files_and_cache_them(dev_client):
    """Every page names only local files, each at its content digest (cached for a year), under a CSP that allows
    no other host; the pages themselves are revalidated on each visit."""
    for page in PAGES:
        response = dev_client.get(page, headers={"Accept": "text/html"})
        assert response.status_code == 200 and response.mimetype == "text/html", page
        assert response.headers["Cache-Control"] == "no-cache" and response.headers["ETag"]
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src 'self';" in policy and "http" not in policy
        html = response.get_data(as_text=True)
        assert "<script>" not in html, f"{page} has an inline script (the CSP would block it)"
        urls = re.findall(r'(?:src|href)="([^"]*)"', html)
        assert [u for u in urls if not u.startswith(("/", "data:"))] == [], page
        for url in (u for u in urls if u.startswith("/docs/assets/")):
            asset = dev_client.get(url)
            assert asset.status_code == 200 and asset.content_length > 0, url
            assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable", url


def test_assets_are_only_the_listed_files(client):
    unversioned = client.get("/docs/assets/graphiql.min.js")
    assert unversioned.status_code == 200 and unversioned.headers["Cache-Control"] == "public, no-cache"
    assert client.get("/docs/assets/graphiql.min.js", headers={"If-None-Match": unversioned.headers["ETag"]}
                      ).status_code == 304
    for name in ("SHA256SUMS", "LICENSE.react", "nothing.js", "..%2Fdocs.py"):
        missing = client.get(f"/docs/assets/{name}")
        assert missing.status_code == 404 and missing.mimetype == "application/problem+json", name


@pytest.mark.parametrize("page", ["/docs", "/docs/api", *WALKTHROUGH_PAGES])
def test_the_guide_and_swagger_link_graphiql_only_where_it_is_served(client, dev_client, page):
    assert 'href="/graphql"' in dev_client.get(page).get_data(as_text=True)
    assert 'href="/graphql"' not in client.get(page).get_data(as_text=True)  # env "test": no GraphiQL
    assert 'href="/docs"' in client.get(page).get_data(as_text=True)


# -- in Chromium ------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def docs_server(tmp_path_factory):
    """`qualtrack serve` in development (GraphiQL on) over a fresh database of the backend under test."""
    with (empty_database_url(tmp_path_factory.mktemp("docs"), "docs") as url,
          running_server(url, QUALTRACK_ENV="development") as base):
        yield base


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's Chromium (`apt-get install chromium`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, docs_server):
    """A fresh browser page that may only reach the server under test: a request to any other host is aborted and
    recorded, as are script errors and console errors (a CSP violation is one). The test fails on any of them."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    local = urlsplit(docs_server).netloc
    page = context.new_page()
    page.requested, page.foreign, page.problems = [], [], []

    def route(route):
        url = urlsplit(route.request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.netloc != local:
            page.foreign.append(route.request.url)
            route.abort()
        else:
            page.requested.append(url.path)
            route.continue_()

    context.route("**/*", route)
    context.route_web_socket(re.compile(".*"), lambda ws: (page.foreign.append(ws.url), ws.close()))  # none expected
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console error: {m.text}"))
    yield page
    context.close()
    assert page.foreign == [], "the page tried to reach another host"
    assert page.problems == []


def screenshot(target, name: str, capsys, **options) -> Path:
    """Save a PNG of the page (or element) to test-artifacts/ and print where."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    target.screenshot(path=str(path), **options)
    with capsys.disabled():
        print(f"\nscreenshot: {path}")
    return path


def operation_count(base: str) -> int:
    with urllib.request.urlopen(f"{base}/v1/openapi.yaml") as response:
        document = yaml.safe_load(response)
    return sum(len(HTTP_METHODS & set(item)) for item in document["paths"].values())


@pytest.mark.slow
def test_guide_renders_and_links_the_references(page, docs_server, capsys):
    page.goto(f"{docs_server}/docs")
    assert page.get_by_role("heading", name="Guide for integrators").is_visible()
    assert page.get_by_role("heading", name="Getting a token").is_visible()
    for link in ("REST reference (Swagger UI)", "GraphiQL", "openapi.yaml"):
        assert page.get_by_role("link", name=link).first.is_visible(), link
    assert f"curl '{docs_server}/v1/units'" in page.inner_text("main")
    screenshot(page, "docs-guide", capsys, full_page=True)


@pytest.mark.slow
@pytest.mark.parametrize("path", WALKTHROUGH_PAGES)
def test_walkthroughs_render_with_this_servers_url_and_link_each_other(page, docs_server, path, capsys):
    page.goto(f"{docs_server}{path}")
    assert page.get_by_role("heading", name=WALKTHROUGHS[path.rsplit("/", 1)[1]], exact=True).is_visible()
    assert page.get_by_role("heading", name="Before you start").is_visible()
    assert page.locator("pre.run").first.inner_text().startswith(f"BASE={docs_server}\n")
    for title in WALKTHROUGHS.values():
        assert page.get_by_role("link", name=title, exact=True).first.is_visible(), title
    screenshot(page, f"docs-walkthrough-{path.rsplit('/', 1)[1]}", capsys)


@pytest.mark.slow
def test_swagger_ui_renders_every_operation_and_the_schemas_it_refers_to(page, docs_server, capsys):
    page.goto(f"{docs_server}/docs/api")
    page.wait_for_selector(".opblock", timeout=30_000)
    rendered = page.locator(".opblock").count()
    assert rendered >= operation_count(docs_server) >= 60
    paths = set(page.locator(".opblock-summary-path").evaluate_all("nodes => nodes.map(n => n.dataset.path)"))
    assert {"/v1/units", "/v1/units/{unit_id}", "/v1/auth/token", "/v1/learners", "/graphql"} <= paths
    page.locator(".opblock-tag-section").first.scroll_into_view_if_needed()
    screenshot(page, "docs-swagger-ui", capsys)

    # PUT /v1/units/{unit_id}/draft takes a unit document: $ref "schema/unit.schema.json" (resolved against
    # /v1/openapi.yaml), whose owner is a $ref to defs.schema.json. Its body schema shows what only those files say.
    draft = page.locator(".opblock-put", has=page.locator('[data-path="/v1/units/{unit_id}/draft"]'))
    draft.locator(".opblock-summary").click()
    body = draft.locator(".opblock-section-request-body")
    body.get_by_role("tab", name="Schema").click()
    body.get_by_text("One unit of a vocational qualification", exact=False).wait_for(timeout=30_000)
    text = body.inner_text()
    assert "learning_outcomes" in text and "^[a-z0-9]+(-[a-z0-9]+)*$" in text, text[:2000]  # the slug is in defs
    assert "Resolver error" not in page.inner_text("body")
    assert {"/v1/openapi.yaml", "/v1/schema/unit.schema.json", "/v1/schema/defs.schema.json"} <= set(page.requested)
    screenshot(body, "docs-swagger-ui-draft-body", capsys)


@pytest.mark.slow
def test_graphiql_renders_and_runs_a_query(page, docs_server, capsys):
    with urllib.request.urlopen(f"{docs_server}/v1/units?limit=1") as response:
        published = json.load(response)["total"]
    page.goto(f"{docs_server}/graphql")
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    editor.wait_for(timeout=30_000)
    editor.evaluate("node => node.CodeMirror.setValue('{ units(first: 1) { totalCount } }')")
    page.locator(".graphiql-execute-button").click()
    result = page.locator(".graphiql-response .CodeMirror")
    page.wait_for_function("() => document.querySelector('.graphiql-response .CodeMirror')"
                           ".CodeMirror.getValue().includes('totalCount')", timeout=30_000)
    answer = json.loads(result.evaluate("node => node.CodeMirror.getValue()"))
    assert answer["data"] == {"units": {"totalCount": published}} and answer["extensions"]["cost"]["actual"] == 2
    # the schema came through introspection (within the GraphQL limits): the documentation explorer shows it
    page.get_by_role("button", name=re.compile("documentation explorer", re.I)).click()
    page.locator(".graphiql-doc-explorer").get_by_text("Query", exact=True).first.wait_for(timeout=30_000)
    screenshot(page, "docs-graphiql", capsys)


@pytest.mark.slow
def test_a_link_to_a_query_opens_graphiql_with_that_query(page, docs_server):
    query = "{ units(first: 2) { nodes { code } } }"
    page.goto(f"{docs_server}/graphql?query={quote(query)}")
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    editor.wait_for(timeout=30_000)
    assert editor.evaluate("node => node.CodeMirror.getValue()") == query
