# A sandbox node: everything a benchmark task needs (Xvfb, the buses, the window manager, the apps of the
# example suite, the project with its agents and Ray), installed by the project's own scripts/setup.
# Ray on Kubernetes (KubeRay) runs this image for its head and worker pods and starts Ray itself; alone,
# `docker run -e RAY_ADDRESS=HEAD:6379 -e DESKTOPS=2 IMAGE` joins a cluster as a node offering DESKTOPS desktops.
FROM debian:bookworm-slim

ENV DEBIAN_FRONTEND=noninteractive \
    LANG=C.UTF-8 \
    PIP_NO_CACHE_DIR=1 \
    RAY_USAGE_STATS_ENABLED=0

# What scripts/setup itself needs before it can run: Debian's Python (the venv is made from it) and certificates.
# Unpinned: the image follows the Debian release's security updates, as scripts/setup does.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/cua-mcp
COPY . .
# The apt packages, the venv with the project, its extras (agents, ray, bench) and test tools, as on a developer's machine.
RUN ./scripts/setup \
    && rm -rf /var/lib/apt/lists/* /root/.cache /root/.npm

ENV PATH=/opt/cua-mcp/.venv/bin:$PATH \
    DESKTOPS=1
CMD ["deploy/node-start"]
