// Reference load client: N connections ping-pong S-byte messages for D seconds on one thread with epoll,
// and print the messages per second. The cheapest client this machine can run, so that echo-load's own cost
// can be measured against it. Echoed bytes are not verified (echo-load does that).
//   epoll-client HOST PORT CONNECTIONS SIZE SECONDS [WARMUP_SECONDS]
// Prints one line: "messages N seconds S msg/s R client_cpu_us_per_msg C errors E".
// Built by scripts/bench.sh: gcc -O2 -o DIR/epoll-client scripts/lib/epoll-client.c
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn { int fd; int size; int sent; int received; };

static double now_s(void) {
  struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_s(void) {
  struct rusage u; getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: epoll-client HOST PORT CONNECTIONS SIZE SECONDS [WARMUP_SECONDS]\n");
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]), n = atoi(argv[3]), size = atoi(argv[4]);
  double seconds = atof(argv[5]), warmup = argc > 6 ? atof(argv[6]) : 0;
  if (n <= 0 || size <= 0 || seconds <= 0 || port <= 0) { fprintf(stderr, "epoll-client: bad arguments\n"); return 2; }
  struct rlimit rl; getrlimit(RLIMIT_NOFILE, &rl); rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl);

  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) { fprintf(stderr, "epoll-client: not an IPv4 address: %s\n", host); return 2; }
  char *out = malloc(size), *in = malloc(size > 65536 ? size : 65536);
  memset(out, 'x', size);
  struct conn *c = calloc(n, sizeof *c);
  int ep = epoll_create1(0), one = 1;
  long errors = 0;
  for (int i = 0; i < n; i++) {
    // Blocking connect (simple and sure), then non-blocking for the run.
    c[i].fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c[i].fd, (void *)&a, sizeof a)) { perror("epoll-client: connect"); return 1; }
    setsockopt(c[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fcntl(c[i].fd, F_SETFL, fcntl(c[i].fd, F_GETFL) | O_NONBLOCK)) { perror("epoll-client: fcntl"); return 1; }
    c[i].size = size;
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = &c[i]};
    epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &e);
    if (send(c[i].fd, out, size, MSG_NOSIGNAL) != size) { perror("epoll-client: send"); return 1; }
  }

  struct epoll_event evs[1024];
  double start = now_s(), measure_from = start + warmup, end = measure_from + seconds, cpu0 = 0, t = start;
  long messages = 0; int measuring = warmup <= 0;
  if (measuring) cpu0 = cpu_s();
  for (;;) {
    int k = epoll_wait(ep, evs, 1024, 100);
    for (int i = 0; i < k; i++) {
      struct conn *x = evs[i].data.ptr;
      for (;;) {
        ssize_t r = recv(x->fd, in, size - x->received, 0);
        if (r > 0) {
          x->received += r;
          if (x->received < size) continue;
          x->received = 0;
          messages++;
          // The whole message fits the socket buffer: one send, retried only on a short write.
          for (int off = 0; off < size;) {
            ssize_t w = send(x->fd, out + off, size - off, MSG_NOSIGNAL);
            if (w > 0) off += w; else if (w < 0 && errno == EAGAIN) continue; else { errors++; break; }
          }
          break;
        }
        if (r < 0 && errno == EAGAIN) break;
        if (r < 0 && errno == EINTR) continue;
        errors++; epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL); close(x->fd); break;
      }
    }
    t = now_s();
    if (!measuring && t >= measure_from) { measuring = 1; messages = 0; cpu0 = cpu_s(); measure_from = t; }
    if (t >= end) break;
  }
  double cpu = cpu_s() - cpu0, elapsed = t - measure_from;
  printf("messages %ld seconds %.3f msg/s %.0f client_cpu_us_per_msg %.2f errors %ld\n",
         messages, elapsed, messages / elapsed, messages ? cpu * 1e6 / messages : 0.0, errors);
  return errors ? 1 : 0;
}
