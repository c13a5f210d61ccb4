#!/usr/bin/env bash
# Benchmark: `stackctl backup` and `stackctl restore` of a generated ~2 GiB
# Prometheus TSDB versus what the face-attributes reference does
# (`docker run --rm -v VOLUME:/data -v $PWD:/backup IMAGE tar czf …` and
# `tar xzf …`), on the same volume, in one run, with peak memory of each.
# The peer's image is the stack's own Prometheus image (busybox tar and gzip,
# piped, as `tar czf` does; nothing can be pulled here). Also measured, for docs/backup.md: what the TSDB
# snapshot API would cost, i.e. a Prometheus restart with
# `--web.enable-admin-api` on the same data (twice: on and off again) plus
# the snapshot call.
#
#   scripts/bench-backup.sh
#   SCRAPES=2000 scripts/bench-backup.sh                  # a smaller TSDB
#   STACKCTL=target/debug/stackctl scripts/bench-backup.sh  # skip the release build
#
# The TSDB is written by Prometheus's own code: `promtool tsdb bench write`
# (Debian sid promtool 3.5) ingests METRICS series × SCRAPES scrapes (30 s
# apart) into a WAL and head chunks, about 13 bytes per sample on disk; it is
# then copied into the stack's Prometheus volume (owned by 65534) with
# Prometheus stopped, so both tools read the same bytes at rest.
#
# Peak memory: stackctl's maximum RSS (`/usr/bin/time`); for the peer, the
# sum of the highest VmHWM of each process in its container (tar and the
# gzip it runs), sampled every 0.2 s. Neither includes the Docker daemon,
# which does the tar work of the archive endpoint for stackctl.
set -euo pipefail

cd "$(dirname "$0")/.."
METRICS=${METRICS:-20000}
SCRAPES=${SCRAPES:-8000}
PROJECT=stackctl-bench-backup
PROMTOOL=$PWD/target/consumers/sid/bin/promtool
for tool in docker python3 /usr/bin/time "$PROMTOOL"; do
    command -v "$tool" >/dev/null || { echo "bench-backup: \`$tool\` is required (scripts/fetch-consumers.sh brings promtool)" >&2; exit 1; }
done
if [ -z "${STACKCTL:-}" ]; then
    cargo build --release --quiet
    STACKCTL=target/release/stackctl
fi
STACKCTL=$(realpath "$STACKCTL")

echo "building the test images (cached after the first run)…" >&2
declare -A REPO VERSION
while read -r key repo version; do
    REPO[$key]=$repo
    VERSION[$key]=$version
done < <(scripts/build-test-images.sh sid)
PROM_IMAGE=${REPO[prometheus]}:${VERSION[prometheus]}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mib() { python3 -c "print(f'{$1/1048576:.0f}')"; }
rate() { python3 -c "print(f'{$1/1048576/$2:.0f}')"; }
now() { date +%s.%N; }
since() { python3 -c "print(f'{$(now)-$1:.1f}')"; }

dir=$(mktemp -d)
work=$(mktemp -d)
cleanup() {
    (cd "$dir" && "$STACKCTL" down --volumes >/dev/null 2>&1) || true
    docker rm -f "$PROJECT-snapshot" "$PROJECT-peer" >/dev/null 2>&1 || true
    docker volume rm "$PROJECT-peer-restore" >/dev/null 2>&1 || true
    rm -rf "$dir" "$work"
}
trap cleanup EXIT

PROM_PORT=$(free_port)
cat >"$dir/stack.yaml" <<EOF
stackctl: 1
name: $PROJECT
components:
  prometheus:
    image: ${REPO[prometheus]}
    version: ${VERSION[prometheus]}
    ports: {web: $PROM_PORT}
  alertmanager:
    image: ${REPO[alertmanager]}
    version: ${VERSION[alertmanager]}
    ports: {web: $(free_port)}
  pushgateway:
    image: ${REPO[pushgateway]}
    version: ${VERSION[pushgateway]}
    ports: {web: $(free_port)}
alerting:
  route:
    receiver: default
  receivers:
    - name: default
EOF
"$STACKCTL" up --dir "$dir" >/dev/null 2>&1

