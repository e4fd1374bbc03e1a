# qualtrack API: slim runtime image, non-root, gunicorn, migrations and content load on start.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    QUALTRACK_DATABASE_URL=sqlite:////var/lib/qualtrack/qualtrack.db QUALTRACK_HOST=0.0.0.0 QUALTRACK_PORT=8000

WORKDIR /app
COPY pyproject.toml README.md ./
COPY api ./api
COPY schema ./schema
COPY data ./data
COPY openapi.yaml ./
RUN pip install -e . \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin qualtrack \
    && mkdir -p /var/lib/qualtrack && chown qualtrack /var/lib/qualtrack

USER qualtrack
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"QUALTRACK_PORT\"]}/v1/evidence-types', timeout=2)"
CMD ["sh", "-c", "qualtrack init-db && qualtrack load-units /app/data/units && exec qualtrack serve"]
