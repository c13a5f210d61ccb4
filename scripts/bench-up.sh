#!/usr/bin/env bash
# Benchmark: bringing the same stack up with `stackctl up` versus
# `docker compose up -d` plus polling until every container is healthy, on
# the same local images (built from the Debian packages by
# scripts/build-test-images.sh), in one run; plus a no-change re-up of each.
# Beside both it prints the readiness floor: the moment the last process
# answers its readiness URL (polled every 0.05 s from the host), which no
# tool can beat.
#
#   scripts/bench-up.sh            # 3 rounds
#   RUNS=5 scripts/bench-up.sh
#   STACKCTL=target/debug/stackctl scripts/bench-up.sh   # skip the release build
#   COMPOSE=docker-compose scripts/bench-up.sh           # another Compose
#
# The peer is Compose v2 (`target/consumers/sid/bin/docker-compose` from
# scripts/fetch-consumers.sh) when present, else `docker-compose` on PATH.
# Each round starts cold (no containers, network or volumes of the project)
# and alternates which tool goes first. "Healthy": for Compose, Docker reports
# every container `healthy` (polled every 0.1 s); for stackctl, `up` returned
# 0, which it does once each service's own healthcheck command passed (run
# through the exec API) — checked here by every readiness URL answering.
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
PROJECT=stackctl-bench
if [ -z "${COMPOSE:-}" ]; then
    if [ -x target/consumers/sid/bin/docker-compose ]; then
        COMPOSE=$PWD/target/consumers/sid/bin/docker-compose
    else
        COMPOSE=docker-compose
    fi
fi
for tool in docker "$COMPOSE" python3; do
    command -v "$tool" >/dev/null || { echo "bench-up: \`$tool\` is required" >&2; exit 1; }
done
COMPOSE_VERSION=$("$COMPOSE" version --short 2>/dev/null || "$COMPOSE" version | head -1)
if [ -z "${STACKCTL:-}" ]; then
    cargo build --release --quiet
    STACKCTL=target/release/stackctl
fi

echo "building the test images (cached after the first run)…" >&2
declare -A REPO VERSION
while read -r key repo version; do
    REPO[$key]=$repo
    VERSION[$key]=$version
done < <(scripts/build-test-images.sh)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

dir=$(mktemp -d)
cleanup() {
    (cd "$dir" && "$COMPOSE" -f docker-compose.monitoring.yml down -v >/dev/null 2>&1) || true
    rm -rf "$dir"
}
trap cleanup EXIT

declare -A PORT
for key in prometheus alertmanager node_exporter blackbox_exporter pushgateway; do
    PORT[$key]=$(free_port)
done
component() { # key port-name
    printf '  %s:\n    image: %s\n    version: %s\n    ports: {%s: %s}\n' \
        "$1" "${REPO[$1]}" "${VERSION[$1]}" "$2" "${PORT[$1]}"
}
# The readiness URL of each process (the one its healthcheck asks).
URLS="http://127.0.0.1:${PORT[prometheus]}/-/ready http://127.0.0.1:${PORT[alertmanager]}/-/ready \
http://127.0.0.1:${PORT[node_exporter]}/metrics http://127.0.0.1:${PORT[blackbox_exporter]}/-/healthy \
http://127.0.0.1:${PORT[pushgateway]}/-/ready"
{
    printf 'stackctl: 1\nname: %s\ncomponents:\n' "$PROJECT"
    component prometheus web
    component alertmanager web
    component node_exporter metrics
    component blackbox_exporter http
    component pushgateway web
    cat <<'EOF'
rules:
  bench:
    - name: bench.rules
      rules:
        - record: bench:up:sum
          expr: sum by (job) (up)
alerting:
  route:
    receiver: default
  receivers:
    - name: default
      webhook:
        - url: http://127.0.0.1:9/hook
EOF
} >"$dir/stack.yaml"
"$STACKCTL" render --dir "$dir" >/dev/null 2>&1

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$(now) - $1:.2f}')"; }

# Seconds from $1 until every readiness URL has answered 2xx once (written
# to $2). Runs in the background beside the tool being measured.
floor() {
    python3 - "$1" $URLS >"$2" <<'PY'
import sys, time, urllib.request
t0, urls = float(sys.argv[1]), sys.argv[2:]
pending = set(urls)
while pending and time.time() - t0 < 120:
    for u in list(pending):
        try:
            with urllib.request.urlopen(u, timeout=0.5) as r:
                if 200 <= r.status < 300:
                    pending.discard(u)
        except Exception:
            pass
    time.sleep(0.05)
print(f"{time.time() - t0:.2f}")
PY
}

all_ready() {
    python3 - $URLS <<'PY'
import sys, urllib.request
for u in sys.argv[1:]:
    with urllib.request.urlopen(u, timeout=2) as r:
        assert 200 <= r.status < 300, u
PY
}

