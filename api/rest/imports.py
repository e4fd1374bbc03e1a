"""REST views for bulk learner imports: POST a CSV or NDJSON body, read the job and its refused rows."""

from flask import Blueprint, Response, current_app, request

from api.auth import current_principal
from api.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from api.inputs.params import LEARNER_IMPORT_ARGS, PAGE_ARGS
from api.rest.http import Created, idempotency_key, json_response, keyed_run, page_response, parse_args, parse_id
from api.services.common.access import require_authenticated
from api.services.imports import jobs, learner_import, reading

bp = Blueprint("imports", __name__)
FORMATS = {"text/csv": "csv", "application/x-ndjson": "ndjson", "application/jsonl": "ndjson"}


@bp.post("/imports/learners")
def import_learners():
    """Import learners (and enrolments) from the body, streamed: CSV (text/csv) or NDJSON (application/x-ndjson).

    Every batch is its own transaction (so a crash keeps what was committed and a re-run resumes); the job says what
    happened to every row. all_or_nothing (default) writes nothing if any row is wrong. With an Idempotency-Key, the
    answer is stored and a retry of the same request replays it (waiting for the first to finish): no second job."""
    principal = current_principal()
    require_authenticated(principal)
    key = idempotency_key()
    limit = current_app.config["QUALTRACK"].import_max_bytes
    if (request.content_length or 0) > limit:
        raise PayloadTooLarge(f"the file is larger than {limit} bytes: split it")
    request.max_content_length = limit  # instead of the app's limit; a chunked body is cut off (413) past it

    def run(stream) -> Response:
        args = parse_args(LEARNER_IMPORT_ARGS)
        file_format = FORMATS.get(request.mimetype)
        if file_format is None:
            raise UnsupportedMediaType(f"send text/csv or application/x-ndjson (got {request.mimetype or 'nothing'})")
        return _imported(principal, args, stream, file_format, limit)

    return run(request.stream) if key is None else keyed_run(key, request.stream, run)


def _imported(principal, args: dict, stream, file_format: str, limit: int) -> Response:
    """Run the import from ``stream``: 201 with the job (200 with the report for a dry run); 422 when all_or_nothing
    refused the file."""
    job = learner_import.run_import(principal, args["centre_id"], stream, file_format, mode=args["mode"],
                                    dry_run=args["dry_run"], clear_empty=args["clear_empty"])
    body = {**jobs.job_body(job), "problems": jobs.problems_of(job, limit=100),
            "href": None if args["dry_run"] else f"/v1/imports/learners/{job.id}"}
    if job.status == "rejected":
        errors = {f"row {p['row']}: {p['field']}": [p["message"]] for p in body["problems"]}
        raise ValidationFailed(f"{job.rejected} of {job.received} rows are not valid: nothing was imported "
                               f"(all_or_nothing); the full report is at {body['href']}", errors=errors,
                               extensions={"job": body})
    if args["dry_run"]:
        return json_response(body, cache_control="no-store")
    return Created(body, body["href"]).response()


@bp.get("/imports/learners/template.csv")
def import_template():
    """A CSV template for learner imports: the header with every column, and one example row."""
    response = Response(reading.template_csv(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="learners-template.csv"'
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/imports/learners/<job_id>")
def get_import(job_id):
    """An import job: its counts and its refused rows (cursor-paginated, by row)."""
    args = parse_args(PAGE_ARGS)
    job = jobs.visible_job(current_principal(), parse_id(job_id, "import"))
    page = jobs.problem_page(job, args.get("cursor"), args["limit"])
    response = page_response(page, cache_control="private, no-cache")
    body = {**jobs.job_body(job), "problems": page.items, "next_cursor": page.next_cursor,
            "total": page.total}
    response.set_data(current_app.json.dumps(body))
    return response
