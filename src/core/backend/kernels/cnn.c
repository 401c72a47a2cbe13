// The seed's CNN (Conv32-ReLU-AvgPool, Conv64-ReLU-AvgPool, Dense256-ReLU, Dense K) as hand-written
// SIMD kernels (WebAssembly, and natively AVX2/AVX-512 through gemm.h's vector layer): forward, backward,
// and the SGD-momentum update, with NHWC activations and
// tfjs's weight layouts (conv HWIO, dense [in, out]) so weights move to and from tfjs unchanged.
//
// Every thread instantiates this module over one shared memory. C globals live in that memory and are
// therefore shared; each instance gets its own shadow stack from JS (__stack_pointer is exported).
// A training batch is cut into fixed shards, each shard's gradient is written to its own buffer and the
// buffers are summed in shard order, so results never depend on thread timing.
//
// The input shape (H x W x C, H and W multiples of 4) and the class count K come from plan(), so one binary
// serves every ModelSpec; the layer widths (32, 64, 256) are the seed's and stay compile-time constants.
//
// The native engine (native/addon.c) compiles this same file once per x86 ISA, each copy with its names
// prefixed (KERNEL_PREFIX); there the state is per engine, reached through a thread-local pointer that
// the addon binds on every thread before it calls in (several engines may live in one process).
#include <stdint.h>
#include "gemm.h"

#if defined(__wasm__)
__attribute__((import_module("env"), import_name("exp"))) double js_exp(double);
__attribute__((import_module("env"), import_name("log"))) double js_log(double);
#else
#include <math.h>
#define js_exp exp
#define js_log log
#define NAMED_(prefix, name) prefix##name
#define NAMED(prefix, name) NAMED_(prefix, name)
#define plan NAMED(KERNEL_PREFIX, plan)
#define ptr NAMED(KERNEL_PREFIX, ptr)
#define train_shard NAMED(KERNEL_PREFIX, train_shard)
#define update NAMED(KERNEL_PREFIX, update)
#define infer NAMED(KERNEL_PREFIX, infer)
#define bind_state NAMED(KERNEL_PREFIX, bind_state)
#define state_bytes NAMED(KERNEL_PREFIX, state_bytes)
#define param_count NAMED(KERNEL_PREFIX, param_count)
#endif

enum { C1 = 32, C2 = 64, HID = 256 };
enum { SCRATCH = KC * MR + KC * NC, STACK = 64 * 1024 };

// The shapes of the network plan() was given, and the offsets of its parameters in tfjs order.
typedef struct {
  int h, w, c, classes;
  int hw, h2, w2, hw2, h4, w4;  // pixels at full, half and quarter resolution
  int img, k1, k2, flat;        // values per image, conv patch lengths (9c, 9*C1), flattened features
  int dp2;                      // floats per example of dp2, which dh borrows first: the larger of flat and HID
  int w1, b1, w2_, b2, w3, b3, w4_, b4, nparam;
} shapes_t;

// What plan() laid out, read by every instance.
typedef struct {
  float *params, *velocity, *grads, *stats, *out, *predict_x;
  uint8_t *train_x, *train_y, *test_x, *test_y;
  int32_t *batch;
  float *work;       // per thread: activations for `rows` examples plus GEMM scratch
  int work_floats;   // floats of work per thread
  int rows;          // examples per thread at a time
  int shards, threads, out_rows;
  uint8_t *stack_top;
} layout_t;

#if defined(__wasm__)
// Each engine has its own memory, so its own globals.
static shapes_t S;
static layout_t L;
#else
typedef struct {
  shapes_t s;
  layout_t l;
} state_t;
static __thread state_t *bound __attribute__((tls_model("initial-exec")));
#define S (bound->s)
#define L (bound->l)
int state_bytes(void) { return (int)sizeof(state_t); }
void bind_state(void *state) { bound = (state_t *)state; }
int param_count(void) { return S.nparam; }
#endif

