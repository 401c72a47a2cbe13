#!/usr/bin/env bash
# Builds the training kernels (src/core/backend/kernels/cnn.c) with Debian's clang and lld (clang-16, lld-16):
#   kernels/cnn.wasm          wasm SIMD128, the fallback every runtime has
#   kernels/cnn-relaxed.wasm  the same with relaxed SIMD (f32x4.relaxed_madd, fused on x86 with FMA)
#   native/linux-x64/cnn.node the native engine's Node-API addon, the kernels once for AVX2+FMA and once for AVX-512
# under resources/ (or the folder given). They are committed so that users need no compiler; check-kernels
# rebuilds them and checks they are byte-identical, so every flag here is fixed and no path gets in.
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG=${CLANG:-clang-16}
# clang runs wasm-opt after linking a wasm target wherever one is on PATH, and `npm run` puts node_modules/.bin
# first, where binaryen's wasm-opt is (a dependency of Paraglide's): its output differs from the committed bytes.
PATH=$(tr ':' '\n' <<<"$PATH" | grep -v 'node_modules/\.bin' | paste -sd: -)
out=${1:-resources}
src=src/core/backend/kernels
mkdir -p "$out/kernels" "$out/native/linux-x64"

wasm() {
  "$CLANG" --target=wasm32-unknown-unknown -O3 -ffast-math -fno-math-errno -msimd128 -matomics -mbulk-memory "$@" \
    -nostdlib -ffreestanding -fuse-ld=lld \
    -Wl,--no-entry -Wl,--import-memory -Wl,--shared-memory -Wl,--max-memory=4294967296 \
    -Wl,--export=plan -Wl,--export=ptr -Wl,--export=train_shard -Wl,--export=update -Wl,--export=infer \
    -Wl,--export=__stack_pointer -Wl,--export=__heap_base -Wl,-z,stack-size=65536 \
    -Wall -Wextra "$src/cnn.c"
}
wasm -o "$out/kernels/cnn.wasm"
wasm -mrelaxed-simd -o "$out/kernels/cnn-relaxed.wasm"

# The native addon: cnn.c twice (each copy's names prefixed, so both link into one library), and the
# Node-API glue for baseline x86-64, so that loading it on any x86-64 CPU works and says what it lacks.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
native=(--target=x86_64-linux-gnu -O3 -fPIC -fvisibility=hidden -ffile-prefix-map="$PWD"=. -Wall -Wextra)
"$CLANG" "${native[@]}" -ffast-math -fno-math-errno -mavx2 -mfma -DKERNEL_PREFIX=avx2_ -c "$src/cnn.c" -o "$tmp/avx2.o"
"$CLANG" "${native[@]}" -ffast-math -fno-math-errno -mavx512f -mfma -DKERNEL_PREFIX=avx512_ -c "$src/cnn.c" -o "$tmp/avx512.o"
"$CLANG" "${native[@]}" -isystem node_modules/node-api-headers/include -DNAPI_VERSION=8 -c src/core/backend/native/addon.c -o "$tmp/addon.o"
"$CLANG" --target=x86_64-linux-gnu -shared -fuse-ld=lld -Wl,--build-id=none \
  -Wl,-O1 -Wl,--hash-style=gnu -o "$out/native/linux-x64/cnn.node" "$tmp/addon.o" "$tmp/avx2.o" "$tmp/avx512.o" -lm -lpthread
for f in kernels/cnn.wasm kernels/cnn-relaxed.wasm native/linux-x64/cnn.node; do
  echo "built $out/$f ($(stat -c %s "$out/$f") bytes)"
done
