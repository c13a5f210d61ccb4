#!/usr/bin/env bash
# Builds small local images for the real-engine tests and the benchmark (the
# machine has no image registry, so nothing can be pulled). Three sets:
#
#   build-test-images.sh         the Prometheus components of Debian stable,
#                                from the packages installed on this machine
#                                (prometheus 2.42, alertmanager 0.25, node,
#                                blackbox, pushgateway): the old-version pins
#   build-test-images.sh sid     today's builds from Debian sid, unpacked by
#                                scripts/fetch-consumers.sh under target/
#                                (prometheus 3.5, alertmanager 0.33, node,
#                                blackbox, pushgateway and the postgres, redis
#                                and nginx exporters): the default versions
#   build-test-images.sh apps    the applications a pynomaly-shaped stack
#                                scrapes: PostgreSQL, Redis and NGINX servers
#                                from Debian stable packages, fetched with
#                                `apt-get download` into target/test-apps and
#                                unpacked with `dpkg -x` (never installed, so
#                                no system service is set up or started)
#
# Each image is FROM scratch: the Debian binary and the shared libraries it
# loads. Where the upstream image has a shell (the busybox-based Prometheus
# images, postgres-exporter, the database images) busybox-static is /bin/sh
# and /bin/wget, so the healthchecks stackctl renders (`wget -q -O /dev/null
# http://localhost:PORT/...`) work; where upstream is FROM scratch
# (redis_exporter, nginx-prometheus-exporter) there is no shell either. Each
# image runs as the user of the upstream image it stands for, so permission
# bugs show up here:
#
#   prometheus, alertmanager, node/blackbox exporter, pushgateway,
#   postgres-exporter                        65534 (USER nobody)
#   redis_exporter                           59000 (USER 59000:59000)
#   nginx-prometheus-exporter                1001  (USER 1001:1001)
#   postgres (Docker official image)         999   (the `postgres` user)
#   redis (Docker official image)            999   (the `redis` user)
#   nginx (Docker official image)            0, workers as 101 (`nginx`)
#
# The binary sits where upstream has it (/bin/prometheus, /redis_exporter,
# /usr/bin/nginx-prometheus-exporter, …) so the plan runs unchanged on them.
#
# Output, one line per image on stdout: `<key> <repository> <version>`, e.g.
# `prometheus stackctl-test/prometheus v2.42.0`; the key is the spec's
# component key (apps: `postgres`, `redis`, `nginx`). An image that already
# exists for the same package version is not rebuilt.
#
# Needs: docker, busybox-static; for the default set the packages prometheus,
# prometheus-alertmanager, prometheus-node-exporter,
# prometheus-blackbox-exporter, prometheus-pushgateway; for `apps`, apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

SET=${1:-stable}
REPO_PREFIX=${STACKCTL_TEST_IMAGE_PREFIX:-stackctl-test}

die() { echo "build-test-images: $*" >&2; exit 1; }

