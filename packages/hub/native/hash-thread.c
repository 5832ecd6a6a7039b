/*
 * The sha256 of a file on its own native thread, hashing it straight from the page cache through
 * mmap, behind the thread that writes it: a download's `.incomplete` file, behind the receiving
 * thread (src/download/hash-thread.ts; src/download/hash-worker.ts is its portable fallback).
 *
 * Why native: the client's fallback (a node Worker that preads the file back into a 1 MiB buffer and
 * hashes that) is the critical path of a large download, since sha256 is serial and slower than
 * receiving. Its extras over the hash itself, timed on the 2-core bench machine for 1 GiB: ~47 ms
 * to boot the Worker (a V8 isolate and node's bootstrap) and ~190-200 ms in pread copying the page
 * cache into the buffer. Here the thread starts in microseconds and the hash reads the page-cache
 * pages in place (mmap with MAP_POPULATE, one call per window, no copy, no page faults), so the
 * memory traffic overlaps the hash's computation instead of preceding it.
 *
 * The hash is OpenSSL's EVP sha256, the one node itself uses (SHA-NI where the CPU has it): the
 * symbols resolve against the node binary when the addon loads (node exports OpenSSL for addons).
 *
 * Protocol (the same as the Worker's): the writing thread calls wrote(handle, total) after each
 * write has returned, with the number of bytes now in the file from its start; the hash thread
 * hashes up to that count and sleeps on a condition variable when it has caught up, woken once
 * WAKE_BYTES more are written or at finish. So the digest is that of the bytes in the file (the
 * one renamed into place after the check), and a resumed download's prefix is simply where the
 * count starts.
 *
 * Each window is mapped only once fstat shows the file holds it, so a file shorter than announced
 * is an error; only a truncation racing that check (between fstat and the read) could fault
 * (SIGBUS). No one else writes these files: the `.incomplete` file is held under the cache's lock
 * file (Hearth and Python alike).
 *
 * JS API (the addon's exports):
 *   start(path, prefixBytes) -> handle            opens the file, starts the thread
 *   wrote(handle, totalBytes)                     never blocks on the hash
 *   finish(handle, abort, callback)               callback(err, hexDigest, stats) once the thread
 *                                                 has ended (abort: stop early, no digest); stats
 *                                                 = [cpuMs, mapMs, hashMs, waitMs, queuedMs]
 * finish must be called exactly once per handle; wrote must not be called after it.
 */
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Largest mapping at a time: 64 MiB of page tables populated per call, unmapped before the next. */
#define WINDOW ((int64_t)64 << 20)
/* A sleeping hash thread is woken once this much more has been written (or at finish). */
#define WAKE_BYTES ((int64_t)4 << 20)

enum { RUNNING = 0, FINISHING = 1, ABORTED = 2 };

typedef struct {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int fd;
  _Atomic int64_t written; /* bytes in the file (absolute) */
  _Atomic int state;
  _Atomic int sleeping;
  int64_t woken; /* receiving thread only: `written` at the last wake-up */
  int64_t hashed;
  /* results, read after the thread has been joined */
  char error[256];
  char digest[65];
  double cpu_ms, map_ms, hash_ms, wait_ms, queued_ms;
  /* finish() */
  napi_async_work work;
  napi_ref callback;
  napi_ref self; /* keeps the handle (and so the job) alive from finish() to its callback */
} job_t;

static double now_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Milliseconds this thread was runnable but waited for a core (schedstat), NaN where unknown. */
static double queued_ms(void) {
  FILE* f = fopen("/proc/thread-self/schedstat", "r");
  if (!f) return 0.0 / 0.0;
  unsigned long long run = 0, wait = 0;
  int n = fscanf(f, "%llu %llu", &run, &wait);
  fclose(f);
  return n == 2 ? wait / 1e6 : 0.0 / 0.0;
}

static void wake(job_t* job) {
  pthread_mutex_lock(&job->mu);
  pthread_cond_signal(&job->cv);
  pthread_mutex_unlock(&job->mu);
}

