// The fan-out benchmark's load client, in C so the measuring side costs little and does not share a
// runtime with the servers it measures. One process, one epoll loop, non-blocking sockets: N RTSP
// sessions (DESCRIBE, SETUP over TCP interleaved or UDP client ports, PLAY), every RTP packet read and
// its sequence number checked per client. Speaks to any RTSP server (smolrtsp, the floor, others).
//
// Driven by bench/run.ts over stdin/stdout, one line each:
//   out {"event":"playing",...}  every session answered PLAY or failed, and the playing ones have a packet
//   in  mark SEQ                   window start: SEQ is the server's next RTP sequence number
//   in  end SEQ                    window end; the client waits (bounded) for the window's last packet,
//                                  tears every session down and prints {"event":"result",...}
// stdin closing early ends the run. Build: cc -O2 -o load-client load-client.c
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { S_CONNECT, S_DESCRIBE, S_SETUP, S_PLAY, S_PLAYING, S_TEARDOWN, S_DONE, S_FAILED };
enum { K_TCP = 0, K_RTP = 1, K_RTCP = 2, K_STDIN = 3 };
enum { M_FRAME, M_HEADER, M_TEXT };

#define TEXT_MAX 16384
#define MAX_GAPS 4096

typedef struct {
  int fd, rtp_fd, rtcp_fd, rtp_port;
  int state, cseq, mode;
  uint32_t skip;          // bytes of the current `$` frame still to skip
  uint8_t head[8];
  int head_len;
  char text[TEXT_MAX];    // an RTSP answer being read
  int text_len, body_wanted;
  double t_connect, t_setup, t_play, t_sent, t_first;
  int first_keyframe;     // 1: the first RTP payload starts an IDR (SPS/PPS/IDR/FU-A start of IDR)
  char session[128];
  // Sequence numbers, extended past 16 bits from the first packet.
  int64_t first, last, w0, w1;
  int64_t received, lost, late;
  int64_t (*gaps)[2];     // missing ranges [a, b), bounded
  int ngaps, gaps_full;
  const char *error;
} Client;

static Client *clients;
static int nclients, ramp = 50, udp_mode, epfd;
static const char *host = "127.0.0.1", *url, *path;
static int port = 554, udp_base = 20000, timeout_ms = 8000;
static char setup_url[2048];
static uint8_t rbuf[256 * 1024];
static int64_t rtcp_frames;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void close_client(Client *c) {
  if (c->fd >= 0) close(c->fd);
  if (c->rtp_fd >= 0) close(c->rtp_fd);
  if (c->rtcp_fd >= 0) close(c->rtcp_fd);
  c->fd = c->rtp_fd = c->rtcp_fd = -1;
}

static void fail(Client *c, const char *why) {
  if (c->state == S_FAILED || c->state == S_DONE) return;
  if (!c->error) c->error = why;
  c->state = S_FAILED;
  close_client(c);  // closing also takes its descriptors out of the epoll set
}

static void watch(int fd, int idx, int kind, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.u64 = ((uint64_t)idx << 2) | kind};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) perror("epoll_ctl");
}

// ---- sequence numbers ----

static int64_t to_extended(const Client *c, int seq) {
  int d = (int16_t)(uint16_t)(seq - (int)(c->last & 0xffff));
  return c->last + d;
}

static int starts_keyframe(const uint8_t *p, size_t n) {
  if (n < 1) return 0;
  int t = p[0] & 0x1f;
  if (t == 5 || t == 7 || t == 8) return 1;
  if (t == 24 && n >= 4) { int u = p[3] & 0x1f; return u == 5 || u == 7 || u == 8; }
  if (t == 28 && n >= 2) return (p[1] & 0x80) && (p[1] & 0x1f) == 5;
  return 0;
}

