# charterbot's production web process (docs/deploy.md): Telegram webhook, Slack HTTP and /health
# on $PORT with $WEB_CONCURRENCY uvicorn workers. The state is PostgreSQL when DATABASE_URL is
# set, else a SQLite file in /data (mount a volume there).
#   docker build -t charterbot .
#   docker run -p 8000:8000 -v charterbot-data:/data --env-file charterbot.env charterbot
#   docker run --rm --env-file charterbot.env charterbot charterbot release   # once per deploy
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CHARTERBOT_DATA_DIR=/data \
    PORT=8000 \
    WEB_CONCURRENCY=2

WORKDIR /app
# the pinned dependencies first: this layer is rebuilt only when requirements.txt changes
COPY requirements.txt pyproject.toml README.md ./
RUN grep -v "^-e \." requirements.txt > /tmp/pinned.txt && pip install -r /tmp/pinned.txt
COPY bot ./bot
COPY adapters ./adapters
COPY knowledge ./knowledge
RUN pip install --no-deps -e . \
    && useradd --system --uid 10001 --home-dir /app charterbot \
    && mkdir -p /data && chown charterbot /data \
    && CHARTERBOT_DATA_DIR=/tmp/build charterbot knowledge check >/dev/null

USER charterbot
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/health', timeout=4)"
CMD ["charterbot", "run", "web"]
