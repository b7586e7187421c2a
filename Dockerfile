# The bot, for a server:
#   docker build -t helpdesk-bot .
#   docker run -v $PWD/config.yaml:/app/config.yaml:ro -v helpdesk-data:/app/data helpdesk-bot
# Edit faq/ and flows/ by mounting them too (-v $PWD/faq:/app/faq:ro); the bot keeps the last good version.
# HEALTHCHECK asks /healthz on 127.0.0.1:9464: put `metrics: {port: 9464}` in config.yaml (host 0.0.0.0
# only if a Prometheus outside the container scrapes /metrics too).

# --- build: the project and its dependencies in a venv; compilers and pip's cache stay here
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /venv
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN /venv/bin/pip install --no-cache-dir .

# --- run: the venv, the data files, a user without rights on the code
FROM python:3.11-slim
# tzdata: working hours are Europe/Paris wall-clock hours (zoneinfo also finds the tzdata wheel in the venv);
# not pinned: a time-zone rule change must reach the image at its next build.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 helpdesk
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TZ=Europe/Paris
COPY --from=build /venv /venv
WORKDIR /app
COPY faq ./faq
COPY flows ./flows
COPY reponses.yaml config.example.yaml ./
RUN mkdir -p /app/data && chown helpdesk /app/data
USER 10001
VOLUME ["/app/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["helpdesk-bot"]
CMD ["run", "-c", "/app/config.yaml"]