static void shapes(int h, int w, int c, int classes) {
  S.h = h; S.w = w; S.c = c; S.classes = classes;
  S.hw = h * w; S.h2 = h / 2; S.w2 = w / 2; S.hw2 = S.h2 * S.w2; S.h4 = h / 4; S.w4 = w / 4;
  S.img = S.hw * c; S.k1 = 9 * c; S.k2 = 9 * C1; S.flat = S.h4 * S.w4 * C2;
  S.dp2 = S.flat > HID ? S.flat : HID;
  S.w1 = 0; S.b1 = S.w1 + S.k1 * C1;
  S.w2_ = S.b1 + C1; S.b2 = S.w2_ + S.k2 * C2;
  S.w3 = S.b2 + C2; S.b3 = S.w3 + S.flat * HID;
  S.w4_ = S.b3 + HID; S.b4 = S.w4_ + HID * classes;
  S.nparam = S.b4 + classes;
}

static uintptr_t bump(uintptr_t *at, uintptr_t bytes) {
  uintptr_t p = (*at + 63) & ~(uintptr_t)63;
  *at = p + bytes;
  return p;
}

// Lays out every buffer from `base` up for a network on h x w x c inputs with `classes` outputs;
// returns the first free byte. JS grows memory to it.
uintptr_t plan(uintptr_t base, int n_train, int n_test, int max_batch, int shards, int threads, int out_rows, int h, int w, int c, int classes) {
  shapes(h, w, c, classes);
  int IMG = S.img, NPARAM = S.nparam, CLASSES = S.classes, FLAT = S.flat;
  uintptr_t at = base;
  L.shards = shards;
  L.threads = threads;
  L.out_rows = out_rows;
  L.rows = (max_batch + shards - 1) / shards;
  L.params = (float *)bump(&at, NPARAM * 4);
  L.velocity = (float *)bump(&at, NPARAM * 4);
  L.grads = (float *)bump(&at, (uintptr_t)shards * NPARAM * 4);
  L.stats = (float *)bump(&at, (uintptr_t)shards * 2 * 4);
  L.batch = (int32_t *)bump(&at, (uintptr_t)max_batch * 4);
  L.out = (float *)bump(&at, (uintptr_t)out_rows * CLASSES * 4);
  L.predict_x = (float *)bump(&at, (uintptr_t)out_rows * IMG * 4);
  L.train_x = (uint8_t *)bump(&at, (uintptr_t)n_train * IMG);
  L.train_y = (uint8_t *)bump(&at, (uintptr_t)n_train);
  L.test_x = (uint8_t *)bump(&at, (uintptr_t)n_test * IMG);
  L.test_y = (uint8_t *)bump(&at, (uintptr_t)n_test);
  int r = L.rows;
  L.work_floats = r * (IMG + IMG * 9 + S.hw * C1 + S.hw2 * C1 + S.hw2 * S.k2 + S.hw2 * C2 + FLAT + S.dp2 + HID + CLASSES * 2) + SCRATCH + 64;
  L.work = (float *)bump(&at, (uintptr_t)threads * L.work_floats * 4);
  L.stack_top = (uint8_t *)bump(&at, (uintptr_t)threads * STACK);
  return bump(&at, 64);
}

enum { P_PARAMS, P_VELOCITY, P_GRADS, P_STATS, P_BATCH, P_OUT, P_PREDICT_X, P_TRAIN_X, P_TRAIN_Y, P_TEST_X, P_TEST_Y, P_STACK };
uintptr_t ptr(int which, int index) {
  switch (which) {
    case P_PARAMS: return (uintptr_t)(L.params);
    case P_VELOCITY: return (uintptr_t)(L.velocity);
    case P_GRADS: return (uintptr_t)(L.grads + (uintptr_t)index * S.nparam);
    case P_STATS: return (uintptr_t)(L.stats);
    case P_BATCH: return (uintptr_t)(L.batch);
    case P_OUT: return (uintptr_t)(L.out);
    case P_PREDICT_X: return (uintptr_t)(L.predict_x);
    case P_TRAIN_X: return (uintptr_t)(L.train_x);
    case P_TRAIN_Y: return (uintptr_t)(L.train_y);
    case P_TEST_X: return (uintptr_t)(L.test_x);
    case P_TEST_Y: return (uintptr_t)(L.test_y);
    case P_STACK: return (uintptr_t)(L.stack_top + (uintptr_t)(index + 1) * STACK);
  }
  return 0;
}

