#!/usr/bin/env bash
# Builds the training kernels to resources/kernels/cnn.wasm with Debian's clang and lld (clang-16, lld-16).
# The .wasm is committed so that users need no compiler; CI rebuilds it and checks it is byte-identical.
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG=${CLANG:-clang-16}
out=${1:-resources/kernels/cnn.wasm}
"$CLANG" --target=wasm32-unknown-unknown -O3 -ffast-math -fno-math-errno -msimd128 -matomics -mbulk-memory \
  -nostdlib -ffreestanding -fuse-ld=lld \
  -Wl,--no-entry -Wl,--import-memory -Wl,--shared-memory -Wl,--max-memory=4294967296 \
  -Wl,--export=plan -Wl,--export=ptr -Wl,--export=train_shard -Wl,--export=update -Wl,--export=infer \
  -Wl,--export=__stack_pointer -Wl,--export=__heap_base -Wl,-z,stack-size=65536 \
  -Wall -Wextra -o "$out" src/core/backend/kernels/cnn.c
echo "built $out ($(stat -c %s "$out") bytes)"
