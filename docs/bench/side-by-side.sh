#!/usr/bin/env bash
# side-by-side: one server (DingChat or its peer) under proj_ab.sh's chat/send load, with `perf`
# attached to the server alone, printed per send: its CPU, its system calls and context switches,
# and the PostgreSQL backends' CPU over the same seconds. Run it for each side, alternating:
#   BENCH=/tmp/bench DINGCHAT=/tmp/dingchat STORE=postgres docs/bench/side-by-side.sh dingchat
#   BENCH=/tmp/bench STORE=postgres docs/bench/side-by-side.sh peer
# BENCH is a copy of ../shared/bench with basesrv built into /tmp/benchbin (see its README).
# STORE: postgres (default) or sqlite; CONNS (16); REC=FILE records call graphs into FILE instead
# (then `perf report -i FILE --children --sort sym`). The load runs 9 s; perf watches 6 s of it
# from the 1.5th second, and a send's share is taken over wrk's rate for the whole run.
# performance.md, "How to measure" and "What was left", has what it showed.
set -euo pipefail
who=${1:?dingchat or peer}; BENCH=${BENCH:?a copy of ../shared/bench}
STORE=${STORE:-postgres}; CONNS=${CONNS:-16}; WIN=6
PG=${PG:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
pgcpu() { # ticks of every postgres process
  local t=0 p
  for p in $(pgrep -f '^postgres' || true); do
    t=$((t + $(awk '{s=$0; sub(/.*\) /, "", s); split(s, f, " "); print f[12] + f[13]}' /proc/$p/stat 2>/dev/null || echo 0)))
  done
  echo $t
}
pkill -9 -f 'serve --addr 127.0.0.1:18090' || true; pkill -x basesrv || true
work=$(mktemp -d /tmp/side.XXXX); trap 'rm -rf "$work"' EXIT
{ echo "corps:"; echo "  - corpId: dingbench0001"; echo "    apps:"
  echo "      - {appKey: benchkey, appSecret: benchsecret, ordinaryGroups: true}"
  echo "    users:"; for i in $(seq 1 50); do echo "      - {userid: user$i, mobile: \"1370000$(printf %04d $i)\"}"; done
  echo "    groups:"; for g in $(seq 0 99); do echo "      - {name: g$g, chatid: $(printf 'chat%032x' $g), owner: user1, members: [user2,user3,user4,user5,user6,user7,user8,user9,user10]}"; done
} >"$work/org.yaml"
export CHATS=100 NO_SENDER=1 CHAT_HEX32=1
wait_up() { for _ in $(seq 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done; return 1; }
case $who in
dingchat)
  db=()
  if [ "$STORE" = postgres ]; then
    psql "$PG" -qc "SET client_min_messages=warning; DROP SCHEMA IF EXISTS projab CASCADE; CREATE SCHEMA projab" >/dev/null
    db=(--db "${PG}&search_path=projab")
  fi
  "${DINGCHAT:?path to a built dingchat}" serve --addr 127.0.0.1:18090 --data "$work/data" --org "$work/org.yaml" \
    --demo=false "${db[@]}" --log-level warn >"$work/server.log" 2>&1 &
  pid=$!; url=http://127.0.0.1:18090; wait_up $url/_dingchat/health
  tok=$(curl -s "$url/gettoken?appkey=benchkey&appsecret=benchsecret" | jq -r .access_token)
  export SEND_PATH="/chat/send?access_token=$tok";;
peer)
  if [ "$STORE" = postgres ]; then
    psql "$PG" -qc "SET client_min_messages=warning; DROP TABLE IF EXISTS public.msg, public.member, public.conv" >/dev/null
    /tmp/benchbin/basesrv -mode pg-batch -pg "$PG" -addr 127.0.0.1:18080 >"$work/server.log" 2>&1 &
  else
    /tmp/benchbin/basesrv -mode sqlite-batch -db "$work/peer.db" -addr 127.0.0.1:18080 >"$work/server.log" 2>&1 &
  fi
  pid=$!; url=http://127.0.0.1:18080; wait_up $url/healthz
  export SEND_PATH="/chat/send?access_token=bench";;
*) echo "dingchat or peer" >&2; exit 2;;
esac
wrk -t2 -c4 -d1s -s "$BENCH/wrk/chat_send.lua" $url >/dev/null 2>&1 || true
wrk -t2 -c"$CONNS" -d9s -s "$BENCH/wrk/chat_send.lua" $url >"$work/wrk.out" 2>&1 &
wpid=$!
sleep 1.5
pg0=$(pgcpu)
if [ -n "${REC:-}" ]; then
  perf record -g -F 2000 -o "$REC" -p $pid -- sleep $WIN >/dev/null 2>&1
else
  events=task-clock,context-switches
  for s in read write epoll_pwait futex nanosleep pwrite64 pread64 fsync fdatasync; do events="$events,syscalls:sys_enter_$s"; done
  perf stat -x, -e "$events" -p $pid -- sleep $WIN 2>"$work/perf.out"
fi
pg1=$(pgcpu)
wait $wpid || true
kill $pid; wait $pid 2>/dev/null || true
rps=$(awk '/^RESULT/{split($2, a, "="); print a[2]}' "$work/wrk.out")
[ -n "$rps" ] || { cat "$work/wrk.out" >&2; exit 1; }
hz=$(getconf CLK_TCK)
printf '%s %s: %s sends a second; PostgreSQL backends %.1f µs a send\n' "$STORE" "$who" "$rps" \
  "$(awk -v d=$((pg1 - pg0)) -v hz=$hz -v r=$rps -v w=$WIN 'BEGIN{print d / hz * 1e6 / (r * w)}')"
[ -n "${REC:-}" ] || awk -F, -v r=$rps -v w=$WIN '{ n = $3 == "task-clock" ? sprintf("%.1f µs", $1 * 1000 / (r * w)) : sprintf("%.3f", $1 / (r * w))
  sub(/^syscalls:sys_enter_/, "", $3); printf "  %-18s %s a send\n", $3, n }' "$work/perf.out"
