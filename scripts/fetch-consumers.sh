#!/usr/bin/env bash
# Fetches today's consumers of stackctl's output from Debian unstable (sid)
# without installing anything system-wide: a private apt sources file and
# state directory under target/, `apt-get download`, then `dpkg -x` into
# target/consumers/sid/root. The binaries are static Go programs that need
# only libc, so they run on this (older) Debian.
#
# Prints nothing but errors unless something is fetched. Re-running with the
# same package list is a no-op (a stamp file records what was unpacked).
#
# After it: target/consumers/sid/bin/{promtool,prometheus,amtool,alertmanager,
# docker-compose,node-exporter,blackbox-exporter,pushgateway,postgres-exporter,
# redis-exporter,nginx-exporter}. Tests find them through
# tests/common (`STACKCTL_SID_BIN`, default that directory).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  prometheus
  promtool
  prometheus-alertmanager
  docker-compose
  prometheus-node-exporter
  prometheus-blackbox-exporter
  prometheus-pushgateway
  prometheus-postgres-exporter
  prometheus-redis-exporter
  prometheus-nginx-exporter
)

top="$PWD/target/consumers/sid"
stamp="$top/.stamp"
want="${packages[*]}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$top/bin/promtool" ]; then
  exit 0
fi

echo "fetching today's consumers from Debian sid into $top"
apt_dir="$top/apt"
rm -rf "$top/root" "$top/bin" "$top/debs"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$top/debs" "$top/root" "$top/bin"
echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main' \
  >"$apt_dir/sources.list"
apt_opts=(
  -o "Dir::Etc::sourcelist=$apt_dir/sources.list"
  -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache=$apt_dir/cache"
  -o "APT::Get::List-Cleanup=0"
  -o "APT::Sandbox::User=root"
)
apt-get -qq "${apt_opts[@]}" update
(cd "$top/debs" && apt-get -qq "${apt_opts[@]}" download "${packages[@]}")
for deb in "$top"/debs/*.deb; do
  dpkg -x "$deb" "$top/root"
done

link() { ln -sf "$top/root/$1" "$top/bin/$2"; }
link usr/bin/promtool promtool
link usr/bin/prometheus prometheus
link usr/bin/amtool amtool
link usr/bin/prometheus-alertmanager alertmanager
link usr/libexec/docker/cli-plugins/docker-compose docker-compose
link usr/bin/prometheus-node-exporter node-exporter
link usr/bin/prometheus-blackbox-exporter blackbox-exporter
link usr/bin/prometheus-pushgateway pushgateway
link usr/bin/prometheus-postgres-exporter postgres-exporter
link usr/bin/prometheus-redis-exporter redis-exporter
link usr/bin/prometheus-nginx-exporter nginx-exporter

for tool in "$top"/bin/*; do
  [ -x "$tool" ] || { echo "fetch-consumers: $tool is missing after unpacking" >&2; exit 2; }
done
"$top/bin/promtool" --version 2>&1 | head -n 1
"$top/bin/amtool" --version 2>&1 | head -n 1
"$top/bin/docker-compose" version
echo "$want" >"$stamp"
