#!/usr/bin/env bash
# Benchmark: `stackctl validate` against `promtool check rules` on the same
# generated rules, at 1k, 10k and 50k rules (override with SIZES="..."), on
# this machine, in one run. Prints wall time (best of RUNS), peak memory
# (/usr/bin/time -v), the speed ratio, and time per 1k rules to show linearity.
#
#   scripts/bench-validate.sh                 # 1000 10000 50000 rules, 3 runs each
#   SIZES="10000" RUNS=5 scripts/bench-validate.sh
#
# Needs: cargo, python3, promtool (Debian: apt-get install prometheus), GNU time.
set -euo pipefail

SIZES=${SIZES:-"1000 10000 50000"}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

for tool in python3 promtool /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench-validate: \`$tool\` is required" >&2; exit 2; }
done

echo "building stackctl (release)…" >&2
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
STACKCTL="$ROOT/target/release/stackctl"

# Writes $dir/rules.yml (Prometheus rule file) and $dir/stack.yaml (the same
# groups under `rules:`) with $n rules: a realistic mix of recording and
# alerting rules (selectors, regex matchers, aggregations, histograms,
# subqueries, templated annotations), every rule with its own names and values.
generate() {
    local n=$1 dir=$2
    python3 - "$n" "$dir" <<'PY'
import sys, json
n, out = int(sys.argv[1]), sys.argv[2]
templates = [
    ("record", "job_{i}:http_requests:rate5m", 'sum by (job, route) (rate(http_requests_total{{job="svc-{i}"}}[5m]))'),
    ("record", "job_{i}:http_errors:ratio_rate5m", 'sum by (job) (rate(http_requests_total{{job="svc-{i}", status=~"5.."}}[5m])) / sum by (job) (rate(http_requests_total{{job="svc-{i}"}}[5m]))'),
    ("record", "job_{i}:latency_seconds:p99", 'histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket{{job="svc-{i}"}}[5m])))'),
    ("alert", "ServiceDown{i}", 'up{{job="svc-{i}"}} == 0'),
    ("alert", "HighErrorRate{i}", 'job_{i}:http_errors:ratio_rate5m > 0.0{d}'),
    ("alert", "HighLatency{i}", 'job_{i}:latency_seconds:p99 > {d}'),
    ("alert", "DiskFilling{i}", 'predict_linear(node_filesystem_avail_bytes{{instance="host-{i}:9100", fstype!~"tmpfs|overlay"}}[6h], 86400) < 0'),
    ("alert", "CpuBusy{i}", '100 - avg by (instance) (rate(node_cpu_seconds_total{{mode="idle", instance="host-{i}:9100"}}[5m])) * 100 > 8{d}'),
    ("record", "instance_{i}:memory_utilisation:ratio", '1 - node_memory_MemAvailable_bytes{{instance="host-{i}:9100"}} / node_memory_MemTotal_bytes{{instance="host-{i}:9100"}}'),
    ("alert", "TrafficSpike{i}", 'job_{i}:http_requests:rate5m > 3 * max_over_time(job_{i}:http_requests:rate5m[1d:5m])'),
]
groups = []
for g in range((n + 9) // 10):
    rules = []
    for k in range(10):
        idx = g * 10 + k
        if idx >= n:
            break
        kind, name, expr = templates[k % len(templates)]
        name, expr = name.format(i=g), expr.format(i=g, d=1 + g % 9)
        if kind == "record":
            rules.append({"record": name, "expr": expr})
        else:
            rules.append({"alert": name, "expr": expr, "for": "5m",
                          "labels": {"severity": "warning" if k % 2 else "critical", "team": f"team-{g % 17}"},
                          "annotations": {"summary": "{{ $labels.job }} on {{ $labels.instance }}: {{ $value | humanize }}",
                                          "description": "Value {{ printf \"%.2f\" $value }} for " + name + "."}})
    groups.append({"name": f"group-{g}", "rules": rules})

def rule_yaml(r, pad):
    lines = []
    first = True
    for key in ("record", "alert", "expr", "for"):
        if key in r:
            lines.append(("- " if first else "  ") + f"{key}: {json.dumps(r[key])}")
            first = False
    for section in ("labels", "annotations"):
        if section in r:
            lines.append(f"  {section}:")
            for k, v in r[section].items():
                lines.append(f"    {k}: {json.dumps(v)}")
    return "".join(pad + l + "\n" for l in lines)

def groups_yaml(pad):
    text = ""
    for g in groups:
        text += f"{pad}- name: {g['name']}\n{pad}  rules:\n"
        text += "".join(rule_yaml(r, pad + "  ") for r in g["rules"])
    return text

with open(f"{out}/rules.yml", "w") as f:
    f.write("groups:\n" + groups_yaml(""))
with open(f"{out}/stack.yaml", "w") as f:
    f.write("""stackctl: 1
name: bench
components:
  prometheus: {}
  alertmanager: {}
  node_exporter: {}
scrape_jobs:
  - name: services
    targets: ['svc:8080']
network:
  external_hosts:
    svc:
alerting:
  route:
    receiver: ops
    routes:
      - matchers: ['severity="critical"']
        receiver: pager
  receivers:
    - name: ops
      webhook: [{url: 'http://hooks.example.com/ops'}]
    - name: pager
      webhook: [{url: 'http://hooks.example.com/pager'}]
rules:
  bench:
""" + groups_yaml("    "))
PY
}

# Runs a command RUNS times; prints "best_seconds peak_kib".
measure() {
    local best="" peak=0 log="$WORK/time.log"
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -v "$@" >/dev/null 2>"$log" || true
        local wall rss
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$log")
        rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
        if [[ -z "$best" ]] || awk -v a="$wall" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$wall; fi
        (( rss > peak )) && peak=$rss
    done
    echo "$best $peak"
}

printf '%8s | %12s %10s | %12s %10s | %7s | %14s\n' rules "stackctl s" "peak MiB" "promtool s" "peak MiB" ratio "stackctl s/1k"
printf '%s\n' "---------+-------------------------+-------------------------+---------+---------------"
for n in $SIZES; do
    dir="$WORK/$n"
    mkdir -p "$dir"
    generate "$n" "$dir"
    # Both tools must accept the input, or the timing means nothing.
    "$STACKCTL" validate --dir "$dir" >/dev/null 2>&1 || { "$STACKCTL" validate --dir "$dir" | tail -5; echo "stackctl rejected the generated stack" >&2; exit 1; }
    promtool check rules "$dir/rules.yml" >/dev/null 2>&1 || { echo "promtool rejected the generated rules" >&2; exit 1; }
    read -r s_time s_rss < <(measure "$STACKCTL" validate --dir "$dir")
    read -r p_time p_rss < <(measure promtool check rules "$dir/rules.yml")
    awk -v n="$n" -v st="$s_time" -v sr="$s_rss" -v pt="$p_time" -v pr="$p_rss" 'BEGIN {
        printf "%8d | %12.3f %10.1f | %12.3f %10.1f | %6.1fx | %14.4f\n", n, st, sr/1024, pt, pr/1024, (st > 0 ? pt/st : 0), st/(n/1000)
    }'
done
echo "(wall time: best of $RUNS runs; peak memory: maximum resident set size; $(nproc) CPUs)"
