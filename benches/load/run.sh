#!/usr/bin/env bash
# Load benchmark: the same trivial axum 0.8 handler served unprotected, behind bearer-guard
# (token cache on = default, and off), and behind jwt-authorizer, loaded with wrk on loopback
# with a pool of valid RS256 tokens; then the cold-key storm. Prints a table with ratios.
#
#   benches/load/run.sh                      # defaults below
#   DURATION=10 ROUNDS=3 CONNS=64 THREADS=2 TOKENS=1000 benches/load/run.sh
#
# Only 127.0.0.1 is used. Every process started here is stopped on exit (trap).
set -euo pipefail

DURATION=${DURATION:-10}     # seconds per measured wrk run
WARMUP=${WARMUP:-2}          # seconds of unmeasured wrk before each measured run
ROUNDS=${ROUNDS:-3}          # measured runs per variant, interleaved (order rotates each round)
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
TOKENS=${TOKENS:-1000}
STORM=${STORM:-1000}
BASE_PORT=${BASE_PORT:-18080}
VARIANTS=${VARIANTS:-"plain bg bg-nocache jwta"}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-load}
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)" >&2
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
command -v python3 >/dev/null || { echo "python3 is needed for the table" >&2; exit 1; }
[ "$(ulimit -n)" -ge 4096 ] || ulimit -n 4096 2>/dev/null || echo "warning: open-file limit $(ulimit -n) may be too low for the storm" >&2

(cd "$here" && cargo build --release --quiet)
bin=$CARGO_TARGET_DIR/release

# wait_ready FILE: until the process wrote its "ready" line (10 s at most)
wait_ready() {
    for _ in $(seq 100); do
        grep -q '^ready' "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "timed out waiting for $1:" >&2; cat "$1" >&2; exit 1
}

issuer="http://127.0.0.1:$BASE_PORT"
"$bin/issuer" --bind "127.0.0.1:$BASE_PORT" --tokens "$TOKENS" --out "$work/tokens.txt" \
    >"$work/issuer.log" 2>&1 &
pids+=($!)
wait_ready "$work/issuer.log"

declare -A port
i=1
for v in $VARIANTS; do
    port[$v]=$((BASE_PORT + i)); i=$((i + 1))
    "$bin/serve" --mode "$v" --bind "127.0.0.1:${port[$v]}" --issuer "$issuer" \
        >"$work/serve-$v.log" 2>&1 &
    pids+=($!)
done
token=$(head -n1 "$work/tokens.txt")
for v in $VARIANTS; do
    wait_ready "$work/serve-$v.log"
    # sanity: a valid token passes; for protected variants no token and a bad token are refused
    ok=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "http://127.0.0.1:${port[$v]}/")
    none=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${port[$v]}/")
    bad=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${token%?}x" "http://127.0.0.1:${port[$v]}/")
    echo "check $v: valid=$ok none=$none tampered=$bad"
    [ "$ok" = 200 ] || { echo "valid token refused by $v" >&2; exit 1; }
    if [ "$v" != plain ] && { [ "$none" != 401 ] || [ "$bad" != 401 ]; }; then
        echo "$v let an unauthenticated request through" >&2; exit 1
    fi
done

echo "wrk: ${THREADS} threads, ${CONNS} connections, ${DURATION}s x ${ROUNDS} rounds (+${WARMUP}s warm-up), ${TOKENS} tokens"
results=$work/results.txt
variants=($VARIANTS)
k=${#variants[@]}
for r in $(seq 0 $((ROUNDS - 1))); do
    for j in $(seq 0 $((k - 1))); do
        v=${variants[$(((r + j) % k))]}
        url="http://127.0.0.1:${port[$v]}/"
        wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" -s "$here/wrk-tokens.lua" "$url" -- "$work/tokens.txt" >/dev/null
        line=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" -s "$here/wrk-tokens.lua" "$url" -- "$work/tokens.txt" | grep '^RESULT')
        echo "round $((r + 1)) $v $line"
        echo "$v $line" >>"$results"
    done
done

python3 - "$results" "$VARIANTS" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    v, _, *kv = line.split()
    d = dict(x.split("=") for x in kv)
    rows.setdefault(v, []).append(d)
names = {"plain": "unprotected", "bg": "bearer-guard (default: token cache on)",
         "bg-nocache": "bearer-guard (no_cache)", "jwta": "jwt-authorizer 0.15"}
med = {}
for v, ds in rows.items():
    med[v] = (statistics.median(float(d["rps"]) for d in ds),
              statistics.median(int(d["p99_us"]) for d in ds) / 1000,
              sum(int(d["non2xx"]) + int(d["sockerr"]) for d in ds))
print()
print("| variant | req/s (median) | p99 ms (median) | vs unprotected | vs jwt-authorizer | errors |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for v in sys.argv[2].split():
    rps, p99, err = med[v]
    vs_plain = f"{rps / med['plain'][0]:.2f}x" if "plain" in med else "-"
    vs_jwta = f"{rps / med['jwta'][0]:.2f}x" if "jwta" in med else "-"
    print(f"| {names.get(v, v)} | {rps:,.0f} | {p99:.2f} | {vs_plain} | {vs_jwta} | {err} |")
PY

echo
echo "cold-key storm (${STORM} concurrent requests, new kid):"
storm_ok=0
"$bin/storm" --mode bg --requests "$STORM" || storm_ok=1
# informative: the same storm against jwt-authorizer (not a pass/fail criterion)
"$bin/storm" --mode jwta --requests "$STORM" || true
exit $storm_ok
