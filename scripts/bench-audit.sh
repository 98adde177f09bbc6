#!/usr/bin/env bash
# Audit benchmark: `countersign audit --format csv` against
# `git log --first-parent --name-status` over the same generated history.
#
#   scripts/bench-audit.sh                 # 100,000 first-parent commits
#   N=20000 RUNS=3 scripts/bench-audit.sh  # smaller
#   REPACK=1 scripts/bench-audit.sh        # also after `git repack -adf` (gc-style deltas)
#
# The repository is generated once with git fast-import into /tmp and reused.
# hyperfine is used when installed; otherwise each command runs RUNS times and
# the median wall time is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
RUNS=${RUNS:-5}
DIR=${DIR:-/tmp/countersign-bench-$N}
BIN=${BIN:-/tmp/countersign-bench-bin}

command -v git >/dev/null || { echo "bench-audit: git is required" >&2; exit 2; }
go build -trimpath -o "$BIN" ./cmd/countersign
if [ ! -d "$DIR/.git" ]; then
  echo "generating $N first-parent commits in $DIR …" >&2
  rm -rf "$DIR"
  go run ./bot/gitfacts/internal/histgen/cmd -n "$N" -o "$DIR"
fi

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure LABEL CMD… prints the median wall seconds of RUNS runs (after one warm-up).
measure() {
  local label=$1; shift
  "$@" >/dev/null
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
  done | median | awk -v l="$label" '{printf "%-34s %8.3f s (median of runs)\n", l, $1}'
}

run_once() {
  local what=$1
  echo "== $what: $(git -C "$DIR" rev-list --first-parent --count HEAD) first-parent commits, $(du -sh "$DIR/.git" | cut -f1) .git"
  if command -v hyperfine >/dev/null; then
    (cd "$DIR" && hyperfine --warmup 1 --runs "$RUNS" \
      "$BIN audit --format csv >/dev/null" \
      "git log --first-parent --name-status >/dev/null")
  else
    local a g
    a=$(cd "$DIR" && measure "countersign audit --format csv" "$BIN" audit --format csv)
    g=$(cd "$DIR" && measure "git log --first-parent --name-status" git log --first-parent --name-status)
    echo "$a"
    echo "$g"
    awk -v a="$(echo "$a" | awk '{print $(NF-4)}')" -v g="$(echo "$g" | awk '{print $(NF-4)}')" \
      'BEGIN {printf "ratio audit / git log: %.2fx\n", a / g}'
  fi
}

run_once "as fast-import wrote it"
if [ "${REPACK:-0}" = 1 ]; then
  git -C "$DIR" repack -adfq
  run_once "after git repack -adf"
fi