// Per-thread activations. Backward passes overwrite forward buffers once they are no longer needed.
typedef struct {
  float *x, *col1, *a1, *p1, *col2, *a2, *p2, *h, *logits, *dlogits, *dp2, *scratch;
} work_t;

static work_t work_of(int thread) {
  float *w = L.work + (uintptr_t)thread * L.work_floats;
  int r = L.rows;
  work_t k;
  k.x = w; w += r * S.img;
  k.col1 = w; w += r * S.img * 9;
  k.a1 = w; w += r * S.hw * C1;
  k.p1 = w; w += r * S.hw2 * C1;
  k.col2 = w; w += r * S.hw2 * S.k2;
  k.a2 = w; w += r * S.hw2 * C2;
  k.p2 = w; w += r * S.flat;
  k.dp2 = w; w += r * S.dp2;
  k.h = w; w += r * HID;
  k.logits = w; w += r * S.classes;
  k.dlogits = w; w += r * S.classes;
  k.scratch = (float *)(((uintptr_t)w + 63) & ~(uintptr_t)63);
  return k;
}

static view_t rowmajor(const float *p, int cols) { view_t v = {p, cols, 1}; return v; }
static view_t transposed(const float *p, int cols) { view_t v = {p, 1, cols}; return v; }

// 3x3 SAME patches: col[(b*h+y)*w+x][(ky*3+kx)*c+ci], matching an HWIO kernel read as [9c, out].
static void im2col3(const float *x, int n, int h, int w, int c, float *col) {
  for (int b = 0; b < n; b++)
    for (int y = 0; y < h; y++)
      for (int xx = 0; xx < w; xx++) {
        float *dst = col + ((b * h + y) * w + xx) * 9 * c;
        for (int ky = 0; ky < 3; ky++) {
          int sy = y + ky - 1;
          for (int kx = 0; kx < 3; kx++, dst += c) {
            int sx = xx + kx - 1;
            if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
              for (int i = 0; i < c; i++) dst[i] = 0.0f;
            } else {
              const float *src = x + ((b * h + sy) * w + sx) * c;
              for (int i = 0; i < c; i++) dst[i] = src[i];
            }
          }
        }
      }
}

// The adjoint of im2col3: scatter-adds patch gradients back onto the image.
static void col2im3(const float *col, int n, int h, int w, int c, float *dx) {
  for (int i = 0; i < n * h * w * c; i++) dx[i] = 0.0f;
  for (int b = 0; b < n; b++)
    for (int y = 0; y < h; y++)
      for (int xx = 0; xx < w; xx++) {
        const float *src = col + ((b * h + y) * w + xx) * 9 * c;
        for (int ky = 0; ky < 3; ky++) {
          int sy = y + ky - 1;
          for (int kx = 0; kx < 3; kx++, src += c) {
            int sx = xx + kx - 1;
            if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
            float *dst = dx + ((b * h + sy) * w + sx) * c;
            for (int i = 0; i < c; i++) dst[i] += src[i];
          }
        }
      }
}

static void bias_relu(float *z, int rows, int n, const float *bias, int relu) {
  for (int r = 0; r < rows; r++, z += n)
    for (int j = 0; j < n; j++) {
      float v = z[j] + bias[j];
      z[j] = relu && v < 0.0f ? 0.0f : v;
    }
}

static void avgpool2(const float *x, int n, int h, int w, int c, float *y) {
  int oh = h / 2, ow = w / 2;
  for (int b = 0; b < n; b++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++) {
        const float *s0 = x + ((b * h + 2 * oy) * w + 2 * ox) * c, *s1 = s0 + w * c;
        float *d = y + ((b * oh + oy) * ow + ox) * c;
        for (int i = 0; i < c; i++) d[i] = 0.25f * (s0[i] + s0[c + i] + s1[i] + s1[c + i]);
      }
}

// Through the pool and the ReLU before it, in place: a (the ReLU output) becomes dL/dz.
static void avgpool2_relu_back(const float *dy, int n, int h, int w, int c, float *a) {
  int oh = h / 2, ow = w / 2;
  for (int b = 0; b < n; b++)
    for (int y = 0; y < h; y++)
      for (int xx = 0; xx < w; xx++) {
        const float *g = dy + ((b * oh + y / 2) * ow + xx / 2) * c;
        float *d = a + ((b * h + y) * w + xx) * c;
        for (int i = 0; i < c; i++) d[i] = d[i] > 0.0f ? 0.25f * g[i] : 0.0f;
      }
}

