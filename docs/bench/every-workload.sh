#!/usr/bin/env bash
# every-workload: the twelve proj_ab.sh workloads of performance.md's "Every workload" tables
# (send at 16 and 64 connections, hot, create, history, get; SQLite then PostgreSQL), one line each:
#   BENCH=/tmp/bench DINGCHAT=/tmp/dingchat docs/bench/every-workload.sh
# BENCH is a copy of ../shared/bench with proj_ab-fresh-pg-peer.patch applied and basesrv built
# into /tmp/benchbin (see ../shared/bench/README.md). Each line: the RATIO line's median and each
# round, DingChat's and the peer's median rps, their median CPU per request in µs (the server's
# process, then everything else on the box: for PostgreSQL mostly its backends) and DingChat's
# largest RSS; the hot line adds its target's ratio, DingChat's hot rps over its own send16 rps.
# ROUNDS (3), DUR (5s) and STORES ("sqlite postgres") pass through; the whole run takes ~10 min.
set -euo pipefail
BENCH=${BENCH:?a patched copy of ../shared/bench}; DINGCHAT=${DINGCHAT:?path to a built dingchat}
export ROUNDS=${ROUNDS:-3} DUR=${DUR:-5s}
for store in ${STORES:-sqlite postgres}; do
  spread=
  for w in "send 16" "send 64" "hot 16" "create 16" "history 16" "get 16"; do
    set -- $w
    peer=sqlite-batch; [ "$store" = postgres ] && peer=pg-batch; [ "$1" = get ] && peer=bare
    pkill -x basesrv 2>/dev/null || true # one left behind would answer for the next peer
    out=$(DINGCHAT=$DINGCHAT PEER=$peer WL=$1 STORE=$store CONNS=$2 "$BENCH/scripts/proj_ab.sh" 2>&1 || true)
    line=$(echo "$out" | awk -F'\t' -v name="$store-$1$2" -v spread="$spread" -v hot="$([ "$1" = hot ] && echo 1)" '
      function median(a, n,   i, j, t) {
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
      BEGIN { steal = 0 }
      /^(dingchat|peer)/ && $3 > 0 {
        k = ($1 ~ /^dingchat/) ? "d" : "p"; n[k]++
        rps[k, n[k]] = $3; cpu[k, n[k]] = $9 * 10000 / $3; oth[k, n[k]] = $11 * 10000 / $3
        if ($15 + 0 > steal) steal = $15 + 0
        if (k == "d" && $12 + 0 > rss) rss = $12 + 0 }
      /^RATIO/ { split($0, f, " "); split(f[4], m, "="); split(f[5], e, "="); ratio = m[2] " (" e[2] ")" }
      END {
        if (ratio == "") { print name ": no RATIO (see proj_ab.sh output)"; exit }
        for (k in n) { delete r; delete c; delete o
          for (i = 1; i <= n[k]; i++) { r[i] = rps[k, i]; c[i] = cpu[k, i]; o[i] = oth[k, i] }
          R[k] = median(r, n[k]); C[k] = median(c, n[k]); O[k] = median(o, n[k]) }
        printf "%-18s %s  rps %.0f / %.0f  cpu µs %.0f / %.0f, other %.0f / %.0f  rss %s MiB  steal<=%s%%",
          name, ratio, R["d"], R["p"], C["d"], C["p"], O["d"], O["p"], rss, steal
        if (hot && spread > 0) printf "  hot/spread %.2f", R["d"] / spread
        printf "\n" }')
    echo "$line"
    if [ "$1$2" = send16 ]; then spread=$(echo "$line" | sed -n 's/.*  rps \([0-9]*\) .*/\1/p'); fi
  done
done