command -v docker >/dev/null || die "docker is not installed"
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || BUSYBOX=/usr/bin/busybox
[ -x "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1 || die "busybox-static is not installed (apt-get install -y busybox-static)"

# Tests run in parallel: one builder at a time.
exec 9>"${TMPDIR:-/tmp}/stackctl-build-test-images.lock"
flock 9

# Copies a file to the same absolute path under $root, dereferencing symlinks.
copy_into() {
    local root=$1 file=$2
    mkdir -p "$root$(dirname "$file")"
    cp -L "$file" "$root$file"
}

# The build context of one image: $ctx/rootfs, $ctx/data, $ctx/Dockerfile.
ctx=""
root=""
cleanup() { [ -z "$ctx" ] || rm -rf "$ctx"; }
trap cleanup EXIT
new_context() {
    ctx=$(mktemp -d)
    root=$ctx/rootfs
    mkdir -p "$root/tmp" "$root/etc" "$ctx/data"
    chmod 1777 "$root/tmp"
}
add_busybox() {
    mkdir -p "$root/bin"
    cp "$BUSYBOX" "$root/bin/busybox"
    ln -s busybox "$root/bin/sh"
    ln -s busybox "$root/bin/wget"
}
# add_binary FILE TARGET [STAGE]: FILE at TARGET in the image, with every
# library it loads. Without STAGE the libraries are the host's (`ldd`); with
# STAGE, an unpacked package tree, they must come from that tree: its own
# dynamic loader lists them, and one found only on the host is an error
# (a fresh machine does not have it).
add_binary() {
    local file=$1 target=$2 stage=${3:-}
    mkdir -p "$root$(dirname "$target")"
    cp -L "$file" "$root$target"
    add_libraries "$file" "$stage"
}
add_libraries() {
    local file=$1 stage=${2:-}
    if [ -z "$stage" ]; then
        # "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)".
        ldd "$file" | grep -oE '/[^ ]+' | while read -r lib; do copy_into "$root" "$lib"; done
        return
    fi
    local list loader=$stage/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
    list=$("$loader" --inhibit-cache \
        --library-path "$stage/lib/x86_64-linux-gnu:$stage/usr/lib/x86_64-linux-gnu" --list "$file") \
        || die "cannot list the libraries of $file: $list"
    if grep -q 'not found' <<<"$list"; then
        die "$file needs libraries its packages did not bring: $(grep 'not found' <<<"$list" | tr -s '\t\n' '  ')"
    fi
    { grep -oE '/[^ ]+' <<<"$list" || true; } | while read -r lib; do
        case "$lib" in
            "$stage"/*)
                mkdir -p "$root$(dirname "${lib#"$stage"}")"
                cp -L "$lib" "$root${lib#"$stage"}"
                ;;
            # The interpreter, named as the binary names it.
            /lib64/ld-linux-x86-64.so.2)
                mkdir -p "$root/lib64"
                cp -L "$loader" "$root$lib"
                ;;
            *) die "$file loads $lib from the host, not from its packages" ;;
        esac
    done
}
# passwd_entries LINE…: /etc/passwd and /etc/group from `name:uid` pairs
# (root is always there), for programs that look their user up by name.
passwd_entries() {
    printf 'root:x:0:0:root:/:/bin/sh\n' >"$root/etc/passwd"
    printf 'root:x:0:\n' >"$root/etc/group"
    local pair name id
    for pair in "$@"; do
        name=${pair%%:*}
        id=${pair#*:}
        printf '%s:x:%s:%s:%s:/nonexistent:/bin/false\n' "$name" "$id" "$id" "$name" >>"$root/etc/passwd"
        printf '%s:x:%s:\n' "$name" "$id" >>"$root/etc/group"
    done
}
# build IMAGE SOURCE: builds $ctx as IMAGE unless an image of that name was
# already built from SOURCE (the label records the package and its version).
already_built() {
    local image=$1 source=$2 built_from
    built_from=$(docker image inspect -f '{{ index .Config.Labels "dev.stackctl.test-source" }}' "$image" 2>/dev/null || true)
    [ "$built_from" = "$source" ]
}
build() {
    local image=$1 source=$2 log old
    old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    echo "LABEL dev.stackctl.test-source=\"$source\"" >>"$ctx/Dockerfile"
    # The legacy builder prints a deprecation notice on every build: keep
    # the output for when the build fails.
    if ! log=$(docker build -q -t "$image" "$ctx" 2>&1); then
        printf '%s\n' "$log" >&2
        die "docker build of $image failed"
    fi
    rm -rf "$ctx"
    ctx=""
    # The image this one replaces, unless a container still uses it.
    [ -z "$old" ] || docker image rm "$old" >/dev/null 2>&1 || true
    echo "build-test-images: built $image from $source" >&2
}
# A digest of the shell functions that build an image, appended to the
# source label of the `sid` and `apps` sets so that changing how an image is
# made rebuilds it. (The default set keeps its plain `package=version` label:
# other checkouts build the same tags and must not see them retagged.)
recipe() {
    declare -f "$@" | sha256sum | cut -c1-12
}
# 2.42.0+ds-5+deb12u1 -> 2.42.0 (the upstream release the spec pins)
upstream_version() {
    printf '%s' "$1" | sed -E 's/^[0-9]+://; s/[+~-].*$//'
}

# One Prometheus component: spec key, package, binary on disk, its path in
# the image, data dir ("" = none), uid, "shell" or "", package version, and
# the tree the package was unpacked in ("" = installed on this machine).
prometheus_component() {
    local key=$1 package=$2 binary=$3 target=$4 datadir=$5 uid=$6 shell=$7 deb_version=$8 tree=$9
    local version repo image source="$package=$deb_version"
    [ -z "$tree" ] || source="$source recipe=$(recipe prometheus_component add_binary add_libraries add_busybox passwd_entries)"
    version="v$(upstream_version "$deb_version")"
    # nginx-prometheus-exporter tags have no `v` (1.5.3).
    [ "$key" = nginx_exporter ] && version=${version#v}
    repo="$REPO_PREFIX/${key//_/-}"
    image="$repo:$version"
    if ! already_built "$image" "$source"; then
        new_context
        add_binary "$binary" "$target"
        [ "$shell" = shell ] && add_busybox
        # Debian builds read some assets from disk (Alertmanager's default
        # notification templates, the web UIs) rather than embedding them.
        if [ -z "$tree" ]; then
            dpkg -L "$package" | { grep '^/usr/share/prometheus/' || true; } | while read -r f; do
                if [ -f "$f" ]; then copy_into "$root" "$f"; fi
            done
        elif [ -d "$tree/usr/share/prometheus" ]; then
            # Regular files only: the package's links into other packages
            # (/usr/share/javascript) lead nowhere in the unpacked tree.
            (cd "$tree" && find usr/share/prometheus -type f) | while read -r f; do
                mkdir -p "$root/$(dirname "$f")"
                cp "$tree/$f" "$root/$f"
            done
        fi
        # Upstream's scratch images have no passwd file; the busybox ones
        # have nobody.
        if [ "$shell" = shell ]; then
            passwd_entries nobody:65534
            sed -i 's/^nobody:/nogroup:/' "$root/etc/group"
        else
            rm -rf "$root/etc" "$root/tmp"
        fi
        {
            echo "FROM scratch"
            echo "COPY rootfs/ /"
            [ -n "$datadir" ] && echo "COPY --chown=$uid:$uid data/ $datadir/"
            # As upstream writes it: `USER nobody` (65534) in the Prometheus
            # images, `USER 59000:59000` / `USER 1001:1001` in the others.
            if [ "$uid" = 65534 ]; then echo "USER 65534"; else echo "USER $uid:$uid"; fi
            [ -n "$datadir" ] && echo "WORKDIR $datadir"
            echo "ENTRYPOINT [\"$target\"]"
        } >"$ctx/Dockerfile"
        build "$image" "$source"
    fi
    echo "$key $repo $version"
}

stable_set() {
    # spec key | Debian package | binary | name in the image | data dir ("" = none)
    local components='
prometheus|prometheus|/usr/bin/prometheus|/bin/prometheus|/prometheus
alertmanager|prometheus-alertmanager|/usr/bin/prometheus-alertmanager|/bin/alertmanager|/alertmanager
node_exporter|prometheus-node-exporter|/usr/bin/prometheus-node-exporter|/bin/node_exporter|
blackbox_exporter|prometheus-blackbox-exporter|/usr/bin/prometheus-blackbox-exporter|/bin/blackbox_exporter|
pushgateway|prometheus-pushgateway|/usr/bin/prometheus-pushgateway|/bin/pushgateway|/data
'
    local key package binary target datadir deb_version
    while IFS='|' read -r key package binary target datadir; do
        [ -n "$key" ] || continue
        deb_version=$(dpkg-query -W -f='${Version}' "$package" 2>/dev/null) \
            || die "Debian package \`$package\` is not installed (apt-get install -y $package)"
        prometheus_component "$key" "$package" "$binary" "$target" "$datadir" 65534 shell "$deb_version" ""
    done <<<"$components"
}

sid_set() {
    scripts/fetch-consumers.sh >&2
    local top=$PWD/target/consumers/sid
    # spec key | Debian package | binary in the package | name in the image | data dir | uid | shell
    local components='
prometheus|prometheus|usr/bin/prometheus|/bin/prometheus|/prometheus|65534|shell
alertmanager|prometheus-alertmanager|usr/bin/prometheus-alertmanager|/bin/alertmanager|/alertmanager|65534|shell
node_exporter|prometheus-node-exporter|usr/bin/prometheus-node-exporter|/bin/node_exporter||65534|shell
blackbox_exporter|prometheus-blackbox-exporter|usr/bin/prometheus-blackbox-exporter|/bin/blackbox_exporter||65534|shell
pushgateway|prometheus-pushgateway|usr/bin/prometheus-pushgateway|/bin/pushgateway|/data|65534|shell
postgres_exporter|prometheus-postgres-exporter|usr/bin/prometheus-postgres-exporter|/bin/postgres_exporter||65534|shell
redis_exporter|prometheus-redis-exporter|usr/bin/prometheus-redis-exporter|/redis_exporter||59000|
nginx_exporter|prometheus-nginx-exporter|usr/bin/prometheus-nginx-exporter|/usr/bin/nginx-prometheus-exporter||1001|
'
    local key package binary target datadir uid shell deb deb_version
    while IFS='|' read -r key package binary target datadir uid shell; do
        [ -n "$key" ] || continue
        deb=$(ls "$top"/debs/"${package}"_*.deb 2>/dev/null | head -n 1)
        [ -n "$deb" ] || die "no $package in $top/debs (scripts/fetch-consumers.sh)"
        deb_version=$(dpkg-deb -f "$deb" Version)
        prometheus_component "$key" "$package" "$top/root/$binary" "$target" "$datadir" "$uid" "$shell" "$deb_version" "$top/root"
    done <<<"$components"
}

# --- apps: PostgreSQL, Redis and NGINX from Debian stable -----------------

APPS_DIR=$PWD/target/test-apps
APP_PACKAGES=(postgresql-15 redis-server redis-tools nginx tzdata)

# Downloads the app packages and the libraries they depend on into
# $APPS_DIR/debs and unpacks them into $APPS_DIR/stage. apt uses this
# machine's sources but a private state directory, so nothing on the system
# changes. Only library packages of the dependency closure are taken (the
# maintainer scripts' perl, debconf, … are not needed to run a server); a
# library that is still missing fails add_libraries by name.
fetch_apps() {
    local stamp=$APPS_DIR/.stamp want="${APP_PACKAGES[*]}"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$APPS_DIR/stage/usr" ]; then
        return
    fi
    echo "build-test-images: fetching ${APP_PACKAGES[*]} from Debian stable into $APPS_DIR" >&2
    rm -rf "$APPS_DIR/debs" "$APPS_DIR/stage"
    mkdir -p "$APPS_DIR/apt/lists/partial" "$APPS_DIR/apt/cache/archives/partial" "$APPS_DIR/debs" "$APPS_DIR/stage"
    local apt_opts=(
        -o "Dir::State::Lists=$APPS_DIR/apt/lists"
        -o "Dir::State::status=/dev/null"
        -o "Dir::Cache=$APPS_DIR/apt/cache"
        -o "APT::Get::List-Cleanup=0"
        -o "APT::Sandbox::User=root"
    )
    apt-get -qq "${apt_opts[@]}" update >&2
    local closure
    closure=$(apt-cache "${apt_opts[@]}" depends --recurse --no-recommends --no-suggests \
        --no-conflicts --no-breaks --no-replaces --no-enhances "${APP_PACKAGES[@]}" \
        | grep -v '^[ <]' | sort -u \
        | grep -E '^(lib|zlib1g$|gcc-[0-9]+-base$)' \
        | grep -vE '^(libllvm|libperl|libz3-|lib.*-perl$|libc-bin$|libc-l10n$|libpam-modules|libsemanage|libdebian-installer|libnewt|libslang|libtextwrap|libgdbm|libdb5)' || true)
    (cd "$APPS_DIR/debs" && apt-get -qq "${apt_opts[@]}" download "${APP_PACKAGES[@]}" $closure >&2)
    local deb
    for deb in "$APPS_DIR"/debs/*.deb; do
        dpkg -x "$deb" "$APPS_DIR/stage"
    done
    echo "$want" >"$stamp"
}

# The version of an app package as downloaded.
app_version() {
    local deb
    deb=$(ls "$APPS_DIR"/debs/"$1"_*.deb | head -n 1)
    dpkg-deb -f "$deb" Version
}

postgres_image() {
    local stage=$APPS_DIR/stage deb_version version image
    deb_version=$(app_version postgresql-15)
    version=$(upstream_version "$deb_version")
    image="$REPO_PREFIX/app-postgres:$version"
    local source="postgresql-15=$deb_version recipe=$(recipe postgres_image add_binary add_libraries add_busybox passwd_entries)"
    if ! already_built "$image" "$source"; then
        new_context
        add_busybox
        local bin=/usr/lib/postgresql/15/bin so
        for tool in postgres initdb; do
            add_binary "$stage$bin/$tool" "$bin/$tool" "$stage"
        done
        # Server modules initdb and the server load (plpgsql, the encoding
        # conversions, snowball); the LLVM JIT is left out (jit=off).
        mkdir -p "$root/usr/lib/postgresql/15/lib"
        for so in "$stage"/usr/lib/postgresql/15/lib/*.so; do
            case "$so" in *llvmjit*) continue ;; esac
            cp -L "$so" "$root/usr/lib/postgresql/15/lib/"
            add_libraries "$so" "$stage"
        done
        mkdir -p "$root/usr/share"
        cp -r "$stage/usr/share/postgresql" "$root/usr/share/"
        cp -r "$stage/usr/share/zoneinfo" "$root/usr/share/"
        passwd_entries postgres:999
        mkdir -p "$root/usr/local/bin"
        # As the official image: first start runs initdb with POSTGRES_USER
        # (a superuser), POSTGRES_PASSWORD and POSTGRES_DB; password logins
        # from the network (scram-sha-256).
        cat >"$root/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
bin=/usr/lib/postgresql/15/bin
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chmod 0700 "$PGDATA"
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  "$bin/initdb" -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 --no-locale -E UTF8 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  if [ "$POSTGRES_DB" != postgres ]; then
    echo "CREATE DATABASE \"$POSTGRES_DB\";" | "$bin/postgres" --single -D "$PGDATA" -j postgres >/dev/null
  fi
fi
exec "$bin/postgres" -D "$PGDATA" -c listen_addresses='*' -c jit=off "$@"
EOF
        chmod 0755 "$root/usr/local/bin/docker-entrypoint.sh"
        {
            echo "FROM scratch"
            echo "COPY rootfs/ /"
            echo "COPY --chown=999:999 data/ /var/lib/postgresql/"
            echo "COPY --chown=999:999 data/ /var/run/postgresql/"
            echo "ENV TZ=UTC PGDATA=/var/lib/postgresql/data"
            echo "USER 999:999"
            echo "ENTRYPOINT [\"/usr/local/bin/docker-entrypoint.sh\"]"
        } >"$ctx/Dockerfile"
        build "$image" "$source"
    fi
    echo "postgres $REPO_PREFIX/app-postgres $version"
}

redis_image() {
    local stage=$APPS_DIR/stage deb_version version image
    deb_version=$(app_version redis-tools)
    version=$(upstream_version "$deb_version")
    image="$REPO_PREFIX/app-redis:$version"
    local source="redis-tools=$deb_version recipe=$(recipe redis_image add_binary add_libraries add_busybox passwd_entries)"
    if ! already_built "$image" "$source"; then
        new_context
        add_busybox
        # redis-server is redis-check-rdb under another name (it looks at argv[0]).
        add_binary "$stage/usr/bin/redis-check-rdb" /usr/bin/redis-server "$stage"
        passwd_entries redis:999
        # As the official image without a config file: no persistence
        # needed here, and protected mode off so other containers connect.
        {
            echo "FROM scratch"
            echo "COPY rootfs/ /"
            echo "COPY --chown=999:999 data/ /data/"
            echo "USER 999:999"
            echo "WORKDIR /data"
            echo "ENTRYPOINT [\"/usr/bin/redis-server\", \"--protected-mode\", \"no\", \"--save\", \"\"]"
        } >"$ctx/Dockerfile"
        build "$image" "$source"
    fi
    echo "redis $REPO_PREFIX/app-redis $version"
}

nginx_image() {
    local stage=$APPS_DIR/stage deb_version version image
    deb_version=$(app_version nginx)
    version=$(upstream_version "$deb_version")
    image="$REPO_PREFIX/app-nginx:$version"
    local source="nginx=$deb_version recipe=$(recipe nginx_image add_binary add_libraries add_busybox passwd_entries)"
    if ! already_built "$image" "$source"; then
        new_context
        add_busybox
        add_binary "$stage/usr/sbin/nginx" /usr/sbin/nginx "$stage"
        passwd_entries nginx:101
        mkdir -p "$root/etc/nginx" "$root/var/lib/nginx" "$root/var/log/nginx" "$root/srv"
        # The server a pynomaly-shaped stack scrapes: `stub_status` on 8080
        # (the profile's nginx-exporter `scrape_uri`), and nothing else of
        # its own. Tests add their site with `conf.d/*.conf` files.
        cat >"$root/etc/nginx/nginx.conf" <<'EOF'
user nginx;
worker_processes 1;
pid /tmp/nginx.pid;
error_log /dev/stderr warn;
events { worker_connections 64; }
http {
    access_log off;
    default_type application/octet-stream;
    server {
        listen 8080;
        location = /stub_status { stub_status; }
    }
    include /etc/nginx/conf.d/*.conf;
}
EOF
        mkdir -p "$root/etc/nginx/conf.d"
        {
            echo "FROM scratch"
            echo "COPY rootfs/ /"
            echo "ENTRYPOINT [\"/usr/sbin/nginx\", \"-g\", \"daemon off;\"]"
        } >"$ctx/Dockerfile"
        build "$image" "$source"
    fi
    echo "nginx $REPO_PREFIX/app-nginx $version"
}

apps_set() {
    command -v apt-get >/dev/null || die "apt-get is needed to fetch the app packages"
    fetch_apps
    postgres_image
    redis_image
    nginx_image
}

case "$SET" in
    stable) stable_set ;;
    sid) sid_set ;;
    apps) apps_set ;;
    *) die "unknown set \`$SET\` (expected nothing, \`sid\` or \`apps\`)" ;;
esac
