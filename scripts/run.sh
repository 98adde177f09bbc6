#!/usr/bin/env bash
# `make run`: until the server lands, evaluate this repository's own branch.
set -euo pipefail
cd "$(dirname "$0")/.."
exec ./bin/countersign check --repo . "$@"
