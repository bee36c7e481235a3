#!/usr/bin/env bash
# Instructions per event for one matcher benchmark family, switchyard's
# pre-validated path against quamina in the same process, counted by valgrind's
# callgrind (deterministic, unlike wall time on a busy machine).
#
#   scripts/callgrind-matcher.sh exact/plain
#
# Builds benches/matcher.rs, runs that family once in criterion's test mode under
# callgrind (counting only inside CompiledMatcher::matches_checked and
# Quamina::matches_for_event), and prints one line. Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
family=${1:?usage: scripts/callgrind-matcher.sh FAMILY/LAYOUT (e.g. exact/plain)}
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
bin=$(cargo bench --bench matcher --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "matcher":
        print(m["executable"])')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# %p: criterion starts a child process whose (empty) profile must not overwrite ours.
valgrind --tool=callgrind --callgrind-out-file="$out/cg.%p" --collect-atstart=no \
  --toggle-collect='switchyard::pattern::compiled::CompiledMatcher<I>::matches_checked' \
  --toggle-collect='quamina::Quamina<X>::matches_for_event' \
  "$bin" --bench "^$family/(switchyard-checked|quamina)\$" --noplot --test >/dev/null 2>&1
profile=$(ls -S "$out"/cg.* | head -1)
# The benchmark matches 2,000 events once; quamina's cost is taken from its calls
# by the benchmark loop (its setup also calls it, to count matches).
callgrind_annotate "$profile" --inclusive=yes --tree=caller --threshold=100 2>/dev/null | awk -v fam="$family" '
  /\* .*CompiledMatcher<I>::matches_checked \[/ { gsub(",", "", $1); s = $1 }
  /< .*Bencher<M>::iter \(2,000x\)/ { gsub(",", "", $1); last = $1 }
  /\* .*Quamina<X>::matches_for_event \[/ { q = last }
  END {
    if (!s) { print "no switchyard profile for " fam > "/dev/stderr"; exit 1 }
    printf "%s: switchyard %.0f instructions per event", fam, s / 2000
    if (q) printf ", quamina %.0f (%.2fx)", q / 2000, q / s
    printf "\n"
  }'
