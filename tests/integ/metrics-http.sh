#!/bin/bash
# metrics-http.sh: backlogd -m serves GET /metrics over HTTP: 200 with the
# exposition's Content-Type, a body `promtool check metrics` accepts, HEAD
# without a body, 404 elsewhere, 405 (Allow: GET, HEAD) for other methods;
# many scrapes in a tick cost one render; clients that connect and send
# nothing, or more connections than the limits, neither delay a tick nor
# the control socket nor the next scrape, and an idle one is closed; a
# port in use and a bad address are clear errors; SIGTERM stops it cleanly.
. "$(dirname "$0")/lib.sh"
require_tools jq ip promtool curl timeout
enter_ns "-n"
setup_work

ADDR=127.0.0.1:9110
URL="http://$ADDR/metrics"
start_daemon -m "$ADDR"
grep -q "serving the metrics on $URL" "$WORK/backlogd.log" || fail "no line saying where the metrics are served"

# GET: 200, the exposition's type, a body promtool accepts (the daemon's own listener is in it).
code=$(curl -s -o "$WORK/body.txt" -D "$WORK/head.txt" -w '%{http_code}' "$URL")
[ "$code" = 200 ] || fail "GET /metrics answered $code"
grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$WORK/head.txt" ||
	fail "wrong Content-Type: $(grep -i content-type "$WORK/head.txt")"
promtool check metrics <"$WORK/body.txt" >"$WORK/promtool.log" 2>&1 ||
	fail "promtool check metrics: $(cat "$WORK/promtool.log")"
grep -q "^backlogd_listener_accept_queue_limit{netns=\"host\",listener=\"$ADDR\",port=\"9110\"" "$WORK/body.txt" ||
	fail "the endpoint's own listener is not in the exposition"
grep -q '^backlogd_build_info{' "$WORK/body.txt" || fail "no backlogd_build_info"

# HEAD: the same headers, no body.
curl -s -I "$URL" >"$WORK/head2.txt" || fail "HEAD failed"
grep -q '^HTTP/1.1 200' "$WORK/head2.txt" || fail "HEAD /metrics: $(head -1 "$WORK/head2.txt")"
grep -qi '^Content-Length: [1-9]' "$WORK/head2.txt" || fail "HEAD gave no Content-Length"
[ "$(curl -s -X HEAD --max-time 2 "$URL" 2>/dev/null | wc -c)" = 0 ] || fail "HEAD sent a body"

# Elsewhere 404; other methods 405 naming the allowed ones.
for path in / /metric /metrics/ /favicon.ico; do
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://$ADDR$path")
	[ "$code" = 404 ] || fail "GET $path answered $code, not 404"
done
for m in POST PUT DELETE OPTIONS; do
	curl -s -o /dev/null -D "$WORK/m.txt" -X "$m" --data x "$URL"
	grep -q '^HTTP/1.1 405' "$WORK/m.txt" || fail "$m /metrics: $(head -1 "$WORK/m.txt")"
	grep -qi '^Allow: GET, HEAD' "$WORK/m.txt" || fail "$m /metrics: no Allow header"
done

# Twenty scrapes in a burst cost one render per tick, not twenty.
before=$(grep -c 'metrics rendered for tick' "$WORK/backlogd.log")
t0=$(daemon_ticks)
for i in $(seq 20); do curl -s -o /dev/null -o /dev/null "$URL" "$URL" || fail "scrape $i failed"; done
t1=$(daemon_ticks)
renders=$(( $(grep -c 'metrics rendered for tick' "$WORK/backlogd.log") - before ))
[ "$renders" -le $(( t1 - t0 + 1 )) ] ||
	fail "$renders renders for 40 scrapes over $((t1 - t0)) ticks: snapshots are not reused"
note "40 scrapes over $((t1 - t0)) ticks: $renders renders"