// `rtp` holds at least the first `n` bytes of an RTP packet (n >= 4).
static void on_rtp(Client *c, const uint8_t *rtp, size_t n) {
  int seq = (rtp[2] << 8) | rtp[3];
  if (c->last < 0) {
    c->t_first = now_ms();
    c->first_keyframe = n >= 14 && starts_keyframe(rtp + 12, n - 12);
    c->first = c->last = seq;
    c->received = 1;
    return;
  }
  int d = (uint16_t)(seq - (int)(c->last & 0xffff));
  if (d == 0 || d >= 0x8000) { c->late++; return; }
  if (d > 1) {
    c->lost += d - 1;
    if (c->ngaps < MAX_GAPS) {
      if (!c->gaps) c->gaps = malloc(sizeof(*c->gaps) * MAX_GAPS);
      c->gaps[c->ngaps][0] = c->last + 1;
      c->gaps[c->ngaps++][1] = c->last + d;
    } else c->gaps_full = 1;
  }
  c->last += d;
  c->received++;
}

// Packets of [from, to) (extended) that arrived.
static int64_t received_in(const Client *c, int64_t from, int64_t to) {
  if (c->last < 0) return 0;
  int64_t lo = from > c->first ? from : c->first, hi = to < c->last + 1 ? to : c->last + 1;
  if (hi <= lo) return 0;
  int64_t n = hi - lo;
  for (int i = 0; i < c->ngaps; i++) {
    int64_t a = c->gaps[i][0] > lo ? c->gaps[i][0] : lo, b = c->gaps[i][1] < hi ? c->gaps[i][1] : hi;
    if (b > a) n -= b - a;
  }
  return n;
}

// ---- RTSP ----

static void send_request(Client *c, const char *method, const char *uri, const char *extra) {
  char req[2048];
  int n = snprintf(req, sizeof req, "%s %s RTSP/1.0\r\nCSeq: %d\r\nUser-Agent: smolrtsp-bench-c\r\n%s\r\n",
                   method, uri, ++c->cseq, extra);
  if (send(c->fd, req, n, MSG_NOSIGNAL) != n) { fail(c, "request not written whole"); return; }
  c->t_sent = now_ms();
}

// Value of header `name` in an answer's header block (copied into out), or 0 when absent.
static int header(const char *head, const char *name, char *out, size_t cap) {
  size_t nl = strlen(name);
  for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
    if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
      const char *v = p + 3 + nl, *e = strstr(v, "\r\n");
      while (*v == ' ') v++;
      size_t len = e ? (size_t)(e - v) : strlen(v);
      if (len >= cap) len = cap - 1;
      memcpy(out, v, len);
      out[len] = 0;
      return 1;
    }
  }
  return 0;
}

// The SETUP URL for the first video track: from the SDP's a=control, against Content-Base or the URL.
static void pick_setup_url(const char *head, const char *sdp) {
  if (setup_url[0]) return;
  char base[1024];
  if (!header(head, "Content-Base", base, sizeof base)) snprintf(base, sizeof base, "%s", url);
  const char *m = strstr(sdp, "m=video");
  const char *a = m ? strstr(m, "a=control:") : NULL;
  if (!a) { snprintf(setup_url, sizeof setup_url, "%s", url); return; }
  a += 10;
  size_t len = strcspn(a, "\r\n");
  char ctl[512];
  snprintf(ctl, sizeof ctl, "%.*s", (int)(len < sizeof ctl ? len : sizeof ctl - 1), a);
  if (strncmp(ctl, "rtsp://", 7) == 0) snprintf(setup_url, sizeof setup_url, "%s", ctl);
  else if (strcmp(ctl, "*") == 0) snprintf(setup_url, sizeof setup_url, "%s", base);
  else {
    size_t bl = strlen(base);
    snprintf(setup_url, sizeof setup_url, "%s%s%s", base, bl && base[bl - 1] == '/' ? "" : "/", ctl);
  }
}