echo "generating the TSDB: $METRICS series × $SCRAPES scrapes…" >&2
python3 - "$METRICS" >"$work/series.json" <<'EOF'
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"__name__": f"node_metric_{i % 200}", "instance": f"host-{i // 200}:9100", "job": "node"}, separators=(",", ":")))
EOF
(cd "$work" && "$PROMTOOL" tsdb bench write --out=gen --metrics="$METRICS" --scrapes="$SCRAPES" series.json >/dev/null 2>&1)
TSDB_BYTES=$(du -sb "$work/gen/storage" | cut -f1)
PROM=$PROJECT-prometheus-1
VOLUME=${PROJECT}_prometheus_data
docker stop "$PROM" >/dev/null
tar --owner=65534 --group=65534 -C "$work/gen/storage" -cf - . | docker cp - "$PROM:/prometheus"
rm -rf "$work/gen"
sync
echo "TSDB: $(mib "$TSDB_BYTES") MiB (WAL and head chunks) in volume $VOLUME" >&2

# --- backup: stackctl ------------------------------------------------------
t=$(now)
/usr/bin/time -f "%M" -o "$work/stackctl.mem" "$STACKCTL" backup --dir "$dir" --out "$work/stackctl.tar.zst" >/dev/null 2>"$work/backup.log"
SC_BACKUP_S=$(since "$t")
SC_BACKUP_MEM=$(tail -n 1 "$work/stackctl.mem")
SC_SIZE=$(stat -c %s "$work/stackctl.tar.zst")
SC_COPIED=$(zstd -dc "$work/stackctl.tar.zst" | tar -xOf - manifest.json | python3 -c 'import json,sys; m=json.load(sys.stdin); print(next(p["bytes"] for p in m["parts"] if p["name"]=="volumes/prometheus"))')

