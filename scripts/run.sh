#!/usr/bin/env bash
# `make run`: the GitHub App server when credentials are set
# (COUNTERSIGN_APP_ID, with the private key and webhook secret, see
# docs/configuration.md), with the webhook on COUNTERSIGN_LISTEN (:8080) and
# the probes and /metrics on COUNTERSIGN_METRICS_LISTEN (127.0.0.1:9090);
# otherwise the sandbox: the bot and a simulated GitHub in one process, on
# http://127.0.0.1:8080/ (COUNTERSIGN_LISTEN; probes and metrics only with
# --metrics-listen).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -n "${COUNTERSIGN_APP_ID:-}" ]]; then
  exec ./bin/countersign serve "$@"
fi
echo "COUNTERSIGN_APP_ID is not set: starting the sandbox (no GitHub needed)." >&2
exec ./bin/countersign serve --sandbox "$@"
