// The native engine's Node-API addon: kernels/cnn.c compiled for AVX2+FMA and for AVX-512 (two copies of
// the same source, names prefixed avx2_ and avx512_), the copy to run picked by CPUID when an engine is made.
// This file itself is built for baseline x86-64, so it loads (and says why not) on any x86-64 CPU.
//
// The addon owns its memory (malloc) and its threads (pthreads): inside Electron the V8 sandbox forbids
// external ArrayBuffers, so nothing here is handed to JavaScript by pointer; parameters, logits and
// indices are copied across, into buffers V8 allocated. Node-API keeps it ABI-stable across Node and Electron.
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KERNELS(prefix)                                                                                          \
  uintptr_t prefix##plan(uintptr_t, int, int, int, int, int, int, int, int, int, int);                           \
  uintptr_t prefix##ptr(int, int);                                                                               \
  void prefix##train_shard(int, int, int);                                                                       \
  void prefix##update(int, float, float);                                                                        \
  void prefix##infer(int, int, int, int);                                                                        \
  void prefix##bind_state(void *);                                                                               \
  int prefix##state_bytes(void);                                                                                 \
  int prefix##param_count(void);
KERNELS(avx2_)
KERNELS(avx512_)

typedef struct {
  const char *name;
  uintptr_t (*plan)(uintptr_t, int, int, int, int, int, int, int, int, int, int);
  uintptr_t (*ptr)(int, int);
  void (*train_shard)(int, int, int);
  void (*update)(int, float, float);
  void (*infer)(int, int, int, int);
  void (*bind_state)(void *);
  int (*state_bytes)(void);
  int (*param_count)(void);
} isa_t;

#define ISA(label, prefix)                                                                                       \
  {label, prefix##plan, prefix##ptr, prefix##train_shard, prefix##update, prefix##infer, prefix##bind_state,   \
   prefix##state_bytes, prefix##param_count}
static const isa_t AVX512 = ISA("AVX-512", avx512_), AVX2 = ISA("AVX2", avx2_);

// ptr()'s selectors (P_* in cnn.c).
enum { P_PARAMS, P_VELOCITY, P_GRADS, P_STATS, P_BATCH, P_OUT, P_PREDICT_X, P_TRAIN_X, P_TRAIN_Y, P_TEST_X, P_TEST_Y };
enum { OP_TRAIN = 1, OP_UPDATE = 2, OP_INFER = 3 };
#define MAX_THREADS 64

// The best build this CPU (and its OS, which must save the wider registers) runs, or NULL.
static const isa_t *best_isa(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return &AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &AVX2;
  return NULL;
}

typedef struct {
  const isa_t *isa;
  void *state, *memory;
  int threads, shards, classes, img, nparam, n_train, n_test, max_batch, out_rows;
  pthread_t helpers[MAX_THREADS];
  int started;
  pthread_mutex_t mu;
  pthread_cond_t go, done;
  int gen, op, pending, exiting;
  int args[3];
  float fargs[2];
} engine_t;

typedef struct {
  engine_t *e;
  int thread;
} helper_arg;

// The same division of work as the wasm engine's runOp (kernelThreads.ts): shards round-robin over threads.
static void run_op(engine_t *e, int op, int thread) {
  if (op == OP_TRAIN) {
    for (int s = thread; s < e->shards; s += e->threads) e->isa->train_shard(s, thread, e->args[0]);
  } else if (op == OP_UPDATE) {
    e->isa->update(thread, e->fargs[0], e->fargs[1]);
  } else if (op == OP_INFER) {
    e->isa->infer(e->args[0], e->args[1], e->args[2], thread);
  }
}

static void *helper_main(void *p) {
  helper_arg a = *(helper_arg *)p;
  free(p);
  engine_t *e = a.e;
  e->isa->bind_state(e->state);
  int seen = 0;
  for (;;) {
    pthread_mutex_lock(&e->mu);
    while (e->gen == seen && !e->exiting) pthread_cond_wait(&e->go, &e->mu);
    if (e->exiting) {
      pthread_mutex_unlock(&e->mu);
      return NULL;
    }
    seen = e->gen;
    int op = e->op;
    pthread_mutex_unlock(&e->mu);
    run_op(e, op, a.thread);
    pthread_mutex_lock(&e->mu);
    if (--e->pending == 0) pthread_cond_signal(&e->done);
    pthread_mutex_unlock(&e->mu);
  }
}

// Runs op on every thread (the caller is thread 0) and returns when all are done.
static void run(engine_t *e, int op) {
  e->isa->bind_state(e->state);
  pthread_mutex_lock(&e->mu);
  e->op = op;
  e->pending = e->threads - 1;
  e->gen++;
  pthread_cond_broadcast(&e->go);
  pthread_mutex_unlock(&e->mu);
  run_op(e, op, 0);
  pthread_mutex_lock(&e->mu);
  while (e->pending > 0) pthread_cond_wait(&e->done, &e->mu);
  pthread_mutex_unlock(&e->mu);
}

static void destroy(engine_t *e) {
  if (!e) return;
  pthread_mutex_lock(&e->mu);
  e->exiting = 1;
  pthread_cond_broadcast(&e->go);
  pthread_mutex_unlock(&e->mu);
  for (int t = 0; t < e->started; t++) pthread_join(e->helpers[t], NULL);
  pthread_mutex_destroy(&e->mu);
  pthread_cond_destroy(&e->go);
  pthread_cond_destroy(&e->done);
  free(e->memory);
  free(e->state);
  free(e);
}

// ---- Node-API glue: every argument is checked, every failure is one thrown error with a plain message.

#define CHECK(call)                                                                                              \
  do {                                                                                                           \
    if ((call) != napi_ok) return fail(env, "internal Node-API call failed: " #call);                           \
  } while (0)

static napi_value fail(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) return 0;
  return 1;
}

static int get_int(napi_env env, napi_value v, int lo, int hi, int *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= lo && d <= hi) || d != (double)(int)d) return 0;
  *out = (int)d;
  return 1;
}