static void bias_grad(const float *dz, int rows, int n, float *db) {
  for (int j = 0; j < n; j++) db[j] = 0.0f;
  for (int r = 0; r < rows; r++, dz += n)
    for (int j = 0; j < n; j++) db[j] += dz[j];
}

static void load_images(int source, int row0, const int32_t *index, int n, float *x) {
  int IMG = S.img;
  for (int b = 0; b < n; b++) {
    int i = index ? index[b] : row0 + b;
    if (source == 2) {
      const float *src = L.predict_x + (uintptr_t)i * IMG;
      for (int p = 0; p < IMG; p++) x[b * IMG + p] = src[p];
    } else {
      const uint8_t *src = (source == 0 ? L.train_x : L.test_x) + (uintptr_t)i * IMG;
      for (int p = 0; p < IMG; p++) x[b * IMG + p] = (float)src[p] * (1.0f / 255.0f);
    }
  }
}

static void forward(work_t *k, const float *P, int n) {
  int K = S.classes, FLAT = S.flat;
  // Greyscale gets its own copy of the patch loop, with the channel loop known to run once (as it was
  // when the input was the literal 28x28x1): the first layer's im2col is a noticeable part of a step.
  if (S.c == 1) im2col3(k->x, n, S.h, S.w, 1, k->col1);
  else im2col3(k->x, n, S.h, S.w, S.c, k->col1);
  gemm(n * S.hw, C1, S.k1, rowmajor(k->col1, S.k1), rowmajor(P + S.w1, C1), k->a1, C1, 0, k->scratch);
  bias_relu(k->a1, n * S.hw, C1, P + S.b1, 1);
  avgpool2(k->a1, n, S.h, S.w, C1, k->p1);
  im2col3(k->p1, n, S.h2, S.w2, C1, k->col2);
  gemm(n * S.hw2, C2, S.k2, rowmajor(k->col2, S.k2), rowmajor(P + S.w2_, C2), k->a2, C2, 0, k->scratch);
  bias_relu(k->a2, n * S.hw2, C2, P + S.b2, 1);
  avgpool2(k->a2, n, S.h2, S.w2, C2, k->p2);
  gemm(n, HID, FLAT, rowmajor(k->p2, FLAT), rowmajor(P + S.w3, HID), k->h, HID, 0, k->scratch);
  bias_relu(k->h, n, HID, P + S.b3, 1);
  gemm(n, K, HID, rowmajor(k->h, HID), rowmajor(P + S.w4_, K), k->logits, K, 0, k->scratch);
  bias_relu(k->logits, n, K, P + S.b4, 0);
}

// Softmax cross-entropy: returns the summed loss, counts argmax hits, and writes scale*(softmax-onehot).
static float softmax_xent(const float *z, const uint8_t *labels, const int32_t *index, int n, float scale, float *dz, float *correct) {
  int CLASSES = S.classes;
  float total = 0.0f;
  for (int b = 0; b < n; b++, z += CLASSES) {
    int label = labels[index[b]], best = 0;
    float mx = z[0];
    for (int j = 1; j < CLASSES; j++) if (z[j] > mx) { mx = z[j]; best = j; }
    double sum = 0.0;
    for (int j = 0; j < CLASSES; j++) sum += js_exp((double)(z[j] - mx));
    float lse = mx + (float)js_log(sum);
    total += lse - z[label];
    if (best == label) *correct += 1.0f;
    if (dz)
      for (int j = 0; j < CLASSES; j++)
        dz[b * CLASSES + j] = scale * ((float)js_exp((double)(z[j] - lse)) - (j == label ? 1.0f : 0.0f));
  }
  return total;
}

