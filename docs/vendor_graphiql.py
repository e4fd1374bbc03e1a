"""Fetch GraphiQL's browser build (and the React it runs on) from the npm registry into api/assets/vendor/graphiql/.

GraphiQL is vendored because no PyPI package ships a current build of it, and /graphql must work with no internet
(no CDN). Only the minified files the page loads are kept, with the licence files and SHA256SUMS.

    python docs/vendor_graphiql.py          # fetch the pinned versions below (needs npm), rewrite the files
    python docs/vendor_graphiql.py --check  # offline: the committed files match SHA256SUMS (exit 1 if not)

To upgrade, change PACKAGES, run it, and check /graphql in a browser (tests/test_docs_browser.py does). GraphiQL 3.x
is the last line with a UMD build (4.x and later are ES modules only); React 18 the last with UMD files.
"""

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "api" / "assets" / "vendor" / "graphiql"
MANIFEST = TARGET / "SHA256SUMS"

# npm package@version -> {path in its tarball: file name here}
PACKAGES = {
    "graphiql@3.9.0": {"package/graphiql.min.js": "graphiql.min.js", "package/graphiql.min.css": "graphiql.min.css",
                       "package/LICENSE": "LICENSE.graphiql"},
    "@graphiql/plugin-explorer@3.2.6": {"package/dist/index.umd.js": "graphiql-plugin-explorer.umd.js",
                                        "package/dist/style.css": "graphiql-plugin-explorer.css"},
    # bundled inside the explorer plugin's UMD file; fetched only for its licence
    "graphiql-explorer@0.9.0": {"package/LICENSE": "LICENSE.graphiql-explorer"},
    "react@18.3.1": {"package/umd/react.production.min.js": "react.production.min.js",
                     "package/LICENSE": "LICENSE.react"},
    "react-dom@18.3.1": {"package/umd/react-dom.production.min.js": "react-dom.production.min.js",
                         "package/LICENSE": "LICENSE.react-dom"},
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch() -> None:
    """Download each pinned tarball with `npm pack` (which checks the registry's integrity hash), extract the listed
    files into TARGET and write SHA256SUMS: one `sha256  file  package@version/path  tarball-integrity` line each."""
    TARGET.mkdir(parents=True, exist_ok=True)
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec, files in PACKAGES.items():
            result = subprocess.run(["npm", "pack", spec, "--json", "--pack-destination", tmp],
                                    check=True, capture_output=True, text=True)
            [packed] = json.loads(result.stdout)
            with tarfile.open(Path(tmp) / packed["filename"]) as tarball:
                for member, name in files.items():
                    (TARGET / name).write_bytes(tarball.extractfile(member).read())
                    lines.append(f"{sha256(TARGET / name)}  {name}  {spec}/{member.removeprefix('package/')}  "
                                 f"{packed['integrity']}")
    MANIFEST.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} files and {MANIFEST}")


def check() -> list[str]:
    """The problems with the committed files: any listed file missing or not matching its recorded sha256."""
    problems = []
    for line in MANIFEST.read_text(encoding="utf-8").splitlines():
        digest, name = line.split()[:2]
        path = TARGET / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256(path) != digest:
            problems.append(f"{name}: sha256 differs from SHA256SUMS")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="verify the committed files (no network)")
    if parser.parse_args().check:
        problems = check()
        print("\n".join(problems) or "all vendored files match SHA256SUMS")
        return 1 if problems else 0
    fetch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