static int get_float(napi_env env, napi_value v, float *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d != d) return 0;
  *out = (float)d;
  return 1;
}

// A typed array of the given type; its data and element count.
static int get_array(napi_env env, napi_value v, napi_typedarray_type type, void **data, size_t *length) {
  bool is;
  napi_typedarray_type t;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  if (napi_get_typedarray_info(env, v, &t, length, data, NULL, NULL) != napi_ok || t != type) return 0;
  return 1;
}

static engine_t *get_engine(napi_env env, napi_value v) {
  void *p = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  engine_t **slot = p;
  return *slot;
}

static napi_value new_floats(napi_env env, const float *src, size_t n) {
  void *data;
  napi_value buffer, array;
  if (napi_create_arraybuffer(env, n * 4, &data, &buffer) != napi_ok) return fail(env, "out of memory for a result");
  memcpy(data, src, n * 4);
  if (napi_create_typedarray(env, napi_float32_array, n, buffer, 0, &array) != napi_ok) return fail(env, "out of memory for a result");
  return array;
}

// isa(): "AVX-512" or "AVX2" for the build this CPU runs, or throws saying why there is none.
static napi_value js_isa(napi_env env, napi_callback_info info) {
  (void)info;
  const isa_t *isa = best_isa();
  if (!isa) return fail(env, "this CPU has neither AVX-512 nor AVX2 with FMA");
  napi_value s;
  CHECK(napi_create_string_utf8(env, isa->name, NAPI_AUTO_LENGTH, &s));
  return s;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  engine_t **slot = data;
  destroy(*slot);
  free(slot);
}

