#!/usr/bin/env bash
# Rebuilds the kernels and fails if a committed binary (the two .wasm builds and the native addon) differs
# from its source. KERNELS_DIR checks another folder than resources/ (tests plant a stale binary there).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-16 >/dev/null || ! command -v wasm-ld-16 >/dev/null || ! command -v ld.lld-16 >/dev/null; then
  echo "check-kernels: skipped, clang-16 and lld-16 are not installed (apt-get install clang-16 lld-16)"
  exit 0
fi
committed=${KERNELS_DIR:-resources}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash scripts/build-kernels.sh "$tmp" >/dev/null
stale=0
for f in kernels/cnn.wasm kernels/cnn-relaxed.wasm native/linux-x64/cnn.node; do
  if cmp -s "$tmp/$f" "$committed/$f"; then
    echo "check-kernels: $committed/$f matches its source"
  else
    echo "check-kernels: $committed/$f is stale: run npm run build:kernels and commit it" >&2
    stale=1
  fi
done
exit $stale
