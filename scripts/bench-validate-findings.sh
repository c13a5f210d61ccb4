#!/usr/bin/env bash
# Benchmark WITH findings (issue 13): real-shaped rules over exporter metrics
# (rate, histogram_quantile, aggregations, templated annotations) in a
# Prometheus-only stack that runs none of those exporters, so validate reports
# about one warning per rule. At 1k, 10k and 50k rules (override SIZES="..."),
# side by side with promtool 2.42 (PATH) and promtool 3.5 (from
# scripts/fetch-consumers.sh). Reports wall (best of RUNS), CPU (user+sys of
# that run) and peak memory (/usr/bin/time -v), and how many findings validate
# printed, as text (stderr) and as JSON.
#
#   scripts/bench-validate-findings.sh
#   SIZES="10000" RUNS=3 scripts/bench-validate-findings.sh
#
# Needs: cargo, python3, GNU time, promtool on PATH; promtool 3.5 optional.
set -euo pipefail

SIZES=${SIZES:-"1000 10000 50000"}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PROMTOOL2=${PROMTOOL2:-$(command -v promtool || true)}
PROMTOOL3=${PROMTOOL3:-$ROOT/target/consumers/sid/bin/promtool}

# GNU time (for CPU and peak memory) comes from Debian's `time` package.
if [[ ! -x /usr/bin/time ]] && command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    echo "installing GNU time…" >&2
    apt-get install -y -qq time >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq time >/dev/null 2>&1; } || true
fi
for tool in python3 /usr/bin/time "$PROMTOOL2"; do
    command -v "$tool" >/dev/null || { echo "bench-validate-findings: \`$tool\` is required" >&2; exit 2; }
done
[[ -x "$PROMTOOL3" ]] || { echo "bench-validate-findings: no promtool 3 at $PROMTOOL3 (run scripts/fetch-consumers.sh); its column stays empty" >&2; PROMTOOL3=""; }

# STACKCTL=path/to/stackctl measures that binary instead of building one.
if [[ -z "${STACKCTL:-}" ]]; then
    echo "building stackctl (release)…" >&2
    cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
    STACKCTL="$ROOT/target/release/stackctl"
fi

