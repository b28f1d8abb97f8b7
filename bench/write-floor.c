// The kernel's floor for "push → last write": how long it takes to write one frame's bytes to N
// loopback TCP connections, in C, with no RTSP, no RTP, no event loop: one write() per client per
// frame, as the bench's Node floor and smolrtsp do. The frames have the sizes of the bench stream's
// interleaved frames (an IDR every GOP frames, the rest P frames): bench/write-floor.ts passes them.
//
// W writer threads (1 or more) each own a slice of the connections; a frame is "written" when every
// writer has returned from its last write(), timed from the instant the frame was due. A reader
// thread drains every connection with epoll, as the load client does. Both sides are in this process,
// so the reading side shares the cores with the writers, as it does in the fan-out bench.
//
// Usage: write-floor CLIENTS WRITERS SECONDS KEYFRAME_WRITE_BYTES DELTA_WRITE_BYTES GOP FPS
// Prints one JSON line. Built and run by bench/write-floor.ts.
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_WRITERS 8
#define MAX_FRAMES 100000

static int clients, writers, seconds, keyframe_bytes, delta_bytes, gop, fps;
static int *server_fds; // the writing side, one per client
static int *client_fds; // the reading side
static unsigned char *keyframe_buf, *delta_buf;
static size_t keyframe_len, delta_len;

static pthread_barrier_t start_barrier, done_barrier;
static atomic_int stop_all;
static const unsigned char *frame_buf;
static size_t frame_len;
static long long short_writes, would_block;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what) {
  fprintf(stderr, "write-floor: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void write_slice(int w) {
  long long shorts = 0, blocks = 0;
  for (int i = w; i < clients; i += writers) {
    ssize_t n = write(server_fds[i], frame_buf, frame_len);
    if (n < 0) {
      if (errno == EAGAIN) blocks++;
      else die("write");
    } else if ((size_t)n < frame_len)
      shorts++;
  }
  if (shorts || blocks) {
    pthread_mutex_lock(&count_lock);
    short_writes += shorts;
    would_block += blocks;
    pthread_mutex_unlock(&count_lock);
  }
}

static void *writer_main(void *arg) {
  int w = (int)(long)arg;
  for (;;) {
    pthread_barrier_wait(&start_barrier);
    if (atomic_load(&stop_all)) return NULL;
    write_slice(w);
    pthread_barrier_wait(&done_barrier);
  }
}

static long long drained;
static void *reader_main(void *arg) {
  (void)arg;
  int ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  for (int i = 0; i < clients; i++) {
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = client_fds[i]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, client_fds[i], &ev) < 0) die("epoll_ctl");
  }
  static unsigned char buf[1 << 18];
  struct epoll_event evs[256];
  while (!atomic_load(&stop_all)) {
    int n = epoll_wait(ep, evs, 256, 100);
    for (int k = 0; k < n; k++) {
      for (;;) {
        ssize_t r = read(evs[k].data.fd, buf, sizeof buf);
        if (r > 0) {
          drained += r;
          continue;
        }
        if (r < 0 && errno != EAGAIN) die("read");
        break;
      }
    }
  }
  close(ep);
  return NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(double *sorted, int n, double p) {
  if (n == 0) return -1;
  int i = (int)(p * n + 0.999999) - 1;
  if (i < 0) i = 0;
  if (i >= n) i = n - 1;
  return sorted[i];
}

