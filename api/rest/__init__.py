"""The REST edge: /v1 blueprints, conditional GETs."""

from flask import Flask, Response, request

from api.rest import (
    admin,
    apprenticeship_tracking,
    apprenticeships,
    assessment,
    auth,
    case,
    centres,
    content,
    credentials,
    docs,
    enrolment_staff,
    imports,
    ksb_assessment,
    learners,
    meta,
    sync,
    webhooks,
)


def init_app(app: Flask) -> None:
    """Mount every /v1 blueprint, the documentation pages (/docs) and the conditional-GET hook."""
    app.register_blueprint(content.bp, url_prefix="/v1")
    app.register_blueprint(meta.bp, url_prefix="/v1")
    app.register_blueprint(auth.bp, url_prefix="/v1")
    app.register_blueprint(centres.bp, url_prefix="/v1")
    app.register_blueprint(learners.bp, url_prefix="/v1")
    app.register_blueprint(enrolment_staff.bp, url_prefix="/v1")
    app.register_blueprint(assessment.bp, url_prefix="/v1")
    app.register_blueprint(sync.bp, url_prefix="/v1")
    app.register_blueprint(imports.bp, url_prefix="/v1")
    app.register_blueprint(admin.bp, url_prefix="/v1")
    app.register_blueprint(webhooks.bp, url_prefix="/v1")
    app.register_blueprint(credentials.bp, url_prefix="/v1")
    app.register_blueprint(apprenticeships.bp, url_prefix="/v1")
    app.register_blueprint(apprenticeship_tracking.bp, url_prefix="/v1")
    app.register_blueprint(ksb_assessment.bp, url_prefix="/v1")
    app.register_blueprint(case.bp, url_prefix=case.BASE_PATH)
    app.register_blueprint(docs.bp)

    @app.after_request
    def conditional_get(response: Response) -> Response:
        """Give every successful JSON GET an ETag and answer a matching If-None-Match with 304."""
        cacheable = request.method in ("GET", "HEAD") and response.status_code == 200
        if cacheable and response.mimetype == "application/json" and "ETag" not in response.headers:
            response.add_etag()
            response.make_conditional(request)
        return response