// create(trainX, trainY, testX, testY, maxBatch, threads, outRows, h, w, c, classes, isa): an engine handle.
// isa "AVX2" asks for that build on a CPU that has more (tests compare the two); anything else takes the best.
static napi_value js_create(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  if (!get_args(env, info, 12, argv)) return fail(env, "create takes 12 arguments");
  void *x[4];
  size_t len[4];
  for (int i = 0; i < 4; i++)
    if (!get_array(env, argv[i], napi_uint8_array, &x[i], &len[i])) return fail(env, "create: images and labels must be Uint8Arrays");
  int max_batch, threads, out_rows, h, w, c, classes;
  if (!get_int(env, argv[4], 1, 1 << 16, &max_batch) || !get_int(env, argv[5], 1, MAX_THREADS, &threads) ||
      !get_int(env, argv[6], 1, 1 << 16, &out_rows) || !get_int(env, argv[7], 4, 4096, &h) || !get_int(env, argv[8], 4, 4096, &w) ||
      !get_int(env, argv[9], 1, 16, &c) || !get_int(env, argv[10], 2, 4096, &classes) || h % 4 || w % 4)
    return fail(env, "create: a size is out of range");
  const isa_t *isa = best_isa();
  if (!isa) return fail(env, "this CPU has neither AVX-512 nor AVX2 with FMA");
  char wanted[16] = "";
  size_t n;
  napi_get_value_string_utf8(env, argv[11], wanted, sizeof wanted, &n);
  if (!strcmp(wanted, "AVX2")) isa = &AVX2;
  size_t img = (size_t)h * w * c;
  if (len[0] != len[1] * img || len[2] != len[3] * img) return fail(env, "create: images and labels disagree in count");
  if (len[1] > INT32_MAX - (size_t)max_batch || len[3] > INT32_MAX || (double)(len[0] + len[2]) > 1e11) return fail(env, "create: the dataset is too large");
  for (size_t i = 0; i < len[1]; i++)
    if (((uint8_t *)x[1])[i] >= classes) return fail(env, "create: a training label is not a class");
  for (size_t i = 0; i < len[3]; i++)
    if (((uint8_t *)x[3])[i] >= classes) return fail(env, "create: a test label is not a class");

  engine_t *e = calloc(1, sizeof *e);
  if (!e) return fail(env, "out of memory for the engine");
  e->isa = isa;
  e->state = calloc(1, (size_t)isa->state_bytes());
  e->threads = threads;
  e->shards = threads;  // one shard per thread, as the wasm engine: the shard count fixes the summation order
  e->classes = classes;
  e->img = (int)img;
  e->n_train = (int)len[1];
  e->n_test = (int)len[3];
  e->max_batch = max_batch;
  e->out_rows = out_rows;
  pthread_mutex_init(&e->mu, NULL);
  pthread_cond_init(&e->go, NULL);
  pthread_cond_init(&e->done, NULL);
  if (!e->state) return destroy(e), fail(env, "out of memory for the engine");
  isa->bind_state(e->state);
  // Size the layout from a plan at 0, then lay it out for real in one aligned block.
  // max_batch rows past the train set: the batch slot an augmented batch is written to (as in the wasm engine).
  uintptr_t bytes = isa->plan(0, e->n_train + max_batch, e->n_test, max_batch, e->shards, threads, out_rows, h, w, c, classes);
  if (posix_memalign(&e->memory, 64, bytes + 64)) {
    e->memory = NULL;
    destroy(e);
    return fail(env, "out of memory for the engine's buffers");
  }
  memset(e->memory, 0, bytes);
  isa->plan((uintptr_t)e->memory, e->n_train + max_batch, e->n_test, max_batch, e->shards, threads, out_rows, h, w, c, classes);
  e->nparam = isa->param_count();
  memcpy((void *)isa->ptr(P_TRAIN_X, 0), x[0], len[0]);
  memcpy((void *)isa->ptr(P_TRAIN_Y, 0), x[1], len[1]);
  memcpy((void *)isa->ptr(P_TEST_X, 0), x[2], len[2]);
  memcpy((void *)isa->ptr(P_TEST_Y, 0), x[3], len[3]);
  for (int t = 1; t < threads; t++) {
    helper_arg *a = malloc(sizeof *a);
    if (!a) break;
    a->e = e;
    a->thread = t;
    if (pthread_create(&e->helpers[e->started], NULL, helper_main, a)) {
      free(a);
      break;
    }
    e->started++;
  }
  if (e->started != threads - 1) {
    destroy(e);
    return fail(env, "could not start the kernel threads");
  }
  engine_t **slot = malloc(sizeof *slot);
  napi_value handle;
  if (!slot) return destroy(e), fail(env, "out of memory for the engine");
  *slot = e;
  if (napi_create_external(env, slot, finalize, NULL, &handle) != napi_ok) {
    destroy(e);
    free(slot);
    return fail(env, "could not make the engine's handle");
  }
  return handle;
}

