#!/bin/bash
# Host checks of the exporter's surroundings (no kernel needed), as TAP:
# the Prometheus rules, their unit tests, the sample configuration, the
# exposition format (a sample rendered by the unit tests), the systemd unit,
# and the exporter's start-up errors.
set -u
cd "$(dirname "$0")/.."
n=0
ok() { echo "ok - contrib: $*"; }
not_ok() { echo "not ok - contrib: $*"; }
# t NAME CMD...: one assertion, the command's output shown on failure
t() {
	local name=$1 out; shift
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name"; printf '%s\n' "$out" | tail -15 | sed 's/^/#   /'; fi
}

if ! P=$(tests/prometheus-fetch.sh); then
	not_ok "Debian's prometheus package unpacked for promtool"
	exit 1
fi
promtool=$P/promtool
t "promtool check rules contrib/prometheus/cifstrace-rules.yml" \
	"$promtool" check rules contrib/prometheus/cifstrace-rules.yml
t "promtool test rules (every alert fires when it should and not before)" \
	sh -c "cd contrib/prometheus && '$promtool' test rules cifstrace-rules.test.yml"
t "promtool check config contrib/prometheus/prometheus.yml" \
	"$promtool" check config contrib/prometheus/prometheus.yml

sample=$(mktemp)
trap 'rm -f "$sample" "$sample.unit" "$sample.port"' EXIT
METRICS_SAMPLE=$sample build/tests/test_metrics >/dev/null 2>&1
t "promtool check metrics accepts the rendered exposition" \
	sh -c "[ -s '$sample' ] && '$promtool' check metrics <'$sample'"

if command -v systemd-analyze >/dev/null; then
	sed "s|/usr/local/sbin/cifstrace|$PWD/build/cifstrace|" \
		contrib/systemd/cifstrace-exporter.service >"$sample.unit"
	mv "$sample.unit" "${sample%/*}/cifstrace-exporter.service"
	t "systemd-analyze verify contrib/systemd/cifstrace-exporter.service" \
		systemd-analyze verify "${sample%/*}/cifstrace-exporter.service"
	rm -f "${sample%/*}/cifstrace-exporter.service"
fi

# start-up errors: one line, non-zero exit, before anything is loaded
port_in_use() {
	local pid port out rc
	python3 -c 'import socket,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(30)' >"$sample.port" &
	pid=$!
	for _ in $(seq 50); do [ -s "$sample.port" ] && break; sleep 0.1; done
	port=$(cat "$sample.port")
	out=$(build/cifstrace exporter --listen "127.0.0.1:$port" 2>&1 </dev/null)
	rc=$?
	kill $pid 2>/dev/null
	[ $rc -eq 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
		printf '%s\n' "$out" | grep -q "cannot listen on 127.0.0.1:$port: Address already in use" ||
		{ echo "exit $rc: $out"; return 1; }
}
t "exporter: a port in use is one line and exit 1" port_in_use
bad_listen() {
	local out rc
	out=$(build/cifstrace exporter --listen $'\e[31m:x' 2>&1 </dev/null)
	rc=$?
	[ $rc -ne 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && ! printf '%s' "$out" | grep -q $'\e' ||
		{ echo "exit $rc: $out" | cat -v; return 1; }
}
t "exporter: a bad --listen is one escaped line and a non-zero exit" bad_listen
