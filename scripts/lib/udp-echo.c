// Reference UDP echo server for scripts/bench.sh: one thread, recvfrom then sendto, nothing else (no
// source-address rules, no budget, no pool). What a datagram costs this machine at the least, to compare
// echo-server --udp with. Not part of the product.
//   udp-echo PORT            listens on 127.0.0.1:PORT until SIGTERM
// Built by scripts/bench.sh: gcc -O2 -o DIR/udp-echo scripts/lib/udp-echo.c
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop = 0;
static void on_term(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: udp-echo PORT\n"); return 2; }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) { perror("socket"); return 1; }
  int size = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1])) };
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("bind"); return 1; }
  struct sigaction sa = { .sa_handler = on_term };
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  static char buf[65536];
  while (!stop) {
    struct sockaddr_storage from; socklen_t len = sizeof from;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
    if (n < 0) continue; // EINTR at SIGTERM, or an ICMP error: go on
    sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
  }
  close(fd);
  return 0;
}