static engine_t *engine_arg(napi_env env, napi_value v) {
  engine_t *e = get_engine(env, v);
  if (!e) fail(env, "the native engine was disposed (or this is not one)");
  return e;
}

// getParams(engine, which): a copy of the parameters (0) or the momentum (1).
static napi_value js_get(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int which;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[1], 0, 1, &which)) return fail(env, "get takes an engine and 0 or 1");
  engine_t *e = engine_arg(env, argv[0]);
  if (!e) return NULL;
  e->isa->bind_state(e->state);
  return new_floats(env, (const float *)e->isa->ptr(which ? P_VELOCITY : P_PARAMS, 0), (size_t)e->nparam);
}

// setParams(engine, which, Float32Array of exactly the parameter count).
static napi_value js_set(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int which;
  void *data;
  size_t n;
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[1], 0, 1, &which)) return fail(env, "set takes an engine, 0 or 1 and a Float32Array");
  engine_t *e = engine_arg(env, argv[0]);
  if (!e) return NULL;
  if (!get_array(env, argv[2], napi_float32_array, &data, &n) || n != (size_t)e->nparam) {
    char message[96];
    snprintf(message, sizeof message, "set: expected a Float32Array of %d parameters", e->nparam);
    return fail(env, message);
  }
  e->isa->bind_state(e->state);
  memcpy((void *)e->isa->ptr(which ? P_VELOCITY : P_PARAMS, 0), data, n * 4);
  return NULL;
}

// train(engine, Int32Array indices, lr, momentum[, Uint8Array images]): one SGD-momentum step; returns
// [lossSum, correct]. With images (indices.length of them, in batch order), the step trains on those, with
// the labels at indices: an augmented batch, written to the batch slot past the train set.
static napi_value js_train(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  size_t argc = 5;
  void *data;
  size_t n;
  float lr, momentum;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4)
    return fail(env, "train takes an engine, indices, a learning rate, a momentum and optionally images");
  engine_t *e = engine_arg(env, argv[0]);
  if (!e) return NULL;
  if (!get_array(env, argv[1], napi_int32_array, &data, &n)) return fail(env, "train: indices must be an Int32Array");
  if (n < 1 || n > (size_t)e->max_batch) return fail(env, "train: the batch is empty or larger than the engine's largest");
  if (!get_float(env, argv[2], &lr) || !get_float(env, argv[3], &momentum)) return fail(env, "train: the learning rate and momentum must be numbers");
  const int32_t *idx = data;
  for (size_t i = 0; i < n; i++)
    if (idx[i] < 0 || idx[i] >= e->n_train) return fail(env, "train: an index is outside the training set");
  void *images = NULL;
  size_t image_bytes = 0;
  napi_valuetype kind = napi_undefined;
  if (argc >= 5 && napi_typeof(env, argv[4], &kind) == napi_ok && kind != napi_undefined) {
    if (!get_array(env, argv[4], napi_uint8_array, &images, &image_bytes) || image_bytes < n * (size_t)e->img)
      return fail(env, "train: images must be a Uint8Array of one image per index");
  }
  e->isa->bind_state(e->state);
  int32_t *rows = (int32_t *)e->isa->ptr(P_BATCH, 0);
  if (images) {
    uint8_t *x = (uint8_t *)e->isa->ptr(P_TRAIN_X, 0), *y = (uint8_t *)e->isa->ptr(P_TRAIN_Y, 0);
    memcpy(x + (size_t)e->n_train * e->img, images, n * (size_t)e->img);
    for (size_t i = 0; i < n; i++) {
      y[e->n_train + i] = y[idx[i]];
      rows[i] = e->n_train + (int32_t)i;
    }
  } else
    memcpy(rows, idx, n * 4);
  e->args[0] = (int)n;
  run(e, OP_TRAIN);
  const float *stats = (const float *)e->isa->ptr(P_STATS, 0);
  double loss = 0, correct = 0;
  for (int s = 0; s < e->shards; s++) {
    loss += stats[2 * s];
    correct += stats[2 * s + 1];
  }
  e->fargs[0] = lr;
  e->fargs[1] = momentum;
  run(e, OP_UPDATE);
  napi_value result, v;
  CHECK(napi_create_array_with_length(env, 2, &result));
  CHECK(napi_create_double(env, loss, &v));
  CHECK(napi_set_element(env, result, 0, v));
  CHECK(napi_create_double(env, correct, &v));
  CHECK(napi_set_element(env, result, 1, v));
  return result;
}