static void on_answer(Client *c, const char *head, const char *body) {
  int status = 0;
  sscanf(head, "RTSP/1.0 %d", &status);
  char extra[512];
  if (c->state == S_DESCRIBE) {
    if (status != 200) { fail(c, "DESCRIBE not 200"); return; }
    pick_setup_url(head, body);
    if (udp_mode) snprintf(extra, sizeof extra, "Transport: RTP/AVP;unicast;client_port=%d-%d\r\n",
                           c->rtp_port, c->rtp_port + 1);
    else snprintf(extra, sizeof extra, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n");
    c->state = S_SETUP;
    send_request(c, "SETUP", setup_url, extra);
  } else if (c->state == S_SETUP) {
    if (status != 200) { fail(c, status == 503 ? "SETUP 503" : "SETUP not 200"); return; }
    if (!header(head, "Session", c->session, sizeof c->session)) { fail(c, "SETUP without Session"); return; }
    c->session[strcspn(c->session, ";")] = 0;
    c->t_setup = now_ms();
    snprintf(extra, sizeof extra, "Session: %s\r\nRange: npt=0.000-\r\n", c->session);
    c->state = S_PLAY;
    send_request(c, "PLAY", url, extra);
  } else if (c->state == S_PLAY) {
    if (status != 200) { fail(c, "PLAY not 200"); return; }
    c->t_play = now_ms();
    c->state = S_PLAYING;
  } else if (c->state == S_TEARDOWN) {
    c->state = S_DONE;
  }
}

// Scans what a TCP connection delivered: `$` frames (header and RTP sequence number read, the rest
// skipped) and RTSP answers in between.
static void feed(Client *c, const uint8_t *b, size_t end) {
  size_t i = 0;
  while (i < end && c->state != S_FAILED) {
    if (c->skip > 0) {
      size_t n = c->skip < end - i ? c->skip : end - i;
      c->skip -= n;
      i += n;
      continue;
    }
    if (c->mode == M_FRAME) {
      if (b[i] != 0x24) { c->mode = M_TEXT; c->text_len = 0; c->body_wanted = -1; continue; }
      if (end - i >= 8) {
        uint32_t len = (b[i + 2] << 8) | b[i + 3];
        if (b[i + 1] == 0 && len >= 4) {
          size_t have = end - i - 4;
          on_rtp(c, b + i + 4, have < len ? have : len);
        } else rtcp_frames++;
        i += 4;
        c->skip = len;
        continue;
      }
      c->mode = M_HEADER;
      c->head_len = 0;
    }
    if (c->mode == M_HEADER) {
      c->head[c->head_len++] = b[i++];
      if (c->head_len < 4) continue;
      uint32_t len = (c->head[2] << 8) | c->head[3];
      int is_rtp = c->head[1] == 0 && len >= 4;
      if (is_rtp && c->head_len < 8) continue;
      if (is_rtp) on_rtp(c, c->head + 4, 4);
      else rtcp_frames++;
      c->skip = len - (c->head_len - 4);
      c->mode = M_FRAME;
      continue;
    }
    // M_TEXT: headers up to the blank line, then Content-Length bytes of body.
    if (c->text_len >= TEXT_MAX - 1) { fail(c, "answer too long"); return; }
    c->text[c->text_len++] = b[i++];
    c->text[c->text_len] = 0;
    if (c->body_wanted < 0) {
      if (c->text_len >= 4 && memcmp(c->text + c->text_len - 4, "\r\n\r\n", 4) == 0) {
        char cl[32];
        c->body_wanted = header(c->text, "Content-Length", cl, sizeof cl) ? atoi(cl) : 0;
        c->body_wanted += c->text_len;
        if (c->body_wanted >= TEXT_MAX) { fail(c, "answer too long"); return; }
      }
    }
    if (c->body_wanted >= 0 && c->text_len >= c->body_wanted) {
      char *blank = strstr(c->text, "\r\n\r\n");
      *blank = 0;
      on_answer(c, c->text, blank + 4);
      c->mode = M_FRAME;
    }
  }
}

// ---- sockets ----

static int set_nonblock(int fd) { return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

static int bind_udp(int p, int rcvbuf) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(p)};
  inet_pton(AF_INET, host, &a.sin_addr);
  if (rcvbuf) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) { close(fd); return -1; }
  return fd;
}

static int next_udp_port;

static void start_client(int idx) {
  Client *c = &clients[idx];
  c->t_connect = now_ms();
  if (udp_mode) {
    while (next_udp_port + 1 < 65536) {
      int p = next_udp_port;
      next_udp_port += 2;
      if ((c->rtp_fd = bind_udp(p, 1 << 20)) < 0) continue;
      if ((c->rtcp_fd = bind_udp(p + 1, 0)) < 0) { close(c->rtp_fd); c->rtp_fd = -1; continue; }
      c->rtp_port = p;
      break;
    }
    if (c->rtp_fd < 0) { fail(c, "no free UDP port pair"); return; }
    watch(c->rtp_fd, idx, K_RTP, EPOLLIN);
    watch(c->rtcp_fd, idx, K_RTCP, EPOLLIN);
  }
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0) { fail(c, "socket() failed (descriptor limit?)"); return; }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, host, &a.sin_addr);
  if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
    fail(c, "connect failed");
    return;
  }
  c->state = S_CONNECT;
  c->t_sent = now_ms();
  watch(c->fd, idx, K_TCP, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
}

