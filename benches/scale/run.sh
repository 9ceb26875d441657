#!/usr/bin/env bash
# Scale benchmark: cost per request of JWT guards called in process through tower (no sockets
# for the requests; a loopback JWKS server only), by token pool size and by concurrency, and the
# RSS growth of each guard over 1,000,000 distinct tokens (one child process per guard).
# Prints Markdown tables on stdout (progress on stderr).
#
#   benches/scale/run.sh                                   # defaults (see --help)
#   benches/scale/run.sh --pools 1,1000,100000,1000000     # opt in to the 1M pool in the tables
#   benches/scale/run.sh --pools 1,1000 --concurrency 1,8 --requests 2000 --rss-tokens 1000
#
# Token pools are minted once on all cores (100,000 RS256 tokens took 42 s on 2 cores;
# 1,000,000, which the default RSS table needs, about 7 minutes) and cached as
# $CARGO_TARGET_DIR/scale-tokens-<n>.{txt,json}; they stay valid for 30 days and are minted
# again when less than 12 hours are left.
set -euo pipefail

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-scale}
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

here=$(cd "$(dirname "$0")" && pwd)
(cd "$here" && cargo build --release --quiet)
# Shown in the report: which bearer-guard was measured, and with which compiler.
rev=$(git -C "$here/../.." rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$here/../.." status --porcelain -- src 2>/dev/null)" ] || rev="$rev + uncommitted src/ changes"
export SCALE_BUILD_INFO="bearer-guard at $rev; $(rustc -V)"
exec "$CARGO_TARGET_DIR/release/scale" "$@"
