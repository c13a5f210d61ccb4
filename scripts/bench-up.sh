#!/usr/bin/env bash
# Benchmark: bringing the same stack up with `stackctl up` versus
# `docker-compose up -d` plus polling until every container is healthy, on
# the same local images (built from the Debian packages by
# scripts/build-test-images.sh), in one run; plus a no-change re-up of each.
#
#   scripts/bench-up.sh            # 3 rounds
#   RUNS=5 scripts/bench-up.sh
#   STACKCTL=target/debug/stackctl scripts/bench-up.sh   # skip the release build
#
# Each round starts cold (no containers, network or volumes of the project)
# and alternates which tool goes first. "Healthy" means the same for both:
# Docker reports every container `healthy` (the rendered healthchecks), polled
# every 0.1 s, which is also how often stackctl looks.
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
PROJECT=stackctl-bench
for tool in docker docker-compose python3; do
    command -v "$tool" >/dev/null || { echo "bench-up: \`$tool\` is required" >&2; exit 1; }
done
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
    (cd "$dir" && docker-compose -f docker-compose.monitoring.yml down -v >/dev/null 2>&1) || true
    rm -rf "$dir"
}
trap cleanup EXIT

component() { # key port-name
    printf '  %s:\n    image: %s\n    version: %s\n    ports: {%s: %s}\n' \
        "$1" "${REPO[$1]}" "${VERSION[$1]}" "$2" "$(free_port)"
}
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

reset() {
    (cd "$dir" && docker-compose -f docker-compose.monitoring.yml down -v >/dev/null 2>&1) || true
}

all_healthy() {
    local ids states
    ids=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")
    [ "$(printf '%s\n' "$ids" | grep -c .)" -eq 5 ] || return 1
    # shellcheck disable=SC2086
    states=$(docker inspect -f '{{.State.Health.Status}}' $ids)
    ! printf '%s\n' "$states" | grep -qv '^healthy$'
}

compose_cold() {
    local t0
    t0=$(now)
    (cd "$dir" && docker-compose -f docker-compose.monitoring.yml up -d >/dev/null 2>&1)
    until all_healthy; do sleep 0.1; done
    elapsed "$t0"
}

compose_again() {
    local t0
    t0=$(now)
    (cd "$dir" && docker-compose -f docker-compose.monitoring.yml up -d >/dev/null 2>&1)
    until all_healthy; do sleep 0.1; done
    elapsed "$t0"
}

stackctl_up() {
    local t0
    t0=$(now)
    "$STACKCTL" up --dir "$dir" >/dev/null 2>&1
    all_healthy || { echo "bench-up: stackctl up returned before every container was healthy" >&2; exit 1; }
    elapsed "$t0"
}

# One unmeasured start first: the first container of a freshly built image
# starts slower (page cache), whichever tool runs it.
reset
"$STACKCTL" up --dir "$dir" >/dev/null 2>&1

declare -a SC_COLD SC_AGAIN DC_COLD DC_AGAIN
for round in $(seq 1 "$RUNS"); do
    if [ $((round % 2)) -eq 1 ]; then order="stackctl compose"; else order="compose stackctl"; fi
    for tool in $order; do
        reset
        if [ "$tool" = stackctl ]; then
            SC_COLD+=("$(stackctl_up)")
            SC_AGAIN+=("$(stackctl_up)")
        else
            DC_COLD+=("$(compose_cold)")
            DC_AGAIN+=("$(compose_again)")
        fi
    done
    echo "round $round: stackctl cold ${SC_COLD[-1]}s, re-up ${SC_AGAIN[-1]}s | docker-compose cold ${DC_COLD[-1]}s, re-up ${DC_AGAIN[-1]}s" >&2
done
reset

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo
echo "5 services (prometheus, alertmanager, node-exporter, blackbox-exporter, pushgateway), $RUNS rounds, median seconds"
printf '%-42s %10s %10s\n' "" stackctl docker-compose
printf '%-42s %10s %10s\n' "cold up until every container is healthy" "$(median "${SC_COLD[@]}")" "$(median "${DC_COLD[@]}")"
printf '%-42s %10s %10s\n' "re-up, nothing changed" "$(median "${SC_AGAIN[@]}")" "$(median "${DC_AGAIN[@]}")"
