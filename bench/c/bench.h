/*
 * What the benchmark's C programs share (the programs of bench/c/; test/c/build.mjs rebuilds them when this
 * changes): clocks, little-endian field access, number arguments checked against a range, stopping on SIGTERM /
 * SIGINT, and a load generator's hosts serviced and waited on together. Include it after defining
 * _GNU_SOURCE (ppoll).
 */
#ifndef BENCH_H
#define BENCH_H

#include <enet/enet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* This process's CPU time (user + system), ns. */
static inline uint64_t cpu_ns(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
         ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

/* Fields are little-endian on the wire; these hosts (x86, arm) are too. */
static inline void wr16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* `v` as a number in lo..hi, or a message naming `prog` and `name` and exit 1. */
static inline long num_arg(const char *prog, const char *name, const char *v, long lo, long hi) {
  char *end = NULL;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (errno || *end || x < lo || x > hi) {
    fprintf(stderr, "%s: invalid %s: %s (expected %ld..%ld)\n", prog, name, v, lo, hi);
    exit(1);
  }
  return x;
}

/* Set by SIGTERM / SIGINT (stop_on_signals): the programs' loops end when they see it. */
static volatile sig_atomic_t stop_requested = 0;
static void on_stop_signal(int sig) { (void)sig; stop_requested = 1; }

/* No SA_RESTART: a signal interrupts the poll inside enet_host_service, so the loop sees it at once. */
static inline void stop_on_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
}

/* One service pass per host, then every event it queued to `handle`; a failed pass ends the program. */
static inline void service_hosts(ENetHost **hosts, int n, void (*handle)(ENetEvent *), const char *prog) {
  ENetEvent ev;
  for (int h = 0; h < n; h++) {
    int r = enet_host_service(hosts[h], &ev, 0);
    while (r > 0) {
      handle(&ev);
      r = enet_host_check_events(hosts[h], &ev);
    }
    if (r < 0) { fprintf(stderr, "%s: enet_host_service failed\n", prog); exit(1); }
  }
}

/* Sleeps until `deadline` (monotonic ns) or until one of the sockets is readable. */
static inline void wait_for_hosts(struct pollfd *pfds, int n, uint64_t deadline) {
  uint64_t t = now_ns();
  if (deadline <= t) return;
  uint64_t d = deadline - t;
  struct timespec ts = {(time_t)(d / 1000000000ull), (long)(d % 1000000000ull)};
  ppoll(pfds, (nfds_t)n, &ts, NULL);
}

#endif
