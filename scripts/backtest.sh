#!/usr/bin/env bash
# Backtest agent detection on your own history: runs
# `countersign audit --format json` over a local clone's first-parent history
# and prints how many commits each agent and automation bot wrote, then every
# commit whose signals are only weak (reported, never decisive: a bare
# `codex/` branch shape, a self-made address, aider's `aider: ` subject
# without its transcript), the ones a maintainer should look at by hand.
#
#   scripts/backtest.sh [DIR] [audit flags…]
#   scripts/backtest.sh ~/src/app --since 1y
#   scripts/backtest.sh . --branch release --config /tmp/countersign.yml
#
# Needs `countersign` on PATH (or COUNTERSIGN=/path/to/countersign) and jq.
# Exit status: 0 done, 2 when audit fails or a tool is missing.
set -euo pipefail
DIR=${1:-.}
[ $# -gt 0 ] && shift
CS=${COUNTERSIGN:-countersign}
command -v "$CS" >/dev/null 2>&1 || { echo "backtest: $CS not found; build it (make build) and set COUNTERSIGN=bin/countersign" >&2; exit 2; }
command -v jq >/dev/null 2>&1 || { echo "backtest: jq is required (apt-get install jq)" >&2; exit 2; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! "$CS" audit --repo "$DIR" --format json "$@" >"$out"; then
  echo "backtest: countersign audit failed" >&2
  exit 2
fi

jq -r '
  def weakonly: (.signals | length) > 0 and all(.signals[]; .strength == "weak");
  def pct(n; d): if d == 0 then "0.0" else ((n * 1000 / d | floor) / 10 | tostring) end;
  .summary as $s
  | [.commits[] | select(weakonly)] as $weak
  | "commits: \($s.commits)   agent: \($s.agent_commits) (\(pct($s.agent_commits; $s.commits))%)   automation: \($s.automation_commits)   human: \($s.human_commits)   weak-only: \($weak | length)",
    "",
    "agent\tcommits\tshare",
    ($s.by_agent[] | "\(.key)\t\(.commits)\t\(pct(.commits; $s.commits))%"),
    "",
    "automation\tcommits\tshare",
    ($s.by_automation[] | "\(.key)\t\(.commits)\t\(pct(.commits; $s.commits))%"),
    "",
    "weak-only signals by agent or bot\tcommits",
    ($weak | map(.signals[] | (.agent // .automation)) | group_by(.) | map("\(.[0])\t\(length)") | .[]),
    "",
    "commits whose signals are only weak (review by hand):",
    ($weak[] | "\(.sha[0:12])  \(.date[0:10])  \(.author_name) <\(.author_email)>  \(.subject)\n    " +
      ([.signals[] | "\(.kind) \(.match) → \(.agent // .automation)"] | join("\n    ")))
' "$out"
