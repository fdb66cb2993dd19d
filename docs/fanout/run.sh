#!/usr/bin/env bash
# fan-out: DingChat's /_dingchat/member/live against the Centrifuge peer, alternating.
#   DINGCHAT=/tmp/dingchat SUBS=1000 NGROUPS=1 RATE=20 DUR=20s ROUNDS=2 docs/fanout/run.sh
# needs $BENCHBIN/{centrifugepeer,fanbench} (default /tmp/benchbin) built from ../shared/bench with
# docs/fanout/fanbench-dingchat.patch applied (fanbench -proto dingchat, -chat-hex32, -token)
set -euo pipefail
DINGCHAT=${DINGCHAT:?}; SUBS=${SUBS:-1000}; NGROUPS=${NGROUPS:-1}; RATE=${RATE:-20}; DUR=${DUR:-20s}; ROUNDS=${ROUNDS:-2}
BENCHBIN=${BENCHBIN:-/tmp/benchbin}; STORE=${STORE:-sqlite}; PG=${PG:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
work=$(mktemp -d /tmp/fanrun.XXXX)
# users user0..user(SUBS-1), each with member token benchmt<i>; group g holds every user i with i % NGROUPS == g
{ echo "corps:"; echo "  - corpId: dingfanbench01"; echo "    apps:"
  echo "      - {appKey: fankey, appSecret: fansecret}"
  echo "    users:"; for i in $(seq 0 $((SUBS-1))); do echo "      - {userid: user$i, memberToken: fanbench-member-$i}"; done
  echo "    groups:"; for g in $(seq 0 $((NGROUPS-1))); do
    m=""; for i in $(seq $g $NGROUPS $((SUBS-1))); do m="$m${m:+,}user$i"; done
    echo "      - {name: g$g, chatid: $(printf 'chat%032x' $g), owner: user$g, members: [$m]}"; done
} >"$work/org.yaml"
wait_up() { for _ in $(seq 400); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done; return 1; }
for r in $(seq $ROUNDS); do
  $BENCHBIN/centrifugepeer -addr 127.0.0.1:18081 >"$work/peer.log" 2>&1 & pid=$!
  wait_up http://127.0.0.1:18081/healthz
  echo -n "peer     "; $BENCHBIN/fanbench -ws 'ws://127.0.0.1:18081/connection/websocket' -proto centrifuge -chat-hex32 \
    -send http://127.0.0.1:18081/chat/send -subs $SUBS -groups $NGROUPS -rate $RATE -duration $DUR -pid $pid 2>>"$work/fb.log" | grep RESULT || true
  kill $pid; wait $pid 2>/dev/null || true
  rm -rf "$work/data"; db=()
  if [ "$STORE" = postgres ]; then psql "$PG" -qc "DROP SCHEMA IF EXISTS fanrun CASCADE; CREATE SCHEMA fanrun" >/dev/null; db=(--db "${PG}&search_path=fanrun"); fi
  "$DINGCHAT" serve --addr 127.0.0.1:18091 --data "$work/data" --org "$work/org.yaml" --demo=false "${db[@]}" --log-level warn ${DCFLAGS:-} >"$work/dc.log" 2>&1 & pid=$!
  wait_up http://127.0.0.1:18091/_dingchat/health
  tok=$(curl -s 'http://127.0.0.1:18091/gettoken?appkey=fankey&appsecret=fansecret' | jq -r .access_token)
  echo -n "dingchat "; $BENCHBIN/fanbench -ws 'ws://127.0.0.1:18091/_dingchat/member/live' -proto dingchat -token "fanbench-member-{i}" -chat-hex32 \
    -send "http://127.0.0.1:18091/chat/send?access_token=$tok" -subs $SUBS -groups $NGROUPS -rate $RATE -duration $DUR -pid $pid 2>>"$work/fb.log" | grep RESULT || true
  kill $pid; wait $pid 2>/dev/null || true
done
tail -20 "$work/fb.log"
rm -rf "$work"
