// The seed's CNN (Conv32-ReLU-AvgPool, Conv64-ReLU-AvgPool, Dense256-ReLU, Dense10) as hand-written
// WebAssembly SIMD kernels: forward, backward, and the SGD-momentum update, with NHWC activations and
// tfjs's weight layouts (conv HWIO, dense [in, out]) so weights move to and from tfjs unchanged.
//
// Every thread instantiates this module over one shared memory. C globals live in that memory and are
// therefore shared; each instance gets its own shadow stack from JS (__stack_pointer is exported).
// A training batch is cut into fixed shards, each shard's gradient is written to its own buffer and the
// buffers are summed in shard order, so results never depend on thread timing.
#include <stdint.h>
#include "gemm.h"

__attribute__((import_module("env"), import_name("exp"))) double js_exp(double);
__attribute__((import_module("env"), import_name("log"))) double js_log(double);

enum { IMG = 784, CLASSES = 10, C1 = 32, C2 = 64, HID = 256, FLAT = 3136 };
enum { W1 = 0, B1 = 288, W2 = 320, B2 = 18752, W3 = 18816, B3 = 821632, W4 = 821888, B4 = 824448, NPARAM = 824458 };
enum { SCRATCH = KC * MR + KC * NC, STACK = 64 * 1024 };

// What plan() laid out, read by every instance.
static struct {
  float *params, *velocity, *grads, *stats, *out, *predict_x;
  uint8_t *train_x, *train_y, *test_x, *test_y;
  int32_t *batch;
  float *work;       // per thread: activations for `rows` examples plus GEMM scratch
  int work_floats;   // floats of work per thread
  int rows;          // examples per thread at a time
  int shards, threads, out_rows;
  uint8_t *stack_top;
} L;

static uintptr_t bump(uintptr_t *at, uintptr_t bytes) {
  uintptr_t p = (*at + 63) & ~(uintptr_t)63;
  *at = p + bytes;
  return p;
}

// Lays out every buffer from `base` up; returns the first free byte. JS grows memory to it.
int plan(int base, int n_train, int n_test, int max_batch, int shards, int threads, int out_rows) {
  uintptr_t at = (uintptr_t)base;
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
  L.work_floats = r * (IMG + IMG * 9 + IMG * C1 + 196 * C1 + 196 * 288 + 196 * C2 + FLAT * 2 + HID + CLASSES * 2) + SCRATCH + 64;
  L.work = (float *)bump(&at, (uintptr_t)threads * L.work_floats * 4);
  L.stack_top = (uint8_t *)bump(&at, (uintptr_t)threads * STACK);
  return (int)bump(&at, 64);
}