// Logits for rows [start, start+count) of a source (0 train, 1 test, 2 the predict buffer), chunked.
static napi_value infer_rows(napi_env env, engine_t *e, int source, int start, int count, const float *images) {
  void *data;
  napi_value buffer, array;
  size_t k = (size_t)e->classes;
  if (napi_create_arraybuffer(env, (size_t)count * k * 4, &data, &buffer) != napi_ok) return fail(env, "out of memory for logits");
  e->isa->bind_state(e->state);
  for (int done = 0; done < count; done += e->out_rows) {
    int m = count - done < e->out_rows ? count - done : e->out_rows;
    if (images) memcpy((void *)e->isa->ptr(P_PREDICT_X, 0), images + (size_t)done * e->img, (size_t)m * e->img * 4);
    e->args[0] = source;
    e->args[1] = images ? 0 : start + done;
    e->args[2] = m;
    run(e, OP_INFER);
    memcpy((float *)data + (size_t)done * k, (const float *)e->isa->ptr(P_OUT, 0), (size_t)m * k * 4);
  }
  if (napi_create_typedarray(env, napi_float32_array, (size_t)count * k, buffer, 0, &array) != napi_ok) return fail(env, "out of memory for logits");
  return array;
}

// logits(engine, split 0|1, start, count)
static napi_value js_logits(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int source, start, count;
  if (!get_args(env, info, 4, argv)) return fail(env, "logits takes an engine, a split, a start and a count");
  engine_t *e = engine_arg(env, argv[0]);
  if (!e) return NULL;
  int rows = 0;
  if (!get_int(env, argv[1], 0, 1, &source)) return fail(env, "logits: the split must be 0 (train) or 1 (test)");
  rows = source ? e->n_test : e->n_train;
  if (!get_int(env, argv[2], 0, rows, &start) || !get_int(env, argv[3], 0, rows - start, &count))
    return fail(env, "logits: the rows asked for are outside the split");
  return infer_rows(env, e, source, start, count, NULL);
}

// logitsOf(engine, Float32Array of whole images already scaled to [0, 1])
static napi_value js_logits_of(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  void *data;
  size_t n;
  if (!get_args(env, info, 2, argv)) return fail(env, "logitsOf takes an engine and images");
  engine_t *e = engine_arg(env, argv[0]);
  if (!e) return NULL;
  if (!get_array(env, argv[1], napi_float32_array, &data, &n) || n % (size_t)e->img || n / e->img > INT32_MAX)
    return fail(env, "logitsOf: images must be a Float32Array of whole images");
  return infer_rows(env, e, 2, 0, (int)(n / e->img), data);
}

// dispose(engine): stops its threads and frees its memory now; later calls on it throw.
static napi_value js_dispose(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  void *p;
  if (!get_args(env, info, 1, argv) || napi_get_value_external(env, argv[0], &p) != napi_ok) return fail(env, "dispose takes an engine");
  engine_t **slot = p;
  destroy(*slot);
  *slot = NULL;
  return NULL;
}

NAPI_MODULE_INIT() {
  static const struct {
    const char *name;
    napi_callback fn;
  } methods[] = {{"isa", js_isa},       {"create", js_create}, {"get", js_get},         {"set", js_set},
                 {"train", js_train},   {"logits", js_logits}, {"logitsOf", js_logits_of}, {"dispose", js_dispose}};
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
    napi_value fn;
    if (napi_create_function(env, methods[i].name, NAPI_AUTO_LENGTH, methods[i].fn, NULL, &fn) != napi_ok ||
        napi_set_named_property(env, exports, methods[i].name, fn) != napi_ok)
      return NULL;
  }
  return exports;
}