reset() {
    (cd "$dir" && "$COMPOSE" -f docker-compose.monitoring.yml down -v >/dev/null 2>&1) || true
}

all_healthy() {
    local ids states
    ids=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")
    [ "$(printf '%s\n' "$ids" | grep -c .)" -eq 5 ] || return 1
    # shellcheck disable=SC2086
    states=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' $ids 2>/dev/null) || return 1
    ! printf '%s\n' "$states" | grep -qv '^healthy$'
}

compose_cold() {
    local t0
    t0=$(now)
    floor "$t0" "$dir/floor" &
    (cd "$dir" && "$COMPOSE" -f docker-compose.monitoring.yml up -d >/dev/null 2>&1)
    until all_healthy; do sleep 0.1; done
    elapsed "$t0"
    wait
}

compose_again() {
    local t0
    t0=$(now)
    (cd "$dir" && "$COMPOSE" -f docker-compose.monitoring.yml up -d >/dev/null 2>&1)
    until all_healthy; do sleep 0.1; done
    elapsed "$t0"
}

stackctl_up() { # [floor-file]
    local t0
    t0=$(now)
    [ -z "${1:-}" ] || floor "$t0" "$1" &
    "$STACKCTL" up --dir "$dir" >/dev/null 2>"$dir/up.err" || { echo "bench-up: stackctl up failed:" >&2; cat "$dir/up.err" >&2; exit 1; }
    elapsed "$t0"
    all_ready || { echo "bench-up: stackctl up returned before every process answered its readiness URL" >&2; exit 1; }
    wait
}

# One unmeasured start first: the first container of a freshly built image
# starts slower (page cache), whichever tool runs it.
reset
"$STACKCTL" up --dir "$dir" >/dev/null 2>&1

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
declare -a SC_COLD SC_AGAIN SC_SETTLED DC_COLD DC_AGAIN DC_SETTLED SC_FLOOR DC_FLOOR
for round in $(seq 1 "$RUNS"); do
    if [ $((round % 2)) -eq 1 ]; then order="stackctl compose"; else order="compose stackctl"; fi
    for tool in $order; do
        reset
        if [ "$tool" = stackctl ]; then
            SC_COLD+=("$(stackctl_up "$dir/floor")")
            SC_FLOOR+=("$(cat "$dir/floor")")
            SC_AGAIN+=("$(stackctl_up)")
            # Once Docker has run its own first check, a re-up only lists
            # and inspects: the steady state of "nothing changed".
            until all_healthy; do sleep 0.1; done
            SC_SETTLED+=("$(stackctl_up)")
        else
            DC_COLD+=("$(compose_cold)")
            DC_FLOOR+=("$(cat "$dir/floor")")
            DC_AGAIN+=("$(compose_again)")
            DC_SETTLED+=("$(compose_again)")
        fi
    done
    echo "round $round (load average $(cut -d' ' -f1-3 /proc/loadavg)): stackctl cold ${SC_COLD[-1]}s (floor ${SC_FLOOR[-1]}s), re-up ${SC_AGAIN[-1]}s / ${SC_SETTLED[-1]}s | compose cold ${DC_COLD[-1]}s (floor ${DC_FLOOR[-1]}s), re-up ${DC_AGAIN[-1]}s / ${DC_SETTLED[-1]}s" >&2
done
reset

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo
echo "5 services (prometheus, alertmanager, node-exporter, blackbox-exporter, pushgateway), $RUNS rounds, median seconds; compose: $COMPOSE_VERSION; stackctl: $STACKCTL"
echo "load average at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-46s %10s %10s\n' "" stackctl compose
printf '%-46s %10s %10s\n' "readiness floor (last process answers its URL)" "$(median "${SC_FLOOR[@]}")" "$(median "${DC_FLOOR[@]}")"
printf '%-46s %10s %10s\n' "cold up until every service is healthy" "$(median "${SC_COLD[@]}")" "$(median "${DC_COLD[@]}")"
printf '%-46s %10s %10s\n' "re-up, nothing changed, right after" "$(median "${SC_AGAIN[@]}")" "$(median "${DC_AGAIN[@]}")"
printf '%-46s %10s %10s\n' "re-up, nothing changed, Docker checked" "$(median "${SC_SETTLED[@]}")" "$(median "${DC_SETTLED[@]}")"
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
sc=$(median "${SC_COLD[@]}"); dc=$(median "${DC_COLD[@]}"); scf=$(median "${SC_FLOOR[@]}"); dcf=$(median "${DC_FLOOR[@]}")
echo
echo "stackctl cold / its floor: $(ratio "$sc" "$scf") (target <= 1.5)"
echo "compose cold / stackctl cold: $(ratio "$dc" "$sc") (target >= 3); compose cold / compose's floor: $(ratio "$dc" "$dcf")"
echo "the best any tool could do against compose: compose cold / stackctl's floor = $(ratio "$dc" "$scf")"
