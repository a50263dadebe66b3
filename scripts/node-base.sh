#!/usr/bin/env bash
# Makes a local stand-in for node:20-bookworm-slim with buildah, for machines that reach no container registry
# (the image test, test/image, builds the Dockerfile on it through `--build-arg NODE_IMAGE=<name>`):
# Debian bookworm minbase from debootstrap, this machine's node and npm under /usr/local, a uid-1000 user `node`
# as in the official image, and this machine's CA bundle (NODE_EXTRA_CA_CERTS) so npm inside a build reaches the
# registry. Prints the image name on stdout; everything else goes to stderr.
#
#   scripts/node-base.sh            needs root (or sudo), buildah and debootstrap (scripts/setup.sh test)
#
# Cached outside the checkout, keyed by the node version: the debootstrap tree in $RTGW_IMAGE_CACHE (default
# /var/cache/rtgw-image-base) and the committed image in buildah's storage, so a second run costs nothing.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "node-base: needs root (or sudo) for debootstrap and buildah" >&2; exit 1; }
  exec sudo -n env RTGW_IMAGE_CACHE="${RTGW_IMAGE_CACHE:-}" "$0" "$@"
fi
for tool in buildah debootstrap node; do
  command -v "$tool" >/dev/null || { echo "node-base: $tool is missing (scripts/setup.sh test installs it)" >&2; exit 1; }
done

cache="${RTGW_IMAGE_CACHE:-/var/cache/rtgw-image-base}"
node_bin="$(readlink -f "$(command -v node)")"
node_version="$("$node_bin" --version)"
npm_dir="$(dirname "$node_bin")/../lib/node_modules/npm"
[ -f "$npm_dir/bin/npm-cli.js" ] || npm_dir=/usr/lib/node_modules/npm
[ -f "$npm_dir/bin/npm-cli.js" ] || { echo "node-base: npm not found next to $node_bin" >&2; exit 1; }
ca_bundle=/etc/ssl/certs/ca-certificates.crt
[ -f "$ca_bundle" ] || { echo "node-base: $ca_bundle is missing (apt-get install ca-certificates)" >&2; exit 1; }
image="localhost/rtgw-node-base:${node_version#v}-bookworm"

if buildah inspect --type image "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi

# The Debian tree, once per machine (node-independent; the slow part: a few minutes of downloads).
minbase="$cache/bookworm-minbase"
if [ ! -f "$minbase/.complete" ]; then
  echo "node-base: debootstrap --variant=minbase bookworm $minbase" >&2
  rm -rf "$minbase"
  mkdir -p "$cache"
  debootstrap --variant=minbase bookworm "$minbase" http://deb.debian.org/debian >&2
  rm -rf "$minbase"/var/cache/apt/archives/*.deb "$minbase"/var/lib/apt/lists/*
  touch "$minbase/.complete"
fi

# The image's tree: the Debian tree plus node, npm, the user and the CA bundle. Rebuilt from the cached Debian
# tree whenever the committed image is missing (a new node version, or buildah's storage was pruned).
tree="$cache/node-$node_version"
rm -rf "$tree"
cp -a "$minbase" "$tree"
rm -f "$tree/.complete"
install -D -m 0755 "$node_bin" "$tree/usr/local/bin/node"
mkdir -p "$tree/usr/local/lib/node_modules"
cp -a "$npm_dir" "$tree/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$tree/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$tree/usr/local/bin/npx"
grep -q '^node:' "$tree/etc/group" || echo 'node:x:1000:' >>"$tree/etc/group"
grep -q '^node:' "$tree/etc/passwd" || echo 'node:x:1000:1000::/home/node:/bin/sh' >>"$tree/etc/passwd"
grep -q '^node:' "$tree/etc/shadow" || echo 'node:!:19000:0:99999:7:::' >>"$tree/etc/shadow"
install -d -o 1000 -g 1000 "$tree/home/node"
install -D -m 0644 "$ca_bundle" "$tree/etc/ssl/certs/ca-certificates.crt"

echo "node-base: committing $image" >&2
container="$(buildah from scratch)"
trap 'buildah rm "$container" >/dev/null 2>&1 || true' EXIT
buildah copy --quiet "$container" "$tree" / >/dev/null
buildah config \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_VERSION="${node_version#v}" \
  --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
  --cmd node \
  --label org.opencontainers.image.description="stand-in for node:20-bookworm-slim (scripts/node-base.sh)" \
  "$container"
buildah commit --quiet --rm "$container" "$image" >/dev/null
trap - EXIT
rm -rf "$tree"
echo "$image"
