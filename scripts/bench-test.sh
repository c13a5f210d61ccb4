#!/usr/bin/env bash
# Benchmark: `stackctl test` against `promtool test rules` on the same tests,
# side by side in one run: every shipped profile's tests, and a generated
# suite of 1,000 tests (override with TESTS=N) over 100 alerting rules.
# `stackctl test` = load + validate + plan the rule and test files + one
# promtool run; promtool alone runs on the files `stackctl render` wrote.
# Prints wall time (best of RUNS) and peak memory (/usr/bin/time -v; for
# stackctl it is the larger of stackctl and its promtool child).
#
#   scripts/bench-test.sh
#   TESTS=5000 RUNS=1 scripts/bench-test.sh
#   STACKCTL=target/debug/stackctl RUNS=1 scripts/bench-test.sh   # no release build
#
# Needs: cargo, python3, promtool (2.42 on PATH; 3.5 in target/consumers/sid/bin
# if present), GNU time.
set -euo pipefail

TESTS=${TESTS:-1000}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

for tool in python3 promtool /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench-test: \`$tool\` is required" >&2; exit 2; }
done

if [ -z "${STACKCTL:-}" ]; then
    echo "building stackctl (release)…" >&2
    cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
    STACKCTL="$ROOT/target/release/stackctl"
fi

PROMTOOLS=("$(command -v promtool)")
[ -x "$ROOT/target/consumers/sid/bin/promtool" ] && PROMTOOLS+=("$ROOT/target/consumers/sid/bin/promtool")

# best wall seconds and peak MiB of RUNS runs of "$@" (exit 0 or 1 accepted).
measure() {
    local best="" peak=0 i out wall rss
    for ((i = 0; i < RUNS; i++)); do
        out=$( /usr/bin/time -v "$@" 2>&1 >/dev/null | tail -n 30 ) || true
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(j=1;j<=n;j++) s=s*60+a[j]; print s}' <<<"$out")
        rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' <<<"$out")
        if [ -z "$best" ] || awk "BEGIN{exit !($wall < $best)}"; then best=$wall; fi
        [ "$rss" -gt "$peak" ] && peak=$rss
    done
    printf '%s %s\n' "$best" "$((peak / 1024))"
}

# The generated suite: 100 rules `up{job="svc-N"} == 0` (for 1m, labels,
# templated annotations); test K checks rule K % 100, firing on odd K and
# silent on even K.
generate() {
    local n=$1 dir=$2
    mkdir -p "$dir"
    python3 - "$n" "$dir/stack.yaml" <<'PY'
import sys
n, out = int(sys.argv[1]), sys.argv[2]
lines = ["stackctl: 1", "name: bench-test", "components:", "  prometheus: {}", "rules:", "  alerts:", "    - name: generated", "      rules:"]
for i in range(100):
    lines += [f"        - alert: ServiceDown{i}", f"          expr: up{{job=\"svc-{i}\"}} == 0", "          for: 1m",
              "          labels: {severity: critical, team: team-%d}" % (i % 7),
              "          annotations:", "            summary: \"{{ $labels.instance }} of svc-%d is down\"" % i,
              "            description: \"{{ $labels.job }} has been down for a minute (value {{ $value }})\""]
lines.append("tests:")
for k in range(n):
    i = k % 100
    down = k % 2 == 1
    values = "1 1 0x8" if down else "1x10"
    lines += [f"  - name: generated {k}", "    input_series:",
              f"      - series: 'up{{job=\"svc-{i}\",instance=\"host-{k}:9100\"}}'", f"        values: '{values}'",
              "    alert_rule_test:", "      - eval_time: 5m", f"        alertname: ServiceDown{i}"]
    if down:
        lines += ["        exp_alerts:", "          - exp_labels:", "              severity: critical",
                  f"              team: team-{i % 7}", f"              job: svc-{i}", f"              instance: host-{k}:9100",
                  "            exp_annotations:", f"              summary: \"host-{k}:9100 of svc-{i} is down\"",
                  f"              description: \"svc-{i} has been down for a minute (value 0)\""]
    else:
        lines.append("        exp_alerts: []")
open(out, "w").write("\n".join(lines) + "\n")
PY
}

suites=()
for profile in $("$STACKCTL" profiles | awk '{print $1}'); do
    "$STACKCTL" init --profile "$profile" --dir "$WORK/$profile" >/dev/null 2>&1
    if grep -q '^tests:' "$WORK/$profile/stack.yaml"; then suites+=("$profile"); fi
done
generate "$TESTS" "$WORK/generated"
suites+=("generated")

printf '%-12s %6s  %-16s %12s %10s %12s %10s %7s\n' suite tests promtool "stackctl s" "MiB" "promtool s" "MiB" ratio
for suite in "${suites[@]}"; do
    dir="$WORK/$suite"
    "$STACKCTL" render --dir "$dir" >/dev/null 2>&1
    count=$(ls "$dir/prometheus/tests" | wc -l)
    for promtool in "${PROMTOOLS[@]}"; do
        version=$("$promtool" --version 2>&1 | head -1 | sed -E 's/.*version ([0-9.]+).*/\1/')
        read -r s_wall s_mib < <(measure "$STACKCTL" test --dir "$dir" --promtool "$promtool")
        read -r p_wall p_mib < <(cd "$dir/prometheus" && measure "$promtool" test rules $(ls tests/*.yml))
        ratio=$(awk "BEGIN{printf \"%.2f\", $s_wall / $p_wall}")
        printf '%-12s %6s  %-16s %12s %10s %12s %10s %7s\n' "$suite" "$count" "promtool $version" "$s_wall" "$s_mib" "$p_wall" "$p_mib" "${ratio}x"
    done
done
