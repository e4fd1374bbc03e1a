# qualtrack API: a slim runtime image, run as a non-root user. On start, `qualtrack start` applies pending migrations
# and loads data/units (one host at a time, under a database lock), then execs gunicorn (api/gunicorn_conf.py).
#
#   docker build -t qualtrack .
#   docker run -p 8000:8000 -e QUALTRACK_JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))') \
#       [-e QUALTRACK_DATABASE_URL=postgresql://user:password@db-host/qualtrack] qualtrack
#
# docs/deploy.md explains the settings and running several hosts against one PostgreSQL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    QUALTRACK_ENV=production \
    QUALTRACK_DATABASE_URL=sqlite:////var/lib/qualtrack/qualtrack.db \
    QUALTRACK_HOST=0.0.0.0 QUALTRACK_PORT=8000

WORKDIR /app
# The runtime dependencies only (no test extras). The project is installed in place (-e): the app reads
# openapi.yaml, schema/ and data/units from beside its code.
COPY pyproject.toml README.md openapi.yaml ./
COPY api ./api
COPY schema ./schema
COPY data ./data
RUN pip install -e . \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin qualtrack \
    && mkdir -p /var/lib/qualtrack && chown qualtrack /var/lib/qualtrack

USER qualtrack
EXPOSE 8000
# Liveness: the process answers. Load balancers should use /readyz (database reachable, migrations current).
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['QUALTRACK_PORT'], timeout=2)"]
CMD ["qualtrack", "start"]