# Clients that connect and never send (a stalled or hostile scraper).
exec 5<>/dev/tcp/127.0.0.1/9110 || fail "cannot connect"
exec 6<>/dev/tcp/127.0.0.1/9110 || fail "cannot connect"
idle_since=$SECONDS
wait_ticks 4
start=$(date +%s%N)
timeout 2 "$BACKLOGCTL" -S "$SOCK" status >/dev/null || fail "backlogctl status did not answer with idle HTTP clients"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 1000 ] || fail "backlogctl status took $ms ms with idle HTTP clients"
code=$(curl -s -o /dev/null --max-time 3 -w '%{http_code}' "$URL")
[ "$code" = 200 ] || fail "a scrape beside two idle clients answered $code"

# More connections than the limits (4 per address, 16 in all): the ones
# over are closed at once; the daemon keeps ticking and serves again after.
for fd in $(seq 10 29); do
	eval "exec $fd<>/dev/tcp/127.0.0.1/9110" 2>/dev/null || true
done
closed=0
for fd in $(seq 10 29); do
	# read returns 1 at EOF (closed by the server), over 128 on its timeout.
	read -r -t 0.3 -u "$fd" _ 2>/dev/null
	[ $? -eq 1 ] && closed=$((closed + 1))
done
[ "$closed" -ge 15 ] || fail "only $closed of 20 connections over the limit were closed"
wait_ticks 2
for fd in $(seq 10 29); do eval "exec $fd>&-"; done
for i in $(seq 30); do
	code=$(curl -s -o /dev/null --max-time 3 -w '%{http_code}' "$URL")
	[ "$code" = 200 ] && break
	sleep 0.1
done
[ "$code" = 200 ] || fail "no scrape served after the connections over the limit closed ($code)"

# The idle connections are closed by the server once their timeout (10 s) passes.
sleep $(( 11 - (SECONDS - idle_since) > 0 ? 11 - (SECONDS - idle_since) : 0 ))
read -r -t 3 -u 5 _
[ $? -eq 1 ] || fail "an idle connection was still open $((SECONDS - idle_since)) s later"
exec 5>&- 6>&-

# A port in use: a clear error naming the address and the errno, exit non-zero.
"$BACKLOGD" -d -S "$WORK/other.sock" -f /dev/null -N -m "$ADDR" >"$WORK/second.log" 2>&1
rc=$?
[ "$rc" -ne 0 ] || fail "a second backlogd on $ADDR exited 0"
grep -q "cannot listen on $ADDR for the metrics: Address already in use" "$WORK/second.log" ||
	fail "the bind error does not say where and why: $(cat "$WORK/second.log")"
# Bad addresses: refused before anything starts, by -m and by the file (-n checks it).
"$BACKLOGD" -n -f /dev/null -m ::1:9110 >"$WORK/bad.log" 2>&1
[ $? -eq 2 ] && grep -q "brackets" "$WORK/bad.log" || fail "-m ::1:9110: $(cat "$WORK/bad.log")"
printf '[metrics]\nlisten = localhost:9110\n' >"$WORK/bad.conf"
"$BACKLOGD" -n -f "$WORK/bad.conf" >"$WORK/bad.log" 2>&1 && fail "-n accepted listen = localhost:9110"
grep -q "bad.conf:2: \[metrics\] listen = 'localhost:9110': want IPV4:PORT" "$WORK/bad.log" ||
	fail "-n does not say what listen wants: $(cat "$WORK/bad.log")"
printf '[metrics]\nlisten = [::1]:9120\n' >"$WORK/good.conf"
"$BACKLOGD" -n -f "$WORK/good.conf" >/dev/null 2>&1 || fail "-n refused listen = [::1]:9120"

# A scrape in flight, then SIGTERM: the HTTP thread stops and the daemon exits 0 within a second.
exec 7<>/dev/tcp/127.0.0.1/9110
stop_daemon
exec 7>&-
curl -s -o /dev/null --max-time 1 "$URL" && fail "the endpoint still answers after SIGTERM"
echo "PASS: GET/HEAD /metrics 200 (promtool OK), 404, 405; $renders renders for 40 scrapes; idle and excess clients harmless"
