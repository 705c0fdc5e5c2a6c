# Two images from one Debian 12 base, the system the service is tested on:
#   docker build --target prosody -t chatd-prosody .    Prosody 0.12 + prosody-modules + chatd's Lua modules
#   docker build --target chatd   -t chatd .            chatd, with prosodyctl (it creates members' accounts)
# Both get the same prosody user (same base layer), so chatd's prosodyctl and Prosody share its data volume.
# compose.yaml runs them together; docs/deploy.md says what to mount.
FROM debian:bookworm-slim AS base
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prosody prosody-modules ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /run/prosody /var/log/prosody && chown prosody:prosody /run/prosody /var/log/prosody

FROM base AS prosody
COPY conf/prosody/mod_*.lua /usr/local/lib/chatd/prosody-modules/
USER prosody
# /etc/prosody/prosody.cfg.lua and members-isolation.pfw come from `chatd deploy render` (mounted)
EXPOSE 5222 5223 5269
CMD ["prosody", "-F"]

FROM base AS chatd
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/chatd/src
COPY pyproject.toml README.md ./
COPY chatd ./chatd
COPY policies ./policies
COPY bridges ./bridges
COPY conf ./conf
# editable: chatd reads its templates and example files from conf/ beside the code
RUN python3 -m venv /opt/chatd/venv && /opt/chatd/venv/bin/pip install --no-cache-dir -e /opt/chatd/src \
    && mkdir -p /var/lib/chatd && chown prosody:prosody /var/lib/chatd && chmod 700 /var/lib/chatd
USER prosody
WORKDIR /var/lib/chatd
ENV PATH=/opt/chatd/venv/bin:$PATH
EXPOSE 8765
CMD ["chatd", "run", "--config", "/etc/chatd/chatd.toml"]
