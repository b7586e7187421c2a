# The bot, for a server: `docker build -t helpdesk-bot .` then
# `docker run -v $PWD/config.yaml:/app/config.yaml -v $PWD/data:/app/data helpdesk-bot`
# Edit faq/ and flows/ by mounting them too (-v $PWD/faq:/app/faq); the bot keeps the last good version.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir .
COPY faq ./faq
COPY flows ./flows
COPY config.example.yaml ./
RUN useradd --create-home helpdesk && mkdir -p /app/data && chown helpdesk /app/data
USER helpdesk
VOLUME ["/app/data"]
ENTRYPOINT ["helpdesk-bot"]
CMD ["run", "-c", "/app/config.yaml"]
