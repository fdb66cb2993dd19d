#!/usr/bin/env bash
# builds-ab: two DingChat builds on one proj_ab.sh workload, alternating, fresh data each run; for a
# change measured against the build before it (performance.md, "How to measure"):
#   BENCH=/tmp/bench A=/tmp/dingchat-before B=/tmp/dingchat-after WL=history STORE=postgres \
#     docs/bench/builds-ab.sh
# BENCH is a copy of ../shared/bench with proj_ab-fresh-pg-peer.patch applied. PAIRS (5), CONNS (16),
# DUR (5s), WL (send|hot|create|history|get) and STORE (sqlite|postgres) as in proj_ab.sh. Prints
# wrkrun.sh's TSV line for each run, then B's rps over A's: the median of the pairs' ratios and each.
set -euo pipefail
BENCH=${BENCH:?a patched copy of ../shared/bench}; A=${A:?the build before}; B=${B:?the build after}
PAIRS=${PAIRS:-5}; CONNS=${CONNS:-16}; DUR=${DUR:-5s}; WL=${WL:-send}; STORE=${STORE:-sqlite}
PG=${PG:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
here=$BENCH; work=$(mktemp -d /tmp/buildsab.XXXX); out=$work/rows.tsv; trap 'rm -rf "$work"' EXIT
pkill -9 -f 'serve --addr 127.0.0.1:18090' || true
{ echo "corps:"; echo "  - corpId: dingbench0001"; echo "    apps:"
  echo "      - {appKey: benchkey, appSecret: benchsecret, ordinaryGroups: true}"
  echo "    users:"; for i in $(seq 1 50); do echo "      - {userid: user$i, mobile: \"1370000$(printf %04d $i)\"$([ $i = 1 ] && echo ', memberToken: benchmembertoken')}"; done
  echo "    groups:"; for g in $(seq 0 99); do echo "      - {name: g$g, chatid: $(printf 'chat%032x' $g), owner: user1, members: [user2,user3,user4,user5,user6,user7,user8,user9,user10]}"; done
} >"$work/org.yaml"
case $WL in
  send) LUA=$here/wrk/chat_send.lua; export CHATS=100 NO_SENDER=1 CHAT_HEX32=1;;
  hot) LUA=$here/wrk/chat_send.lua; export CHATS=1 NO_SENDER=1 CHAT_HEX32=1;;
  create) LUA=$here/wrk/create_group.lua; export MEMBERS=${MEMBERS:-40};;
  history|get) LUA=$here/wrk/history.lua; export CHATS=100 CHAT_HEX32=1 NO_SENDER=1;;
esac
wait_up() { for _ in $(seq 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done; return 1; }
run() { # label binary
  rm -rf "$work/data"; local db=()
  if [ "$STORE" = postgres ]; then
    psql "$PG" -qc "SET client_min_messages=warning; DROP SCHEMA IF EXISTS buildsab CASCADE; CREATE SCHEMA buildsab" >/dev/null
    db=(--db "${PG}&search_path=buildsab")
  fi
  "$2" serve --addr 127.0.0.1:18090 --data "$work/data" --org "$work/org.yaml" --demo=false "${db[@]}" --log-level warn >"$work/$1.log" 2>&1 & local pid=$!
  wait_up http://127.0.0.1:18090/_dingchat/health
  local tok; tok=$(curl -s 'http://127.0.0.1:18090/gettoken?appkey=benchkey&appsecret=benchsecret' | jq -r .access_token)
  export SEND_PATH="/chat/send?access_token=$tok" CREATE_PATH="/chat/create?access_token=$tok"
  [ "$WL" = history ] && wrk -t2 -c16 -d3s -s "$here/wrk/chat_send.lua" http://127.0.0.1:18090 >/dev/null 2>&1
  wrk -t2 -c4 -d1s -s "$LUA" http://127.0.0.1:18090 >/dev/null 2>&1 || true
  [ "$WL" = get ] && export HISTORY_TEMPLATE="/chat/get?access_token=$tok&chatid={chat}" CHECK_ERRCODE=1
  [ "$WL" = history ] && export HISTORY_TEMPLATE='/_dingchat/member/groups/{chat}/messages?order=desc&limit=20' AUTH='Bearer benchmembertoken'
  "$here/scripts/wrkrun.sh" "$1" "$pid" http://127.0.0.1:18090 "$CONNS" "$DUR" "$LUA" | tee -a "$out" || true
  kill $pid; wait $pid 2>/dev/null || true
  unset HISTORY_TEMPLATE AUTH CHECK_ERRCODE
}
for p in $(seq "$PAIRS"); do
  if [ $((p % 2)) = 1 ]; then run A "$A"; run B "$B"; else run B "$B"; run A "$A"; fi
done
python3 - "$out" <<'PY'
import sys, statistics
rows=[l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
a=[float(r[2]) for r in rows if r[0]=="A"]; b=[float(r[2]) for r in rows if r[0]=="B"]
n=min(len(a),len(b))
if not n: print("B/A none"); sys.exit()
q=[b[i]/a[i] for i in range(n)]
print(f"B/A rps pairs={n} median={statistics.median(q):.3f} each={','.join(f'{x:.2f}' for x in q)} A_median={statistics.median(a):.0f} B_median={statistics.median(b):.0f}")
PY