enum { P_PARAMS, P_VELOCITY, P_GRADS, P_STATS, P_BATCH, P_OUT, P_PREDICT_X, P_TRAIN_X, P_TRAIN_Y, P_TEST_X, P_TEST_Y, P_STACK };
int ptr(int which, int index) {
  switch (which) {
    case P_PARAMS: return (int)L.params;
    case P_VELOCITY: return (int)L.velocity;
    case P_GRADS: return (int)(L.grads + (uintptr_t)index * NPARAM);
    case P_STATS: return (int)L.stats;
    case P_BATCH: return (int)L.batch;
    case P_OUT: return (int)L.out;
    case P_PREDICT_X: return (int)L.predict_x;
    case P_TRAIN_X: return (int)L.train_x;
    case P_TRAIN_Y: return (int)L.train_y;
    case P_TEST_X: return (int)L.test_x;
    case P_TEST_Y: return (int)L.test_y;
    case P_STACK: return (int)(L.stack_top + (uintptr_t)(index + 1) * STACK);
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
  k.x = w; w += r * IMG;
  k.col1 = w; w += r * IMG * 9;
  k.a1 = w; w += r * IMG * C1;
  k.p1 = w; w += r * 196 * C1;
  k.col2 = w; w += r * 196 * 288;
  k.a2 = w; w += r * 196 * C2;
  k.p2 = w; w += r * FLAT;
  k.dp2 = w; w += r * FLAT;
  k.h = w; w += r * HID;
  k.logits = w; w += r * CLASSES;
  k.dlogits = w; w += r * CLASSES;
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
  im2col3(k->x, n, 28, 28, 1, k->col1);
  gemm(n * 784, C1, 9, rowmajor(k->col1, 9), rowmajor(P + W1, C1), k->a1, C1, 0, k->scratch);
  bias_relu(k->a1, n * 784, C1, P + B1, 1);
  avgpool2(k->a1, n, 28, 28, C1, k->p1);
  im2col3(k->p1, n, 14, 14, C1, k->col2);
  gemm(n * 196, C2, 288, rowmajor(k->col2, 288), rowmajor(P + W2, C2), k->a2, C2, 0, k->scratch);
  bias_relu(k->a2, n * 196, C2, P + B2, 1);
  avgpool2(k->a2, n, 14, 14, C2, k->p2);
  gemm(n, HID, FLAT, rowmajor(k->p2, FLAT), rowmajor(P + W3, HID), k->h, HID, 0, k->scratch);
  bias_relu(k->h, n, HID, P + B3, 1);
  gemm(n, CLASSES, HID, rowmajor(k->h, HID), rowmajor(P + W4, CLASSES), k->logits, CLASSES, 0, k->scratch);
  bias_relu(k->logits, n, CLASSES, P + B4, 0);
}

// Softmax cross-entropy: returns the summed loss, counts argmax hits, and writes scale*(softmax-onehot).
static float softmax_xent(const float *z, const uint8_t *labels, const int32_t *index, int n, float scale, float *dz, float *correct) {
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
  // Dense10
  gemm(HID, CLASSES, n, transposed(k.h, HID), rowmajor(k.dlogits, CLASSES), G + W4, CLASSES, 0, k.scratch);
  bias_grad(k.dlogits, n, CLASSES, G + B4);
  float *dh = k.dp2;  // dh borrows dp2's space until dp2 is computed
  gemm(n, HID, CLASSES, rowmajor(k.dlogits, CLASSES), transposed(P + W4, CLASSES), dh, HID, 0, k.scratch);
  for (int i = 0; i < n * HID; i++) k.h[i] = k.h[i] > 0.0f ? dh[i] : 0.0f;  // h becomes dL/dz3
  // Dense256
  gemm(FLAT, HID, n, transposed(k.p2, FLAT), rowmajor(k.h, HID), G + W3, HID, 0, k.scratch);
  bias_grad(k.h, n, HID, G + B3);
  gemm(n, FLAT, HID, rowmajor(k.h, HID), transposed(P + W3, HID), k.dp2, FLAT, 0, k.scratch);
  // Conv64
  avgpool2_relu_back(k.dp2, n, 14, 14, C2, k.a2);
  gemm(288, C2, n * 196, transposed(k.col2, 288), rowmajor(k.a2, C2), G + W2, C2, 0, k.scratch);
  bias_grad(k.a2, n * 196, C2, G + B2);
  gemm(n * 196, 288, C2, rowmajor(k.a2, C2), transposed(P + W2, C2), k.col2, 288, 0, k.scratch);
  col2im3(k.col2, n, 14, 14, C1, k.p1);
  // Conv32 (no input gradient needed)
  avgpool2_relu_back(k.p1, n, 28, 28, C1, k.a1);
  gemm(9, C1, n * 784, transposed(k.col1, 9), rowmajor(k.a1, C1), G + W1, C1, 0, k.scratch);
  bias_grad(k.a1, n * 784, C1, G + B1);
}

// Heavy-ball SGD as optax does it: v = momentum*v + g; p -= lr*v, with g the shard gradients summed in order.
// Each thread takes a contiguous slice of the parameters.
void update(int thread, float lr, float momentum) {
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
  work_t k = work_of(thread);
  for (int c0 = thread * L.rows; c0 < count; c0 += L.threads * L.rows) {
    int n = count - c0 < L.rows ? count - c0 : L.rows;
    load_images(source, start + c0, 0, n, k.x);
    forward(&k, L.params, n);
    for (int i = 0; i < n * CLASSES; i++) L.out[(uintptr_t)c0 * CLASSES + i] = k.logits[i];
  }
}
