#!/usr/bin/env bash
# Rebuilds the wasm kernels and fails if the committed resources/kernels/cnn.wasm differs from its source.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-16 >/dev/null || ! command -v wasm-ld-16 >/dev/null; then
  echo "check-kernels: skipped, clang-16 and lld-16 are not installed (apt-get install clang-16 lld-16)"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash scripts/build-kernels.sh "$tmp/cnn.wasm" >/dev/null
if cmp -s "$tmp/cnn.wasm" resources/kernels/cnn.wasm; then
  echo "check-kernels: resources/kernels/cnn.wasm matches its source"
else
  echo "check-kernels: resources/kernels/cnn.wasm is stale: run npm run build:kernels and commit it" >&2
  exit 1
fi