// Forward and backward for shard `shard` of the `batch` indices in L.batch; gradients go to the shard's
// own buffer (already divided by the whole batch size), loss sum and hits to its stats.
void train_shard(int shard, int thread, int batch) {
  int NPARAM = S.nparam, CLASSES = S.classes, FLAT = S.flat;
  int lo = shard * batch / L.shards, hi = (shard + 1) * batch / L.shards, n = hi - lo;
  const float *P = L.params;
  float *G = L.grads + (uintptr_t)shard * NPARAM, *st = L.stats + shard * 2;
  work_t k = work_of(thread);
  st[0] = st[1] = 0.0f;
  if (n == 0) {
    for (int i = 0; i < NPARAM; i++) G[i] = 0.0f;
    return;
  }
  load_images(0, 0, L.batch + lo, n, k.x);
  forward(&k, P, n);
  st[0] = softmax_xent(k.logits, L.train_y, L.batch + lo, n, 1.0f / (float)batch, k.dlogits, &st[1]);
  // Dense K
  gemm(HID, CLASSES, n, transposed(k.h, HID), rowmajor(k.dlogits, CLASSES), G + S.w4_, CLASSES, 0, k.scratch);
  bias_grad(k.dlogits, n, CLASSES, G + S.b4);
  float *dh = k.dp2;  // dh borrows dp2's space until dp2 is computed
  gemm(n, HID, CLASSES, rowmajor(k.dlogits, CLASSES), transposed(P + S.w4_, CLASSES), dh, HID, 0, k.scratch);
  for (int i = 0; i < n * HID; i++) k.h[i] = k.h[i] > 0.0f ? dh[i] : 0.0f;  // h becomes dL/dz3
  // Dense256
  gemm(FLAT, HID, n, transposed(k.p2, FLAT), rowmajor(k.h, HID), G + S.w3, HID, 0, k.scratch);
  bias_grad(k.h, n, HID, G + S.b3);
  gemm(n, FLAT, HID, rowmajor(k.h, HID), transposed(P + S.w3, HID), k.dp2, FLAT, 0, k.scratch);
  // Conv64
  avgpool2_relu_back(k.dp2, n, S.h2, S.w2, C2, k.a2);
  gemm(S.k2, C2, n * S.hw2, transposed(k.col2, S.k2), rowmajor(k.a2, C2), G + S.w2_, C2, 0, k.scratch);
  bias_grad(k.a2, n * S.hw2, C2, G + S.b2);
  gemm(n * S.hw2, S.k2, C2, rowmajor(k.a2, C2), transposed(P + S.w2_, C2), k.col2, S.k2, 0, k.scratch);
  col2im3(k.col2, n, S.h2, S.w2, C1, k.p1);
  // Conv32 (no input gradient needed)
  avgpool2_relu_back(k.p1, n, S.h, S.w, C1, k.a1);
  gemm(S.k1, C1, n * S.hw, transposed(k.col1, S.k1), rowmajor(k.a1, C1), G + S.w1, C1, 0, k.scratch);
  bias_grad(k.a1, n * S.hw, C1, G + S.b1);
}

// Heavy-ball SGD as optax does it: v = momentum*v + g; p -= lr*v, with g the shard gradients summed in order.
// Each thread takes a contiguous slice of the parameters.
void update(int thread, float lr, float momentum) {
  int NPARAM = S.nparam;
  int per = ((NPARAM + L.threads - 1) / L.threads + 3) & ~3;
  int lo = thread * per, hi = lo + per < NPARAM ? lo + per : NPARAM;
  float *p = L.params, *v = L.velocity;
  for (int i = lo; i < hi; i++) {
    float g = L.grads[i];
    for (int s = 1; s < L.shards; s++) g += L.grads[(uintptr_t)s * NPARAM + i];
    v[i] = momentum * v[i] + g;
    p[i] -= lr * v[i];
  }
}

// Logits for rows [start, start+count) of a source (0 train, 1 test, 2 predict_x) into L.out;
// this thread takes every threads-th chunk of L.rows examples.
void infer(int source, int start, int count, int thread) {
  int CLASSES = S.classes;
  work_t k = work_of(thread);
  for (int c0 = thread * L.rows; c0 < count; c0 += L.threads * L.rows) {
    int n = count - c0 < L.rows ? count - c0 : L.rows;
    load_images(source, start + c0, 0, n, k.x);
    forward(&k, L.params, n);
    for (int i = 0; i < n * CLASSES; i++) L.out[(uintptr_t)c0 * CLASSES + i] = k.logits[i];
  }
}
