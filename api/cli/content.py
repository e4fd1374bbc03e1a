"""qualtrack commands for content: load data/units files, import a CASE package or apprenticeship standards, export
the GraphQL schema, build a trusted-documents manifest."""

import sys
from pathlib import Path

import click

from api.cli.group import connect, explained, main, operator
from api.config import PROJECT_ROOT, Settings


@main.command("load-units")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
def load_units(path: Path | None) -> None:
    """Validate and load unit, standard, guidance and catalogue files from PATH (default data/units).

    Every problem is printed as FILE: JSON-PATH: MESSAGE; a file with problems is not loaded at all. Loading the
    same files again changes nothing. Exits 1 if any file had problems.
    """
    from api.services.content.loader import load_path

    settings = Settings.from_env()
    connect(settings)
    report = load_path(path or settings.units_dir)
    for file, outcome in report.outcomes.items():
        click.echo(f"{outcome:>9}  {file}")
    for problem in report.problems:
        click.echo(str(problem), err=True)
    counts = {o: list(report.outcomes.values()).count(o) for o in ("created", "updated", "unchanged", "invalid")}
    click.echo(", ".join(f"{n} {o}" for o, n in counts.items()))
    sys.exit(0 if report.ok else 1)


@main.command("import-case")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--awarding-body", required=True, help="Slug of the awarding body whose units these become.")
def import_case(path: Path, awarding_body: str) -> None:
    """Import a CASE CFPackage (JSON, CASE 1.0 or 1.1) as draft units of an awarding body."""
    import json

    from api.db import write_transaction
    from api.errors import ApiError
    from api.services.interop import case_import

    settings = Settings.from_env()
    connect(settings)
    try:
        package = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise click.ClickException(f"{path} is not a JSON CFPackage: {exc}") from None
    try:
        with write_transaction():
            report = case_import.import_package(operator(), package, awarding_body)
    except ApiError as error:
        raise explained(error) from None
    framework = report["framework"]
    if framework is not None:
        click.echo(f"  {framework['outcome']:<9} framework {framework['identifier']} (version {framework['version']}, "
                   f"{framework['status']})")
    for unit in report["units"]:
        click.echo(f"  {unit['outcome']:<9} {unit['code']} (version {unit['version']}, draft)")
    click.echo(f"{len(report['units'])} unit(s) from {path}")
    for kind in ("items", "associations"):
        for row in report[kind]:
            if "reason" in row:
                where = "framework only" if row["kept_as"] == "framework" else "not kept"
                click.echo(f"  {where}: {row['path']} ({row.get('identifier') or 'no identifier'}): {row['reason']}")
    for field in report["fields_not_kept"]:
        click.echo(f"  not kept: {field} (not a CASE 1.1 field)")


@main.command("import-standards")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_standards(path: Path) -> None:
    """Import apprenticeship standards from a JSON file as Skills England publishes them (one standard version, or
    the API's whole array). Prints each version's outcome, then every fault with its JSON path; importing the same
    file again changes nothing. Exits 1 if no version could be read."""
    from api.db import write_transaction
    from api.errors import ApiError
    from api.services.apprenticeships import importing

    connect(Settings.from_env())
    try:
        with write_transaction():
            report = importing.import_standards(operator(), path.read_bytes())
    except ApiError as error:
        for fault in error.extensions.get("faults", []):
            click.echo(f"  {fault['severity']}: {fault['path']}: {fault['message']}", err=True)
        raise explained(error) from None
    for version in report["versions"]:
        click.echo(f"  {version['outcome']:<9} {version['reference_number']} version {version['version']}")
    for fault in report["faults"]:
        click.echo(f"  {fault['severity']}: {fault['path']}: {fault['message']}", err=True)
    counts = report["counts"]
    click.echo(f"{counts['created']} created, {counts['updated']} updated, {counts['unchanged']} unchanged; "
               f"{len(report['faults'])} fault(s)")


@main.command("load-otj-rules")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                default=lambda: str(PROJECT_ROOT / "data" / "otj-rule-sets.json"))
def load_otj_rules(path: Path) -> None:
    """Replace the funding rule sets that planned off-the-job hours come from with those of a JSON file shaped as
    data/otj-rule-sets.json (the default). Audited. Exits 1, changing nothing, if the file is not such a file."""
    from api.db import write_transaction
    from api.errors import ApiError
    from api.services.apprenticeships import otj_rules

    connect(Settings.from_env())
    try:
        with write_transaction():
            report = otj_rules.load_rule_sets(path, operator())
    except ApiError as error:
        raise explained(error) from None
    click.echo(f"{report['loaded']} rule set(s) loaded from {path}")


@main.command("export-schema")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              default=lambda: str(PROJECT_ROOT / "schema" / "qualtrack.graphql"),
              show_default="schema/qualtrack.graphql")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the file differs from the live schema.")
def export_schema(output: Path, check: bool) -> None:
    """Write the GraphQL schema (SDL) to a file, so that every change to it shows in review."""
    from api.gql.schema import schema_sdl

    sdl = schema_sdl()
    current = output.read_text(encoding="utf-8") if output.exists() else None
    if check:
        if current != sdl:
            raise click.ClickException(f"{output} is not the live schema: run `qualtrack export-schema`")
        click.echo(f"{output} is up to date")
        return
    output.write_text(sdl, encoding="utf-8")
    click.echo(f"{'unchanged' if current == sdl else 'wrote'} {output} ({sdl.count(chr(10))} lines)")


@main.command("trusted-documents")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def trusted_documents(paths: tuple[Path, ...]) -> None:
    """Print a trusted-documents manifest (for QUALTRACK_GRAPHQL_TRUSTED_DOCUMENTS) holding each file's text as one
    document, checked against the live schema. Clients send each document's id, printed on stderr."""
    import json

    from graphql import GraphQLError, parse, validate

    from api.gql.schema import build_schema
    from api.gql.trusted_documents import document_id

    schema = build_schema()._schema
    manifest = {}
    for path in paths:
        text = path.read_bytes().decode("utf-8")  # as written: CRLF line ends stay CRLF, as the client hashes them
        try:
            errors = validate(schema, parse(text))
        except GraphQLError as error:
            errors = [error]
        if errors:
            raise click.ClickException(f"{path}: {errors[0].message}")
        manifest[document_id(text)] = text
        click.echo(f"{document_id(text)}  {path}", err=True)
    click.echo(json.dumps(manifest, indent=2, ensure_ascii=False))
