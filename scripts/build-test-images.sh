#!/usr/bin/env bash
# Builds small local images of the Prometheus components from the Debian
# packages installed on this machine, for the real-engine tests and the
# benchmark (the machine has no image registry, so nothing can be pulled).
#
# Each image is FROM scratch: the Debian binary, the shared libraries `ldd`
# names, and busybox-static as /bin/sh and /bin/wget so the healthchecks that
# stackctl renders (`wget -q -O /dev/null http://localhost:PORT/...`) work. The
# layout copies the upstream images (binary in /bin, ENTRYPOINT, user nobody,
# data directory owned by nobody) so the plan runs unchanged on them.
#
# Output, one line per image on stdout: `<spec key> <repository> <version>`,
# e.g. `prometheus stackctl-test/prometheus v2.42.0`. Images that already exist
# for the installed package version are not rebuilt.
#
# Needs: docker, busybox-static and the packages prometheus,
# prometheus-alertmanager, prometheus-node-exporter,
# prometheus-blackbox-exporter, prometheus-pushgateway.
set -euo pipefail

REPO_PREFIX=${STACKCTL_TEST_IMAGE_PREFIX:-stackctl-test}

# spec key | Debian package | binary | name in the image | data dir ("" = none)
COMPONENTS='
prometheus|prometheus|/usr/bin/prometheus|/bin/prometheus|/prometheus
alertmanager|prometheus-alertmanager|/usr/bin/prometheus-alertmanager|/bin/alertmanager|/alertmanager
node_exporter|prometheus-node-exporter|/usr/bin/prometheus-node-exporter|/bin/node_exporter|
blackbox_exporter|prometheus-blackbox-exporter|/usr/bin/prometheus-blackbox-exporter|/bin/blackbox_exporter|
pushgateway|prometheus-pushgateway|/usr/bin/prometheus-pushgateway|/bin/pushgateway|/data
'

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

while IFS='|' read -r key package binary target datadir; do
    [ -n "$key" ] || continue
    deb_version=$(dpkg-query -W -f='${Version}' "$package" 2>/dev/null) \
        || die "Debian package \`$package\` is not installed (apt-get install -y $package)"
    # 2.42.0+ds-5+deb12u1 -> v2.42.0 (the upstream tag form the spec pins)
    version="v$(printf '%s' "$deb_version" | sed -E 's/^[0-9]+://; s/[+~-].*$//')"
    repo="$REPO_PREFIX/${key//_/-}"
    image="$repo:$version"
    built_from=$(docker image inspect -f '{{ index .Config.Labels "dev.stackctl.test-source" }}' "$image" 2>/dev/null || true)
    if [ "$built_from" != "$package=$deb_version" ]; then
        ctx=$(mktemp -d)
        trap 'rm -rf "$ctx"' EXIT
        root=$ctx/rootfs
        mkdir -p "$root/bin" "$root/tmp" "$ctx/data"
        cp -L "$binary" "$root$target"
        cp "$BUSYBOX" "$root/bin/busybox"
        ln -s busybox "$root/bin/sh"
        ln -s busybox "$root/bin/wget"
        # `ldd` lines: "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)".
        ldd "$binary" | grep -oE '/[^ ]+' | while read -r lib; do copy_into "$root" "$lib"; done
        # Debian builds read some assets from disk (Alertmanager's default
        # notification templates, the web UIs) rather than embedding them.
        dpkg -L "$package" | { grep '^/usr/share/prometheus/' || true; } | while read -r f; do
            if [ -f "$f" ]; then copy_into "$root" "$f"; fi
        done
        # nobody, for tools that look the user up by name.
        mkdir -p "$root/etc"
        printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
        printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
        {
            echo "FROM scratch"
            echo "COPY rootfs/ /"
            [ -n "$datadir" ] && echo "COPY --chown=65534:65534 data/ $datadir/"
            echo "LABEL dev.stackctl.test-source=\"$package=$deb_version\""
            echo "USER 65534"
            [ -n "$datadir" ] && echo "WORKDIR $datadir"
            echo "ENTRYPOINT [\"$target\"]"
        } >"$ctx/Dockerfile"
        chmod 1777 "$root/tmp"
        # The legacy builder prints a deprecation notice on every build: keep
        # the output for when the build fails.
        if ! log=$(docker build -q -t "$image" "$ctx" 2>&1); then
            printf '%s\n' "$log" >&2
            die "docker build of $image failed"
        fi
        rm -rf "$ctx"
        trap - EXIT
        echo "build-test-images: built $image from $package $deb_version" >&2
    fi
    echo "$key $repo $version"
done <<<"$COMPONENTS"
