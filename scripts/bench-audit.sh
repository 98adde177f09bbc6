#!/usr/bin/env bash
# Audit benchmark: `countersign audit --format csv` against
# `git log --first-parent --name-status` over the same generated history.
#
#   scripts/bench-audit.sh                 # 100,000 first-parent commits
#   N=20000 RUNS=3 scripts/bench-audit.sh  # smaller
#   REPACK=1 scripts/bench-audit.sh        # also on a copy after `git repack -adf` (gc-style deltas)
#
# The repository is generated once with git fast-import into /tmp and reused.
# hyperfine is used when installed; otherwise each command runs RUNS times and
# the median wall and CPU (user + system) times are printed with their ratios.
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

# measure LABEL CMD… runs CMD RUNS times (after one warm-up) and prints the
# median wall time and the median CPU time (user + system). CPU time stays
# put when other work shares the machine; wall time does not.
measure() {
  local label=$1; shift
  "$@" >/dev/null
  local walls=() cpus=()
  for _ in $(seq "$RUNS"); do
    local out
    out=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null; } 2>&1 )
    walls+=("$(echo "$out" | awk '{print $1}')")
    cpus+=("$(echo "$out" | awk '{print $2 + $3}')")
  done
  local w c
  w=$(printf '%s\n' "${walls[@]}" | median)
  c=$(printf '%s\n' "${cpus[@]}" | median)
  printf '%-38s wall %7.3f s   cpu %7.3f s\n' "$label" "$w" "$c"
}

run_once() {
  local what=$1 dir=$2
  echo "== $what: $(git -C "$dir" rev-list --first-parent --count HEAD) first-parent commits, $(du -sh "$dir/.git" | cut -f1) .git"
  if command -v hyperfine >/dev/null; then
    (cd "$dir" && hyperfine --warmup 1 --runs "$RUNS" \
      "$BIN audit --format csv >/dev/null" \
      "git log --first-parent --name-status >/dev/null")
  else
    local a g
    a=$(cd "$dir" && measure "countersign audit --format csv" "$BIN" audit --format csv)
    g=$(cd "$dir" && measure "git log --first-parent --name-status" git log --first-parent --name-status)
    echo "$a"
    echo "$g"
    paste <(echo "$a") <(echo "$g") | awk -F'\t' '{
      split($1, a, " +"); split($2, g, " +")
      for (i in a) if (a[i] == "wall") aw = a[i+1]; else if (a[i] == "cpu") ac = a[i+1]
      for (i in g) if (g[i] == "wall") gw = g[i+1]; else if (g[i] == "cpu") gc = g[i+1]
      printf "ratio audit / git log: wall %.2fx, cpu %.2fx\n", aw / gw, ac / gc }'
  fi
}

run_once "as git fast-import wrote it" "$DIR"
if [ "${REPACK:-0}" = 1 ]; then
  if [ ! -d "$DIR-repacked/.git" ]; then
    rm -rf "$DIR-repacked"
    cp -r "$DIR" "$DIR-repacked"
    git -C "$DIR-repacked" repack -adfq
  fi
  run_once "after git repack -adf" "$DIR-repacked"
fi