static void print_stats(const char *name, double *v, int n, int comma) {
  qsort(v, n, sizeof *v, cmp_double);
  printf("\"%s\":{\"frames\":%d,\"p50Ms\":%.3f,\"p99Ms\":%.3f,\"maxMs\":%.3f}%s", name, n, pct(v, n, 0.5),
         pct(v, n, 0.99), n ? v[n - 1] : -1, comma ? "," : "");
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: write-floor CLIENTS WRITERS SECONDS KEYFRAME_WRITE_BYTES DELTA_WRITE_BYTES GOP FPS\n");
    return 2;
  }
  clients = atoi(argv[1]);
  writers = atoi(argv[2]);
  seconds = atoi(argv[3]);
  keyframe_bytes = atoi(argv[4]);
  delta_bytes = atoi(argv[5]);
  gop = atoi(argv[6]);
  fps = atoi(argv[7]);
  if (clients < 1 || writers < 1 || writers > MAX_WRITERS || seconds < 1 || fps < 1 || gop < 1 || keyframe_bytes < 1 || delta_bytes < 1 ||
      seconds * fps > MAX_FRAMES) {
    fprintf(stderr, "write-floor: bad arguments\n");
    return 2;
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)(2 * clients + 64)) {
    rl.rlim_cur = rl.rlim_max < (rlim_t)(2 * clients + 64) ? rl.rlim_max : (rlim_t)(2 * clients + 64);
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  keyframe_len = (size_t)keyframe_bytes;
  delta_len = (size_t)delta_bytes;
  keyframe_buf = malloc(keyframe_len);
  delta_buf = malloc(delta_len);
  for (size_t i = 0; i < keyframe_len; i++) keyframe_buf[i] = (unsigned char)(i * 2654435761u >> 24);
  for (size_t i = 0; i < delta_len; i++) delta_buf[i] = (unsigned char)(i * 2246822519u >> 24);

  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  if (lfd < 0) die("socket");
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof addr;
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(lfd, 4096) < 0) die("listen");
  if (getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0) die("getsockname");
  server_fds = calloc(clients, sizeof(int));
  client_fds = calloc(clients, sizeof(int));
  int one = 1;
  for (int i = 0; i < clients; i++) {
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c < 0) die("socket");
    if (connect(c, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) die("connect");
    int s = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
    if (s < 0) die("accept");
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    client_fds[i] = c;
    server_fds[i] = s;
  }
  close(lfd);

  pthread_t reader;
  pthread_create(&reader, NULL, reader_main, NULL);
  pthread_barrier_init(&start_barrier, NULL, writers);
  pthread_barrier_init(&done_barrier, NULL, writers);
  pthread_t threads[MAX_WRITERS];
  for (int w = 1; w < writers; w++) pthread_create(&threads[w], NULL, writer_main, (void *)(long)w);

  int total = seconds * fps;
  double *all = calloc(total, sizeof(double));
  double *keys = calloc(total, sizeof(double));
  double *deltas = calloc(total, sizeof(double));
  int nk = 0, nd = 0;
  struct rusage ru0, ru1;
  getrusage(RUSAGE_SELF, &ru0);
  double interval = 1000.0 / fps;
  double t0 = now_ms() + 100;
  for (int n = 0; n < total; n++) {
    double due = t0 + n * interval;
    double wait = due - now_ms();
    if (wait > 0) {
      struct timespec ts = {.tv_sec = (time_t)(wait / 1000), .tv_nsec = (long)(((long long)(wait * 1e6)) % 1000000000LL)};
      nanosleep(&ts, NULL);
    }
    int key = n % gop == 0;
    frame_buf = key ? keyframe_buf : delta_buf;
    frame_len = key ? keyframe_len : delta_len;
    double started = now_ms();
    if (writers > 1) pthread_barrier_wait(&start_barrier);
    write_slice(0);
    if (writers > 1) pthread_barrier_wait(&done_barrier);
    double took = now_ms() - started;
    all[n] = took;
    if (key) keys[nk++] = took;
    else deltas[nd++] = took;
  }
  getrusage(RUSAGE_SELF, &ru1);
  atomic_store(&stop_all, 1);
  if (writers > 1) pthread_barrier_wait(&start_barrier);
  for (int w = 1; w < writers; w++) pthread_join(threads[w], NULL);
  pthread_join(reader, NULL);

  double cpu = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) + (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
               (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) + (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
  printf("{\"clients\":%d,\"writers\":%d,\"seconds\":%d,\"keyframeWriteBytes\":%zu,\"deltaWriteBytes\":%zu,", clients,
         writers, seconds, keyframe_len, delta_len);
  printf("\"shortWrites\":%lld,\"wouldBlock\":%lld,\"cpuS\":%.3f,", short_writes, would_block, cpu);
  print_stats("all", all, total, 1);
  print_stats("keyframes", keys, nk, 1);
  print_stats("deltas", deltas, nd, 0);
  printf("}\n");
  return 0;
}