# --- backup: the reference's docker run … tar czf ---------------------------
# Peak memory: the highest VmHWM of every process in the container, summed.
PEAK='
peak() {
  t=0
  for f in /proc/[0-9]*/status; do
    v=$(/bin/busybox awk "/VmHWM/{print \$2}" $f 2>/dev/null)
    p=${f#/proc/}; p=${p%/status}
    [ -n "$v" ] || continue
    eval "old=\${m_$p:-0}"
    [ "$v" -gt "$old" ] && eval "m_$p=$v"
  done
}
"$@" & job=$!
while [ -e /proc/$job ] && ! /bin/busybox grep -q "^State:.*Z" /proc/$job/status 2>/dev/null; do peak; /bin/busybox sleep 0.2; done
wait $job; rc=$?
t=0; for v in $(set | /bin/busybox sed -n "s/^m_[0-9]*=//p" | /bin/busybox tr -d "\047"); do t=$((t + v)); done
echo "peak_kb=$t" >&2
exit $rc
'
t=$(now)
docker run --rm --name "$PROJECT-peer" --user 0 --entrypoint /bin/sh \
    -v "$VOLUME:/data" -v "$work:/backup" "$PROM_IMAGE" \
    -c "$PEAK" sh /bin/sh -c '/bin/busybox tar cf - -C /data . | /bin/busybox gzip >/backup/peer.tar.gz' 2>"$work/peer-backup.log"
PEER_BACKUP_S=$(since "$t")
PEER_BACKUP_MEM=$(sed -n 's/^peak_kb=//p' "$work/peer-backup.log")
PEER_SIZE=$(stat -c %s "$work/peer.tar.gz")

# --- restore: stackctl (into the stack, --force) -----------------------------
t=$(now)
/usr/bin/time -f "%M" -o "$work/restore.mem" "$STACKCTL" restore "$work/stackctl.tar.zst" --dir "$dir" --force --wait 15m >"$work/verify.out" 2>"$work/restore.log" || true
SC_RESTORE_S=$(since "$t")
# `time` writes "Command exited with non-zero status" first when it failed.
SC_RESTORE_MEM=$(tail -n 1 "$work/restore.mem")
cp "$work/restore.log" "${TMPDIR:-/tmp}/bench-backup-restore.log"
SC_FILL_S=$(sed -n 's/^ *prometheus *volume filled from the archive (\([0-9.]*\)s)$/\1/p' "$work/restore.log")
PROM_START_S=$(sed -n 's/^ *prometheus *healthy (\([0-9.]*\)s)$/\1/p' "$work/restore.log")
SC_VERIFY=$(grep -E '^[0-9]+ checks:' "$work/verify.out" || echo "no verify report")

# --- restore: the reference's docker run … tar xzf into an empty volume -----
docker volume create "$PROJECT-peer-restore" >/dev/null
t=$(now)
docker run --rm --name "$PROJECT-peer" --user 0 --entrypoint /bin/sh \
    -v "$PROJECT-peer-restore:/data" -v "$work:/backup" "$PROM_IMAGE" \
    -c "$PEAK" sh /bin/sh -c '/bin/busybox gzip -dc /backup/peer.tar.gz | /bin/busybox tar xf - -C /data' 2>"$work/peer-restore.log"
PEER_RESTORE_S=$(since "$t")
PEER_RESTORE_MEM=$(sed -n 's/^peak_kb=//p' "$work/peer-restore.log")

# --- the snapshot API alternative ----------------------------------------------
# Prometheus restarted with the admin API on the restored volume: the time
# until it is ready again is what enabling the API "for the moment" costs,
# twice (on, then off); plus the snapshot call itself.
"$STACKCTL" down --dir "$dir" >/dev/null 2>&1
SNAP_PORT=$(free_port)
t=$(now)
docker run -d --name "$PROJECT-snapshot" -p "127.0.0.1:$SNAP_PORT:9090" -v "$VOLUME:/prometheus" \
    -v "$dir/prometheus:/etc/prometheus:ro" "$PROM_IMAGE" \
    --config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path=/prometheus --web.enable-admin-api >/dev/null
until curl -sf "http://127.0.0.1:$SNAP_PORT/-/ready" >/dev/null; do sleep 0.2; done
SNAP_RESTART_S=$(since "$t")
t=$(now)
curl -sf -XPOST "http://127.0.0.1:$SNAP_PORT/api/v1/admin/tsdb/snapshot" >/dev/null
SNAP_CALL_S=$(since "$t")
docker rm -f "$PROJECT-snapshot" >/dev/null

printf '\nPrometheus TSDB of %s MiB (%s series × %s scrapes, WAL + head chunks), stackctl %s\n\n' \
    "$(mib "$TSDB_BYTES")" "$METRICS" "$SCRAPES" "$("$STACKCTL" --version | cut -d' ' -f2)"
printf '%-44s %9s %10s %10s %12s\n' "" "seconds" "MiB/s" "peak MiB" "archive MiB"
printf '%-44s %9s %10s %10s %12s\n' "stackctl backup (zstd, live-safe)" "$SC_BACKUP_S" "$(rate "$TSDB_BYTES" "$SC_BACKUP_S")" "$((SC_BACKUP_MEM / 1024))" "$(mib "$SC_SIZE")"
printf '%-44s %9s %10s %10s %12s\n' "docker run … tar czf (reference)" "$PEER_BACKUP_S" "$(rate "$TSDB_BYTES" "$PEER_BACKUP_S")" "$((PEER_BACKUP_MEM / 1024))" "$(mib "$PEER_SIZE")"
printf '%-44s %9s %10s %10s\n' "stackctl restore: filling the volume" "$SC_FILL_S" "$(rate "$SC_COPIED" "$SC_FILL_S")" "$((SC_RESTORE_MEM / 1024))"
printf '%-44s %9s\n' "stackctl restore: whole (check, fill, up, verify)" "$SC_RESTORE_S"
printf '%-44s %9s %10s %10s\n' "docker run … tar xzf (reference)" "$PEER_RESTORE_S" "$(rate "$TSDB_BYTES" "$PEER_RESTORE_S")" "$((PEER_RESTORE_MEM / 1024))"
printf '\nstackctl copied %s MiB of it (head chunks, lock and query log are left out; Prometheus rebuilds them from the WAL)\n' "$(mib "$SC_COPIED")"
printf 'restore verify: %s (log: %s)\n' "$SC_VERIFY" "${TMPDIR:-/tmp}/bench-backup-restore.log"
printf 'snapshot API instead: each Prometheus restart (on, then off again) costs a start:\n'
printf '  on the restored TSDB, replaying the whole WAL (restore above): %ss until healthy\n' "$PROM_START_S"
printf '  later, once it had compacted its head into blocks: %ss until ready with --web.enable-admin-api; the snapshot call %ss\n' "$SNAP_RESTART_S" "$SNAP_CALL_S"
printf 'the services stopped for their copy (stackctl backup):\n'
grep -E 'unavailable for|copied live|not running' "$work/backup.log" | sed 's/^/  /'
