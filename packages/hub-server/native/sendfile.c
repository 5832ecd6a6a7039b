/*
 * Zero-copy file bodies for the hub server: sendfile(2) from an open file to a connected TCP
 * socket, driven by the event loop (src/storage/send-file.ts calls it for LFS downloads).
 *
 * Node has no sendfile, so every byte of a download is otherwise copied twice by the server: page
 * cache -> a JS buffer (thread pool read), buffer -> socket. perf on a 1 GiB loopback download
 * puts those two copies at ~70% of the server's CPU; sendfile moves page-cache pages into the
 * socket without either copy.
 *
 * How it runs: the socket's descriptor is dup()ed and the duplicate watched for writability with
 * a uv_poll handle on node's own loop (epoll keys on the descriptor, so the duplicate does not
 * disturb node's watcher of the original). Each time the socket has room, sendfile is called
 * until the kernel answers EAGAIN; the socket is non-blocking, so the event loop never waits on
 * the network. A read of the file that is not in the page cache does block inside sendfile, as it
 * does in nginx's default configuration. The JS callback runs once: (errno or 0, bytes sent).
 *
 * JS API (native/binding): start(socketFd, fileFd, start, end, callback) -> handle, sends bytes
 * [start, end) of the file; cancel(handle) stops it (the callback then gets ECANCELED). cancel
 * must not be called after the callback has run.
 */
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <unistd.h>
#include <uv.h>

typedef struct {
  uv_poll_t poll;
  int sock; /* our duplicate of the socket's descriptor, owned */
  int file; /* the file's descriptor, owned by JS */
  int64_t pos, end, start;
  int err;
  int finishing;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
} job_t;

/* At most this much per sendfile call, so a cold file blocks the loop for one bounded read. */
#define MAX_CALL (4 << 20)

static void on_close(uv_handle_t* handle) {
  job_t* job = (job_t*)handle->data;
  close(job->sock);
  napi_env env = job->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, global, argv[2], result;
  napi_get_reference_value(env, job->callback, &cb);
  napi_get_global(env, &global);
  napi_create_int32(env, job->err, &argv[0]);
  napi_create_double(env, (double)(job->pos - job->start), &argv[1]);
  napi_make_callback(env, job->context, global, cb, 2, argv, &result);
  napi_close_handle_scope(env, scope);
  napi_async_destroy(env, job->context);
  napi_delete_reference(env, job->callback);
  free(job);
}

static void finish(job_t* job, int err) {
  if (job->finishing) return;
  job->finishing = 1;
  job->err = err;
  uv_poll_stop(&job->poll);
  uv_close((uv_handle_t*)&job->poll, on_close);
}

static void on_poll(uv_poll_t* handle, int status, int events) {
  job_t* job = (job_t*)handle->data;
  (void)events;
  if (job->finishing) return;
  if (status < 0) {
    finish(job, -status);
    return;
  }
  while (job->pos < job->end) {
    int64_t left = job->end - job->pos;
    off_t off = (off_t)job->pos;
    ssize_t n = sendfile(job->sock, job->file, &off, (size_t)(left < MAX_CALL ? left : MAX_CALL));
    if (n > 0) {
      job->pos = (int64_t)off;
      continue;
    }
    if (n == 0) {
      finish(job, EIO); /* the file ended before `end` */
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return; /* wait for room */
    finish(job, errno);
    return;
  }
  finish(job, 0);
}

static napi_value throw_error(napi_env env, const char* code, const char* msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 5) return throw_error(env, "HEARTH_HUBSERVER_INTERNAL", "sendfile.start: expected (socketFd, fileFd, start, end, callback)");
  int32_t sock, file;
  int64_t s, e;
  napi_valuetype t;
  napi_typeof(env, argv[4], &t);
  if (napi_get_value_int32(env, argv[0], &sock) != napi_ok || napi_get_value_int32(env, argv[1], &file) != napi_ok ||
      napi_get_value_int64(env, argv[2], &s) != napi_ok || napi_get_value_int64(env, argv[3], &e) != napi_ok ||
      t != napi_function || sock < 0 || file < 0 || s < 0 || e < s)
    return throw_error(env, "HEARTH_HUBSERVER_INTERNAL", "sendfile.start: expected descriptors >= 0, 0 <= start <= end and a callback");
  uv_loop_t* loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_error(env, "HEARTH_HUBSERVER_INTERNAL", "sendfile.start: no event loop");
  int dup_fd = fcntl(sock, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return throw_error(env, "HEARTH_HUBSERVER_INTERNAL", "sendfile.start: could not duplicate the socket descriptor");
  job_t* job = (job_t*)calloc(1, sizeof(job_t));
  job->sock = dup_fd;
  job->file = file;
  job->start = job->pos = s;
  job->end = e;
  job->env = env;
  if (uv_poll_init(loop, &job->poll, dup_fd) != 0) {
    close(dup_fd);
    free(job);
    return throw_error(env, "HEARTH_HUBSERVER_INTERNAL", "sendfile.start: could not watch the socket");
  }
  job->poll.data = job;
  napi_create_reference(env, argv[4], 1, &job->callback);
  napi_value name;
  napi_create_string_utf8(env, "hearth:sendfile", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &job->context);
  uv_poll_start(&job->poll, UV_WRITABLE, on_poll);
  napi_value handle;
  napi_create_external(env, job, NULL, NULL, &handle);
  return handle;
}

static napi_value cancel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void* data = NULL;
  if (argc != 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL)
    return throw_error(env, "HEARTH_HUBSERVER_INTERNAL", "sendfile.cancel: expected a handle from start()");
  finish((job_t*)data, ECANCELED);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "start", NAPI_AUTO_LENGTH, start, NULL, &fn);
  napi_set_named_property(env, exports, "start", fn);
  napi_create_function(env, "cancel", NAPI_AUTO_LENGTH, cancel, NULL, &fn);
  napi_set_named_property(env, exports, "cancel", fn);
  return exports;
}