/* Hashes [job->hashed, to) of the file through page-aligned read-only mappings. */
static int hash_to(job_t* job, EVP_MD_CTX* ctx, int64_t to) {
  static int64_t page = 0;
  if (page == 0) page = sysconf(_SC_PAGESIZE);
  while (job->hashed < to && atomic_load(&job->state) != ABORTED) {
    int64_t off = job->hashed & ~(page - 1);
    int64_t end = to - off > WINDOW ? off + WINDOW : to;
    double t0 = now_ms(CLOCK_MONOTONIC);
    /* Pages past the end of the file would fault (SIGBUS) when read: refuse instead. */
    struct stat st;
    if (fstat(job->fd, &st) != 0 || st.st_size < end) {
      snprintf(job->error, sizeof job->error,
               "the .incomplete file is shorter than the bytes written to it (changed on disk?): %lld < %lld",
               (long long)st.st_size, (long long)end);
      return -1;
    }
    void* p = mmap(NULL, (size_t)(end - off), PROT_READ, MAP_SHARED | MAP_POPULATE, job->fd, off);
    if (p == MAP_FAILED) {
      snprintf(job->error, sizeof job->error, "mmap of bytes %lld-%lld failed: %s", (long long)off,
               (long long)end, strerror(errno));
      return -1;
    }
    double t1 = now_ms(CLOCK_MONOTONIC);
    int ok = EVP_DigestUpdate(ctx, (const char*)p + (job->hashed - off), (size_t)(end - job->hashed));
    double t2 = now_ms(CLOCK_MONOTONIC);
    munmap(p, (size_t)(end - off));
    job->map_ms += t1 - t0 + (now_ms(CLOCK_MONOTONIC) - t2);
    job->hash_ms += t2 - t1;
    if (!ok) {
      snprintf(job->error, sizeof job->error, "EVP_DigestUpdate failed");
      return -1;
    }
    job->hashed = end;
  }
  return 0;
}

static void* run(void* arg) {
  job_t* job = (job_t*)arg;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
    snprintf(job->error, sizeof job->error, "could not start an OpenSSL sha256");
    goto done;
  }
  for (;;) {
    int state = atomic_load(&job->state);
    if (state == ABORTED) break;
    int64_t written = atomic_load(&job->written);
    if (job->hashed < written) {
      if (hash_to(job, ctx, written) != 0) break;
      continue;
    }
    if (state == FINISHING) {
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int len = 0;
      if (!EVP_DigestFinal_ex(ctx, md, &len)) {
        snprintf(job->error, sizeof job->error, "EVP_DigestFinal_ex failed");
        break;
      }
      for (unsigned int i = 0; i < len && i < 32; i++) snprintf(job->digest + 2 * i, 3, "%02x", md[i]);
      break;
    }
    /* Caught up: sleep until woken. The flag is raised under the mutex and the count read
     * again after it, so a write in between is seen either here or by the writer's wake(). */
    double t0 = now_ms(CLOCK_MONOTONIC);
    pthread_mutex_lock(&job->mu);
    atomic_store(&job->sleeping, 1);
    if (atomic_load(&job->written) == job->hashed && atomic_load(&job->state) == RUNNING)
      pthread_cond_wait(&job->cv, &job->mu);
    atomic_store(&job->sleeping, 0);
    pthread_mutex_unlock(&job->mu);
    job->wait_ms += now_ms(CLOCK_MONOTONIC) - t0;
  }
done:
  if (ctx) EVP_MD_CTX_free(ctx);
  job->cpu_ms = now_ms(CLOCK_THREAD_CPUTIME_ID);
  job->queued_ms = queued_ms();
  return NULL;
}

static void finalize_job(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  job_t* job = (job_t*)data;
  if (!job->work) {
    /* finish() was never called: stop and reap the thread before freeing what it uses. (Once it
     * has been, the handle is held until its callback, by which time the thread is joined.) */
    atomic_store(&job->state, ABORTED);
    wake(job);
    pthread_join(job->thread, NULL);
    close(job->fd);
  }
  pthread_mutex_destroy(&job->mu);
  pthread_cond_destroy(&job->cv);
  free(job);
}

static napi_value throw_error(napi_env env, const char* msg) {
  napi_throw_error(env, "HEARTH_HUB_HASH_FAILED", msg);
  return NULL;
}

static job_t* get_job(napi_env env, napi_value v) {
  void* data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok) return NULL;
  return (job_t*)data;
}

