// Blocked single-precision GEMM: C (+)= op(A) * op(B), written once over a small vector layer (vf) that
// each target fills in: wasm SIMD128 (4 lanes; with relaxed SIMD, fused multiply-add), AVX2+FMA (8 lanes)
// and AVX-512 (16 lanes) for the native engine. The tile is MR rows by NR = 2 vectors of columns, MR as
// many as the target's registers hold; each C element still sums its k terms in order, so every target
// computes the same values up to the rounding of a fused multiply-add.
// Operands are addressed through (row, column) strides, so transposed views cost nothing:
// packing gathers them into contiguous panels that the micro-kernel streams through.
#pragma once

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define VW 4
#define MR 4
typedef v128_t vf;
static inline vf vload(const float *p) { return wasm_v128_load(p); }
static inline void vstore(float *p, vf v) { wasm_v128_store(p, v); }
static inline vf vzero(void) { return wasm_f32x4_splat(0); }
static inline vf vbroadcast(const float *p) { return wasm_v128_load32_splat(p); }
static inline vf vadd(vf a, vf b) { return wasm_f32x4_add(a, b); }
#if defined(__wasm_relaxed_simd__)
// clang 16's wasm_simd128.h predates the relaxed intrinsics; the builtin is f32x4.relaxed_madd.
static inline vf vmadd(vf a, vf b, vf c) { return (vf)__builtin_wasm_relaxed_madd_f32x4((__f32x4)a, (__f32x4)b, (__f32x4)c); }
#else
static inline vf vmadd(vf a, vf b, vf c) { return wasm_f32x4_add(c, wasm_f32x4_mul(a, b)); }
#endif
#else
#include <immintrin.h>
// AVX2 and AVX-512 name the same operations alike but for the prefix (_mm256_, _mm512_).
#define X86_VECTOR_LAYER(type, prefix)                                                         \
  typedef type vf;                                                                             \
  static inline vf vload(const float *p) { return prefix##loadu_ps(p); }                       \
  static inline void vstore(float *p, vf v) { prefix##storeu_ps(p, v); }                       \
  static inline vf vzero(void) { return prefix##setzero_ps(); }                                \
  static inline vf vbroadcast(const float *p) { return prefix##set1_ps(*p); }                  \
  static inline vf vadd(vf a, vf b) { return prefix##add_ps(a, b); }                           \
  static inline vf vmadd(vf a, vf b, vf c) { return prefix##fmadd_ps(a, b, c); }
#if defined(__AVX512F__)
#define VW 16
#define MR 8
X86_VECTOR_LAYER(__m512, _mm512_)
#elif defined(__AVX2__) && defined(__FMA__)
#define VW 8
#define MR 6
X86_VECTOR_LAYER(__m256, _mm256_)
#else
#error "gemm.h needs wasm SIMD128, AVX2+FMA or AVX-512"
#endif
#endif

#define NV 2
#define NR (NV * VW)
#define KC 256
#define NC 512

typedef struct {
  const float *p;
  int rs, cs; // element (i, j) lives at p[i * rs + j * cs]
} view_t;

// Packs rows [i0, i0+MR) x columns [k0, k0+kb) of A into ap[k * MR + r], zero-filling rows past m.
static void pack_a(view_t a, int i0, int m, int k0, int kb, float *ap) {
  if (a.rs == 1 && i0 + MR <= m) {
    // A transposed view (a weight gradient's A): each k's MR values are adjacent, so read them in order.
    const float *src = a.p + i0 + k0 * a.cs;
    for (int k = 0; k < kb; k++, src += a.cs)
      for (int r = 0; r < MR; r++) ap[k * MR + r] = src[r];
    return;
  }
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
        for (int v = 0; v < NV; v++) vstore(dst + v * VW, vload(src + v * VW));
      } else {
        int j = 0;
        for (; j < w; j++) dst[j] = src[j * b.cs];
        for (; j < NR; j++) dst[j] = 0.0f;
      }
    }
  }
}

// One MR x NR tile over kb packed steps. acc: add to what C holds; rows x cols: the part inside C.
// The loops have constant bounds and unroll fully, leaving the accumulators in registers.
static void ukernel(int kb, const float *ap, const float *bp, float *c, int ldc, int acc, int rows, int cols) {
  vf t_[MR][NV];
  for (int r = 0; r < MR; r++)
    for (int v = 0; v < NV; v++) t_[r][v] = vzero();
  for (int k = 0; k < kb; k++) {
    vf b[NV];
    for (int v = 0; v < NV; v++) b[v] = vload(bp + v * VW);
    for (int r = 0; r < MR; r++) {
      vf a = vbroadcast(ap + r);
      for (int v = 0; v < NV; v++) t_[r][v] = vmadd(a, b[v], t_[r][v]);
    }
    ap += MR;
    bp += NR;
  }
  if (rows == MR && cols == NR) {
    for (int r = 0; r < MR; r++)
      for (int v = 0; v < NV; v++) {
        float *at = c + r * ldc + v * VW;
        vstore(at, acc ? vadd(t_[r][v], vload(at)) : t_[r][v]);
      }
    return;
  }
  // Edge tile: spill to a small buffer in registers' order, then copy the part inside C.
  float t[MR * NR] __attribute__((aligned(64)));
  for (int r = 0; r < MR; r++)
    for (int v = 0; v < NV; v++) vstore(t + r * NR + v * VW, t_[r][v]);
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
