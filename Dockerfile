# Production image: gunicorn serves wsgi:app as a non-root user; migrations run at start.
# The same image runs the media worker (recording): `docker run … meetings worker`.
#   docker build -t meetings .
# Settings come from the environment (see the README's configuration table).

# --- Stage 1: the browser files from npm (livekit-client, hls.js, background effects), pinned
# by package-lock.json and put into static/vendor by the same script as `make` ---
FROM node:20-bookworm-slim AS vendor
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund  # esbuild (a dev dependency) bundles the effects
COPY scripts/vendor/ ./scripts/vendor/
RUN scripts/vendor/build.sh

# --- Stage 2: the app ---
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first: this layer is reused until requirements.txt changes.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY config.py wsgi.py ./
COPY meetings/ ./meetings/
COPY templates/ ./templates/
COPY static/ ./static/
COPY migrations/ ./migrations/
COPY --from=vendor /build/static/vendor/ ./static/vendor/
# A .gz and a .br next to every static file: WhiteNoise sends them to browsers that accept them.
RUN python -m whitenoise.compress --quiet static
COPY docker/entrypoint.sh /usr/local/bin/meetings-entrypoint

# The code stays root-owned and read-only to the app; only instance/ (the default SQLite
# database, and instance/recordings where the worker writes) is writable. Mount a volume
# there (shared by the app and worker containers), or set DATABASE_URL and S3 storage.
RUN chmod 0755 /usr/local/bin/meetings-entrypoint \
    && useradd --system --uid 10001 --user-group --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin meetings \
    && mkdir -p /app/instance/recordings \
    && chown -R meetings:meetings /app/instance

ENV MEETINGS_ENV=production
USER 10001
EXPOSE 8000

# /healthz answers 503 when the database is unreachable; urlopen raises on it. Its LiveKit
# check is bounded by LIVEKIT_TIMEOUT_SECONDS (5 s by default), hence the longer timeouts.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=8)"]

ENTRYPOINT ["meetings-entrypoint"]