static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[4096];
  size_t len = 0;
  double prefix = 0;
  if (argc < 2 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok ||
      len >= sizeof path - 1 || napi_get_value_double(env, argv[1], &prefix) != napi_ok || prefix < 0)
    return throw_error(env, "hash thread start(path, prefixBytes): bad arguments");
  job_t* job = (job_t*)calloc(1, sizeof *job);
  if (!job) return throw_error(env, "hash thread: out of memory");
  job->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (job->fd < 0) {
    char msg[4096 + 128];
    snprintf(msg, sizeof msg, "hash thread: cannot open %s: %s", path, strerror(errno));
    free(job);
    return throw_error(env, msg);
  }
  pthread_mutex_init(&job->mu, NULL);
  pthread_cond_init(&job->cv, NULL);
  atomic_store(&job->written, (int64_t)prefix);
  job->woken = (int64_t)prefix;
  int err = pthread_create(&job->thread, NULL, run, job);
  if (err != 0) {
    close(job->fd);
    pthread_mutex_destroy(&job->mu);
    pthread_cond_destroy(&job->cv);
    free(job);
    return throw_error(env, "hash thread: pthread_create failed");
  }
  napi_value handle;
  napi_create_external(env, job, finalize_job, NULL, &handle);
  return handle;
}

static napi_value wrote(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  job_t* job = argc == 2 ? get_job(env, argv[0]) : NULL;
  double total = 0;
  if (!job || napi_get_value_double(env, argv[1], &total) != napi_ok)
    return throw_error(env, "hash thread wrote(handle, totalBytes): bad arguments");
  atomic_store(&job->written, (int64_t)total);
  if ((int64_t)total - job->woken >= WAKE_BYTES && atomic_load(&job->sleeping)) {
    job->woken = (int64_t)total;
    wake(job);
  }
  return NULL;
}

static void finish_execute(napi_env env, void* data) {
  (void)env;
  job_t* job = (job_t*)data;
  pthread_join(job->thread, NULL);
  close(job->fd);
}

static void finish_complete(napi_env env, napi_status status, void* data) {
  (void)status;
  job_t* job = (job_t*)data;
  napi_value cb, global, argv[3], result;
  napi_get_reference_value(env, job->callback, &cb);
  napi_get_global(env, &global);
  napi_get_null(env, &argv[0]);
  napi_get_null(env, &argv[1]);
  if (job->error[0]) {
    napi_value msg;
    napi_create_string_utf8(env, job->error, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &argv[0]);
  } else if (job->digest[0]) {
    napi_create_string_utf8(env, job->digest, NAPI_AUTO_LENGTH, &argv[1]);
  }
  double stats[5] = {job->cpu_ms, job->map_ms, job->hash_ms, job->wait_ms, job->queued_ms};
  napi_create_array_with_length(env, 5, &argv[2]);
  for (uint32_t i = 0; i < 5; i++) {
    napi_value v;
    napi_create_double(env, stats[i], &v);
    napi_set_element(env, argv[2], i, v);
  }
  napi_delete_reference(env, job->callback);
  napi_delete_reference(env, job->self);
  napi_delete_async_work(env, job->work);
  napi_call_function(env, global, cb, 3, argv, &result);
}

static napi_value finish(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  job_t* job = argc == 3 ? get_job(env, argv[0]) : NULL;
  bool abort = false;
  if (!job || job->work || napi_get_value_bool(env, argv[1], &abort) != napi_ok)
    return throw_error(env, "hash thread finish(handle, abort, callback): bad arguments or called twice");
  atomic_store(&job->state, abort ? ABORTED : FINISHING);
  wake(job);
  napi_value name;
  napi_create_string_utf8(env, "hearth:hash-thread", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[2], 1, &job->callback);
  napi_create_reference(env, argv[0], 1, &job->self);
  /* The join runs on the thread pool: it waits only for the hash of the last bytes. */
  napi_create_async_work(env, NULL, name, finish_execute, finish_complete, job, &job->work);
  napi_queue_async_work(env, job->work);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"start", NULL, start, NULL, NULL, NULL, napi_default, NULL},
      {"wrote", NULL, wrote, NULL, NULL, NULL, napi_default, NULL},
      {"finish", NULL, finish, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 3, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
