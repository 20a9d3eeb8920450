# syntax=docker/dockerfile:1
# Production image: gunicorn serving wsgi:app as a non-root user; migrations run at start.

FROM node:20-bookworm-slim AS vendor
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MEETINGS_ENV=production
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY config.py wsgi.py ./
COPY meetings ./meetings
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
COPY docker/entrypoint.sh /usr/local/bin/entrypoint.sh
COPY --from=vendor /build/node_modules/livekit-client/dist/livekit-client.umd.js ./static/vendor/
RUN useradd --create-home --uid 10001 meetings && mkdir -p /app/instance \
    && chown meetings /app/instance && chmod +x /usr/local/bin/entrypoint.sh
USER meetings
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
ENTRYPOINT ["entrypoint.sh"]
