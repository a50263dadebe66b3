#!/usr/bin/env bash
# Builds Dockerfile targets with whichever OCI builder this machine has: docker (when its engine answers), else
# podman, else buildah (no daemon; `--isolation chroot` works where no container runtime is set up).
#   scripts/images.sh <target> <tag> [<target> <tag> ...]      e.g. gateway rtgw/gateway:0.1.0
# Environment: RTGW_IMAGE_BUILDER=docker|podman|buildah picks one; NODE_IMAGE overrides the base image (for
# example a local stand-in from scripts/node-base.sh where no registry is reachable). buildah needs root or sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -gt 0 ] && [ $(($# % 2)) -eq 0 ] || { echo "usage: scripts/images.sh <target> <tag> [<target> <tag> ...]" >&2; exit 2; }

builder="${RTGW_IMAGE_BUILDER:-}"
if [ -z "$builder" ]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then builder=docker
  elif command -v podman >/dev/null; then builder=podman
  elif command -v buildah >/dev/null; then builder=buildah
  else
    echo "images: no OCI builder: install Docker, podman or buildah (apt-get install buildah)" >&2
    exit 1
  fi
fi

args=()
[ -n "${NODE_IMAGE:-}" ] && args+=(--build-arg "NODE_IMAGE=$NODE_IMAGE")
case "$builder" in
  docker | podman) build=("$builder" build "${args[@]}") ;;
  buildah)
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
    # --layers: the second target reuses the stages the first one built; --force-rm: no container left by a failure.
    build=("${sudo[@]}" buildah bud --isolation "${BUILDAH_ISOLATION:-chroot}" --network host --layers --force-rm "${args[@]}")
    ;;
  *) echo "images: RTGW_IMAGE_BUILDER must be docker, podman or buildah (got $builder)" >&2; exit 2 ;;
esac

while [ $# -gt 0 ]; do
  echo "images: $builder: --target $1 -t $2" >&2
  "${build[@]}" --target "$1" -t "$2" -f Dockerfile .
  shift 2
done