static void on_tcp(Client *c, int idx, uint32_t events) {
  if (c->state == S_CONNECT && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) { fail(c, "connect refused or failed"); return; }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = ((uint64_t)idx << 2) | K_TCP};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->state = S_DESCRIBE;
    send_request(c, "DESCRIBE", url, "Accept: application/sdp\r\n");
    return;
  }
  for (int round = 0; round < 4; round++) {  // bounded, so one busy socket cannot starve the others
    ssize_t n = recv(c->fd, rbuf, sizeof rbuf, 0);
    if (n > 0) { feed(c, rbuf, (size_t)n); if (c->state == S_FAILED) return; continue; }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      if (c->state != S_DONE) fail(c, n == 0 ? "server closed the connection" : "recv error");
      epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    }
    return;
  }
}

static void on_udp(Client *c, int fd, int is_rtp) {
  static uint8_t bufs[64][2048];
  static struct iovec iov[64];
  static struct mmsghdr msgs[64];
  static int ready;
  for (int k = 0; k < 64 && !ready; k++) {
    iov[k] = (struct iovec){bufs[k], sizeof bufs[k]};
    msgs[k] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[k], .msg_iovlen = 1}};
  }
  ready = 1;
  for (int round = 0; round < 8; round++) {
    int n = recvmmsg(fd, msgs, 64, MSG_DONTWAIT, NULL);
    if (n <= 0) return;
    for (int k = 0; k < n; k++) {
      if (!is_rtp) { rtcp_frames++; continue; }
      if (msgs[k].msg_len >= 12 && (bufs[k][0] >> 6) == 2) on_rtp(c, bufs[k], msgs[k].msg_len);
    }
    if (n < 64) return;
  }
}

