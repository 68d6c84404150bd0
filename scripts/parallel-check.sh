#!/usr/bin/env bash
# Issue 10's parallel check: two full container-backend runs at once, each in
# a PID namespace of its own (as CI jobs in containers are), sharing one Docker
# engine and one TMPDIR; a third run in this namespace starts meanwhile (its
# sweep must remove nothing of theirs). All three must pass, and nothing of
# any of them may be left: no labeled container, network or image, no temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "ERROR: parallel-check: unshare --pid needs root" >&2; exit 2; }
command -v unshare >/dev/null || { echo "ERROR: parallel-check: needs unshare (util-linux)" >&2; exit 2; }
go build -o bin/wsslab ./cmd/wsslab
tmp=$(mktemp -d /tmp/parallel-check.XXXXXX)
logs=$(mktemp -d)
trap 'rm -rf "$tmp" "$logs"' EXIT
export TMPDIR=$tmp
run=(./bin/wsslab run --backend container --quiet)
unshare --pid --fork --mount-proc "${run[@]}" >"$logs/a" 2>&1 & a=$!
unshare --pid --fork --mount-proc "${run[@]}" >"$logs/b" 2>&1 & b=$!
sleep 3
"${run[@]}" --scenario valid-fullchain >"$logs/c" 2>&1 & c=$!
fail=0
for p in a b c; do
  if ! wait "${!p}"; then
    echo "FAIL: run $p:"; tail -20 "$logs/$p"; fail=1
  else
    echo "ok: run $p"
  fi
done
left=$(docker ps -aq --filter label=wsslab.harness=1; docker network ls -q --filter label=wsslab.harness=1; docker images -q --filter label=wsslab.harness=1)
if [ -n "$left" ]; then echo "FAIL: left in the engine: $left"; fail=1; fi
if ls -A "$tmp" | grep -q .; then echo "FAIL: left in TMPDIR: $(ls -A "$tmp")"; fail=1; fi
[ $fail -eq 0 ] && echo "parallel-check: 3 runs, 2 PID namespaces, nothing left"
exit $fail