# $dir/rules.yml (for promtool) and $dir/stack.yaml (the same groups) with $n
# rules. Shapes are those of public alert collections (node, blackbox,
# postgres, redis, nginx, cAdvisor exporters), each rule with its own values.
generate() {
    python3 - "$1" "$2" <<'PY'
import sys, json
n, out = int(sys.argv[1]), sys.argv[2]
shapes = [
    ("alert", "HostHighCpuLoad{i}", '(avg by (instance) (rate(node_cpu_seconds_total{{mode!="idle", instance=~"host-{i}.*"}}[2m]))) > 0.{d}', "CPU load is > {d}0%"),
    ("alert", "HostOutOfMemory{i}", '(node_memory_MemAvailable_bytes{{instance="host-{i}:9100"}} / node_memory_MemTotal_bytes{{instance="host-{i}:9100"}} < .10)', "Node memory is filling up (< 10% left)"),
    ("alert", "HostDiskWillFillIn24Hours{i}", 'predict_linear(node_filesystem_avail_bytes{{fstype!~"^(fuse.*|tmpfs|cifs|nfs)", instance="host-{i}:9100"}}[3h], 86400) < 0', "Filesystem will fill up within 24 hours"),
    ("record", "job_{i}:http_request_duration_seconds:p99", 'histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket{{job="api-{i}"}}[5m])))', ""),
    ("alert", "BlackboxProbeFailed{i}", 'probe_success{{instance="https://site-{i}.example"}} == 0', "Probe failed"),
    ("alert", "BlackboxSslCertificateWillExpireSoon{i}", '3 <= round((last_over_time(probe_ssl_earliest_cert_expiry{{instance="https://site-{i}.example"}}[10m]) - time()) / 86400, 0.1) < 20', "SSL certificate expires in less than 20 days"),
    ("alert", "PostgresqlTooManyConnections{i}", 'sum by (instance, job, server) (pg_stat_activity_count{{instance="db-{i}:9187"}}) > min by (instance, job, server) (pg_settings_max_connections{{instance="db-{i}:9187"}} * 0.8)', "PostgreSQL has too many connections"),
    ("alert", "RedisOutOfSystemMemory{i}", 'redis_memory_used_bytes{{instance="cache-{i}:9121"}} / redis_total_system_memory_bytes{{instance="cache-{i}:9121"}} * 100 > 9{d}', "Redis is running out of system memory"),
    ("alert", "NginxHighHttp5xxErrorRate{i}", 'sum(rate(nginx_http_requests_total{{status=~"^5..", instance="web-{i}:9113"}}[1m])) / sum(rate(nginx_http_requests_total{{instance="web-{i}:9113"}}[1m])) * 100 > 5', "Too many HTTP requests with status 5xx"),
    ("alert", "ContainerHighCpuUtilization{i}", '(sum(rate(container_cpu_usage_seconds_total{{container!="", pod="p-{i}"}}[5m])) by (pod, container) / sum(container_spec_cpu_quota{{container!="", pod="p-{i}"}}/container_spec_cpu_period{{container!="", pod="p-{i}"}}) by (pod, container) * 100) > 80', "Container CPU utilization is above 80%"),
]
groups = []
for g in range((n + 9) // 10):
    rules = []
    for k in range(10):
        if g * 10 + k >= n:
            break
        kind, name, expr, summary = shapes[k]
        name, expr = name.format(i=g), expr.format(i=g, d=1 + g % 9)
        if kind == "record":
            rules.append({"record": name, "expr": expr})
        else:
            rules.append({"alert": name, "expr": expr, "for": "2m", "labels": {"severity": "warning"},
                          "annotations": {"summary": summary.format(d=1 + g % 9) + " (instance {{ $labels.instance }})",
                                          "description": "VALUE = {{ $value | humanize }}\n  LABELS = {{ $labels }}"}})
    groups.append({"name": f"group-{g}", "rules": rules})

def rule_yaml(r, pad):
    lines, first = [], True
    for key in ("record", "alert", "expr", "for"):
        if key in r:
            lines.append(("- " if first else "  ") + f"{key}: {json.dumps(r[key])}")
            first = False
    for section in ("labels", "annotations"):
        if section in r:
            lines.append(f"  {section}:")
            lines.extend(f"    {k}: {json.dumps(v)}" for k, v in r[section].items())
    return "".join(pad + l + "\n" for l in lines)

def groups_yaml(pad):
    return "".join(f"{pad}- name: {g['name']}\n{pad}  rules:\n" + "".join(rule_yaml(r, pad + "  ") for r in g["rules"]) for g in groups)

open(f"{out}/rules.yml", "w").write("groups:\n" + groups_yaml(""))
open(f"{out}/stack.yaml", "w").write("stackctl: 1\nname: bench\ncomponents:\n  prometheus: {}\nrules:\n  bench:\n" + groups_yaml("    "))
PY
}

# Runs a command RUNS times; prints "best_wall cpu_of_that_run peak_kib".
measure() {
    local best="" cpu="" peak=0 log="$WORK/time.log"
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -v "$@" >/dev/null 2>"$log" || true
        local wall rss c
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$log")
        c=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$log")
        rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
        if [[ -z "$best" ]] || awk -v a="$wall" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$wall; cpu=$c; fi
        (( rss > peak )) && peak=$rss
    done
    echo "$best $cpu $peak"
}

row() { awk -v l="$1" -v w="$2" -v c="$3" -v m="$4" 'BEGIN { printf "  %-26s %9.3f %9.3f %9.1f\n", l, w, c, m/1024 }'; }

echo "($(nproc) CPUs; wall: best of $RUNS runs; CPU: user+sys of that run; peak: max RSS)"
for n in $SIZES; do
    dir="$WORK/$n"
    mkdir -p "$dir"
    generate "$n" "$dir"
    "$PROMTOOL2" check rules "$dir/rules.yml" >/dev/null 2>&1 || { echo "promtool 2 rejected the generated rules" >&2; exit 1; }
    findings=$("$STACKCTL" validate --dir "$dir" --format json 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d), sum(x["severity"]=="error" for x in d))')
    read -r total errors <<<"$findings"
    [[ "$errors" == 0 ]] || { echo "stackctl reported $errors errors on the generated stack" >&2; exit 1; }
    echo "$n rules, $(du -k "$dir/stack.yaml" | cut -f1) KiB spec, $total findings:"
    printf '  %-26s %9s %9s %9s\n' tool "wall s" "CPU s" "peak MiB"
    read -r w c m < <(measure "$STACKCTL" validate --dir "$dir"); row "stackctl validate (text)" "$w" "$c" "$m"; sw=$w; sc=$c
    read -r w c m < <(measure "$STACKCTL" validate --dir "$dir" --format json); row "stackctl validate (json)" "$w" "$c" "$m"
    read -r w c m < <(measure "$PROMTOOL2" check rules "$dir/rules.yml"); row "promtool 2.42 check rules" "$w" "$c" "$m"; p2=$w
    if [[ -n "$PROMTOOL3" ]]; then
        read -r w c m < <(measure "$PROMTOOL3" check rules "$dir/rules.yml"); row "promtool 3.5 check rules" "$w" "$c" "$m"; p3=$w; p3c=$c
    else p3=0; p3c=0; fi
    awk -v n="$n" -v s="$sw" -v a="$p2" -v b="$p3" -v sc="$sc" -v bc="$p3c" 'BEGIN { printf "  speed-up (text): wall %.1fx vs promtool 2.42, %.1fx vs 3.5; CPU %.1fx vs 3.5; stackctl %.3f s per 1k rules\n", a/s, b/s, (sc > 0 ? bc/sc : 0), s/(n/1000) }'
done