// ---- reporting ----

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double pctl(double *v, int n, double p) {
  if (n == 0) return -1;
  int k = (int)(p * n + 0.999999) - 1;
  return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

static void print_errors(void) {
  printf("\"errors\":{");
  int first = 1;
  for (int i = 0; i < nclients; i++) {
    const char *e = clients[i].error;
    if (!e) continue;
    int seen = 0;
    for (int j = 0; j < i && !seen; j++) seen = clients[j].error == e;
    if (seen) continue;
    int count = 0;
    for (int j = i; j < nclients; j++) count += clients[j].error == e;
    printf("%s\"%s\":%d", first ? "" : ",", e, count);
    first = 0;
  }
  printf("}");
}

static void print_playing(void) {
  double *play = malloc(sizeof(double) * nclients), *setup = malloc(sizeof(double) * nclients);
  int n = 0, keyframes = 0;
  for (int i = 0; i < nclients; i++) {
    Client *c = &clients[i];
    if (c->t_play <= 0) continue;
    play[n] = c->t_play - c->t_connect;
    setup[n++] = c->t_setup - c->t_connect;
    keyframes += c->last >= 0 && c->first_keyframe;
  }
  qsort(play, n, sizeof *play, cmp_d);
  qsort(setup, n, sizeof *setup, cmp_d);
  printf("{\"event\":\"playing\",\"clients\":%d,\"playing\":%d,\"setupP50Ms\":%.2f,\"setupMaxMs\":%.2f,"
         "\"playP50Ms\":%.2f,\"playMaxMs\":%.2f,\"firstPacketKeyframe\":%d,",
         nclients, n, pctl(setup, n, 0.5), pctl(setup, n, 1), pctl(play, n, 0.5), pctl(play, n, 1), keyframes);
  print_errors();
  printf("}\n");
  fflush(stdout);
  free(play);
  free(setup);
}

static void print_result(double cpu_window, double tail_ms, int64_t expected) {
  int64_t wmin = INT64_MAX, wmax = 0, tmin = INT64_MAX, tmax = 0, lost = 0, late = 0;
  int playing = 0, gap_clients = 0, gaps_full = 0;
  for (int i = 0; i < nclients; i++) {
    Client *c = &clients[i];
    if (c->t_play <= 0) { lost += expected; continue; }
    playing++;
    int64_t w = received_in(c, c->w0, c->w1);
    if (w < wmin) wmin = w;
    if (w > wmax) wmax = w;
    if (c->received < tmin) tmin = c->received;
    if (c->received > tmax) tmax = c->received;
    lost += expected - w;
    late += c->late;
    gap_clients += c->lost > 0;
    gaps_full += c->gaps_full;
  }
  if (playing == 0) wmin = tmin = 0;
  int done = 0;
  for (int i = 0; i < nclients; i++) done += clients[i].state == S_DONE;
  printf("{\"event\":\"result\",\"playing\":%d,\"windowExpected\":%lld,\"windowRecvMin\":%lld,"
         "\"windowRecvMax\":%lld,\"lost\":%lld,\"gapClients\":%d,\"late\":%lld,\"gapListsFull\":%d,"
         "\"totalRecvMin\":%lld,\"totalRecvMax\":%lld,\"tailMs\":%.1f,\"cpuS\":%.3f,\"rtcp\":%lld,"
         "\"tornDown\":%d,",
         playing, (long long)expected, (long long)wmin, (long long)wmax, (long long)lost, gap_clients,
         (long long)late, gaps_full, (long long)tmin, (long long)tmax, tail_ms, cpu_window,
         (long long)rtcp_frames, done);
  print_errors();
  printf("}\n");
  fflush(stdout);
}

// ---- main loop ----

static void usage(void) {
  fprintf(stderr, "usage: load-client --port P --path /p --clients N [--host 127.0.0.1] [--udp] [--ramp 50]\n"
                  "                   [--udp-base 20000] [--timeout-ms 8000]\n");
  exit(2);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--udp")) { udp_mode = 1; continue; }
    if (!v) usage();
    if (!strcmp(a, "--host")) host = v;
    else if (!strcmp(a, "--port")) port = atoi(v);
    else if (!strcmp(a, "--path")) path = v;
    else if (!strcmp(a, "--clients")) nclients = atoi(v);
    else if (!strcmp(a, "--ramp")) ramp = atoi(v);
    else if (!strcmp(a, "--udp-base")) udp_base = atoi(v);
    else if (!strcmp(a, "--timeout-ms")) timeout_ms = atoi(v);
    else usage();
    i++;
  }
  if (nclients <= 0 || !path || ramp <= 0) usage();
  static char url_buf[1024];
  snprintf(url_buf, sizeof url_buf, "rtsp://%s:%d%s", host, port, path);
  url = url_buf;
  next_udp_port = udp_base & ~1;

  // One descriptor per TCP session, two more per UDP one, plus a margin.
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rlim_t need = (rlim_t)nclients * (udp_mode ? 3 : 1) + 64;
  if (rl.rlim_cur < need) {
    rl.rlim_cur = need <= rl.rlim_max ? need : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < need)
      fprintf(stderr, "load-client: descriptor limit %llu < %llu needed; raise ulimit -n\n",
              (unsigned long long)rl.rlim_cur, (unsigned long long)need);
  }

  clients = calloc(nclients, sizeof(Client));
  for (int i = 0; i < nclients; i++) {
    Client *c = &clients[i];
    c->fd = c->rtp_fd = c->rtcp_fd = -1;
    c->first = c->last = -1;
    c->state = -1;  // not started
  }
  epfd = epoll_create1(0);
  set_nonblock(0);
  watch(0, 0, K_STDIN, EPOLLIN);

  struct epoll_event evs[256];
  int started = 0, announced = 0, marked = 0, ended = 0, stdin_open = 1;
  double t_all_play = 0, t_end = 0, t_teardown = 0, cpu_mark = 0, cpu_end = 0, tail_ms = -1;
  int64_t expected = 0;
  char line[256];
  int line_len = 0;

  double t_house = 0;
  for (;;) {
    int n = epoll_wait(epfd, evs, 256, 5);
    for (int k = 0; k < n; k++) {
      int kind = evs[k].data.u64 & 3, idx = (int)(evs[k].data.u64 >> 2);
      if (kind == K_STDIN) {
        ssize_t r = read(0, line + line_len, sizeof line - 1 - line_len);
        if (r == 0 || (r < 0 && errno != EAGAIN)) { stdin_open = 0; epoll_ctl(epfd, EPOLL_CTL_DEL, 0, NULL); continue; }
        if (r < 0) continue;
        line_len += r;
        line[line_len] = 0;
        char *nl;
        while ((nl = strchr(line, '\n'))) {
          *nl = 0;
          int seq;
          if (sscanf(line, "mark %d", &seq) == 1) {
            marked = 1;
            cpu_mark = cpu_s();
            for (int i = 0; i < nclients; i++) if (clients[i].last >= 0) clients[i].w0 = to_extended(&clients[i], seq);
          } else if (sscanf(line, "end %d", &seq) == 1 && marked) {
            ended = 1;
            t_end = now_ms();
            cpu_end = cpu_s();
            for (int i = 0; i < nclients; i++) if (clients[i].last >= 0) clients[i].w1 = to_extended(&clients[i], seq);
            for (int i = 0; i < nclients; i++)
              if (clients[i].t_play > 0) { expected = clients[i].w1 - clients[i].w0; break; }
          }
          line_len -= (int)(nl + 1 - line);
          memmove(line, nl + 1, line_len + 1);
        }
        continue;
      }
      Client *c = &clients[idx];
      if (c->state == S_FAILED) continue;
      if (kind == K_TCP) on_tcp(c, idx, evs[k].events);
      else on_udp(c, kind == K_RTP ? c->rtp_fd : c->rtcp_fd, kind == K_RTP);
    }

    // Housekeeping walks every client: at most every 2 ms, so it stays off the packet path.
    double t = now_ms();
    if (t - t_house < 2) continue;
    t_house = t;
    // Ramp: start the next group once every SETUP of the previous one is answered (or failed).
    int waiting = 0;
    for (int i = 0; i < started; i++) waiting += clients[i].state >= S_CONNECT && clients[i].state <= S_SETUP;
    if (waiting == 0 && started < nclients) {
      int stop = started + ramp < nclients ? started + ramp : nclients;
      while (started < stop) start_client(started++);
    }
    for (int i = 0; i < started; i++) {
      Client *c = &clients[i];
      int in_request = (c->state >= S_CONNECT && c->state <= S_PLAY) || c->state == S_TEARDOWN;
      if (in_request && t - c->t_sent > timeout_ms) {
        if (c->state == S_TEARDOWN) c->state = S_DONE;
        else fail(c, "no answer in time");
      }
    }
    if (!stdin_open && !ended) break;  // the runner went away

    if (!announced && started == nclients) {
      int pending = 0, without_packet = 0;
      for (int i = 0; i < nclients; i++) {
        pending += clients[i].state >= S_CONNECT && clients[i].state <= S_PLAY;
        without_packet += clients[i].state == S_PLAYING && clients[i].last < 0;
      }
      if (pending == 0 && t_all_play == 0) t_all_play = t;
      // Every playing client has its first packet (the first keyframe may be a GOP away), or 3 s passed.
      if (pending == 0 && (without_packet == 0 || t - t_all_play > 3000)) {
        print_playing();
        announced = 1;
      }
    }

    if (ended && tail_ms < 0 && t_teardown == 0) {
      int behind = 0;
      for (int i = 0; i < nclients; i++)
        behind += clients[i].state == S_PLAYING && clients[i].last < clients[i].w1 - 1;
      if (behind == 0) tail_ms = t - t_end;
      if (behind == 0 || t - t_end > 3000) {
        t_teardown = t;
        for (int i = 0; i < nclients; i++) {
          Client *c = &clients[i];
          if (c->state != S_PLAYING) continue;
          char extra[256];
          snprintf(extra, sizeof extra, "Session: %s\r\n", c->session);
          c->state = S_TEARDOWN;
          send_request(c, "TEARDOWN", url, extra);
        }
      }
    }
    if (t_teardown > 0) {
      int open = 0;
      for (int i = 0; i < nclients; i++) open += clients[i].state == S_TEARDOWN;
      if (open == 0 || t - t_teardown > 5000) break;
    }
  }
  if (ended) print_result(cpu_end - cpu_mark, tail_ms, expected);
  for (int i = 0; i < nclients; i++) close_client(&clients[i]);
  return 0;
}
