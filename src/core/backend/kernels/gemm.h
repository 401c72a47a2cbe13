// Blocked single-precision GEMM for wasm SIMD128: C (+)= op(A) * op(B).
// Operands are addressed through (row, column) strides, so transposed views cost nothing:
// packing gathers them into contiguous panels that the micro-kernel streams through.
#pragma once
#include <wasm_simd128.h>

#define MR 4
#define NR 8
#define KC 256
#define NC 512

typedef struct {
  const float *p;
  int rs, cs; // element (i, j) lives at p[i * rs + j * cs]
} view_t;

// Packs rows [i0, i0+MR) x columns [k0, k0+kb) of A into ap[k * MR + r], zero-filling rows past m.
static void pack_a(view_t a, int i0, int m, int k0, int kb, float *ap) {
  for (int r = 0; r < MR; r++) {
    float *dst = ap + r;
    if (i0 + r < m) {
      const float *src = a.p + (i0 + r) * a.rs + k0 * a.cs;
      if (a.cs == 1) {
        for (int k = 0; k < kb; k++) dst[k * MR] = src[k];
      } else {
        for (int k = 0; k < kb; k++) dst[k * MR] = src[k * a.cs];
      }
    } else {
      for (int k = 0; k < kb; k++) dst[k * MR] = 0.0f;
    }
  }
}

// Packs rows [k0, k0+kb) x columns [j0, j0+nb) of B into panels of NR columns: bp[panel][k][NR].
static void pack_b(view_t b, int k0, int kb, int j0, int nb, float *bp) {
  for (int jp = 0; jp < nb; jp += NR) {
    int w = nb - jp < NR ? nb - jp : NR;
    float *panel = bp + jp * kb;
    for (int k = 0; k < kb; k++) {
      const float *src = b.p + (k0 + k) * b.rs + (j0 + jp) * b.cs;
      float *dst = panel + k * NR;
      if (b.cs == 1 && w == NR) {
        wasm_v128_store(dst, wasm_v128_load(src));
        wasm_v128_store(dst + 4, wasm_v128_load(src + 4));
      } else {
        int j = 0;
        for (; j < w; j++) dst[j] = src[j * b.cs];
        for (; j < NR; j++) dst[j] = 0.0f;
      }
    }
  }
}

// One MR x NR tile over kb packed steps. acc: add to what C holds; full: the tile lies wholly inside C.
static void ukernel(int kb, const float *ap, const float *bp, float *c, int ldc, int acc, int rows, int cols) {
  v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00;
  v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int k = 0; k < kb; k++) {
    v128_t b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4);
    v128_t a0 = wasm_v128_load32_splat(ap), a1 = wasm_v128_load32_splat(ap + 1);
    v128_t a2 = wasm_v128_load32_splat(ap + 2), a3 = wasm_v128_load32_splat(ap + 3);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a0, b0));
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a0, b1));
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a1, b0));
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a1, b1));
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a2, b0));
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a2, b1));
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a3, b0));
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a3, b1));
    ap += MR;
    bp += NR;
  }
  if (rows == MR && cols == NR) {
    float *r0 = c, *r1 = c + ldc, *r2 = c + 2 * ldc, *r3 = c + 3 * ldc;
    if (acc) {
      c00 = wasm_f32x4_add(c00, wasm_v128_load(r0)); c01 = wasm_f32x4_add(c01, wasm_v128_load(r0 + 4));
      c10 = wasm_f32x4_add(c10, wasm_v128_load(r1)); c11 = wasm_f32x4_add(c11, wasm_v128_load(r1 + 4));
      c20 = wasm_f32x4_add(c20, wasm_v128_load(r2)); c21 = wasm_f32x4_add(c21, wasm_v128_load(r2 + 4));
      c30 = wasm_f32x4_add(c30, wasm_v128_load(r3)); c31 = wasm_f32x4_add(c31, wasm_v128_load(r3 + 4));
    }
    wasm_v128_store(r0, c00); wasm_v128_store(r0 + 4, c01);
    wasm_v128_store(r1, c10); wasm_v128_store(r1 + 4, c11);
    wasm_v128_store(r2, c20); wasm_v128_store(r2 + 4, c21);
    wasm_v128_store(r3, c30); wasm_v128_store(r3 + 4, c31);
    return;
  }
  // Edge tile: spill to a small buffer in registers' order, then copy the part inside C.
  float t[MR * NR] __attribute__((aligned(16)));
  wasm_v128_store(t, c00); wasm_v128_store(t + 4, c01);
  wasm_v128_store(t + 8, c10); wasm_v128_store(t + 12, c11);
  wasm_v128_store(t + 16, c20); wasm_v128_store(t + 20, c21);
  wasm_v128_store(t + 24, c30); wasm_v128_store(t + 28, c31);
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < cols; j++) c[r * ldc + j] = (acc ? c[r * ldc + j] : 0.0f) + t[r * NR + j];
}

// C[m x n] (row stride ldc) = (accumulate ? C : 0) + A[m x k] * B[k x n].
// scratch holds KC*MR + KC*NC floats.
static void gemm(int m, int n, int k, view_t a, view_t b, float *c, int ldc, int accumulate, float *scratch) {
  float *ap = scratch, *bp = scratch + KC * MR;
  if (k == 0) {
    if (!accumulate)
      for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) c[i * ldc + j] = 0.0f;
    return;
  }
  for (int k0 = 0; k0 < k; k0 += KC) {
    int kb = k - k0 < KC ? k - k0 : KC;
    int acc = accumulate || k0 > 0;
    for (int j0 = 0; j0 < n; j0 += NC) {
      int nb = n - j0 < NC ? n - j0 : NC;
      pack_b(b, k0, kb, j0, nb, bp);
      for (int i0 = 0; i0 < m; i0 += MR) {
        int rows = m - i0 < MR ? m - i0 : MR;
        pack_a(a, i0, m, k0, kb, ap);
        for (int jp = 0; jp < nb; jp += NR) {
          int cols = nb - jp < NR ? nb - jp : NR;
          ukernel(kb, ap, bp + jp * kb, c + i0 * ldc + j0 + jp, ldc, acc, rows, cols);
        }
      }
    }
  }
}
