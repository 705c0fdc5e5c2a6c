# chatd alone; Prosody runs beside it (see conf/prosody/ for its config template and rules).
FROM python:3.11-slim-bookworm
WORKDIR /srv/chatd
COPY pyproject.toml README.md ./
COPY chatd ./chatd
COPY policies ./policies
COPY bridges ./bridges
COPY conf ./conf
RUN pip install --no-cache-dir . && useradd --system --home /var/lib/chatd chatd \
    && mkdir -p /var/lib/chatd && chown chatd /var/lib/chatd
USER chatd
ENV CHATD_STORE__PATH=/var/lib/chatd/chatd.sqlite3
EXPOSE 8765
CMD ["chatd", "run", "--config", "/etc/chatd/chatd.toml"]
