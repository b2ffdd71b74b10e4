/*
 * attacker: hostile ENet clients for the hardening tests and benchmarks (loopback only).
 *
 * Every mode is bounded: it stops by itself after its --duration-ms / --hold-ms, and an alarm()
 * ends the process after --max-seconds (default 60) whatever happens. Output is one line per fact,
 * flushed at once, so a test can wait for a line instead of sleeping.
 *
 *   attacker MODE --server 127.0.0.1:PORT [--bind ADDR[,ADDR...]] [options]
 *
 * Modes:
 *   pin        --peers N (per bind address) --packet-size S --packets K [--frag-bytes 1200]
 *              [--rate-mbps 100] [--passes 2] [--hold-ms T]
 *              Connects N peers from each bind address, then sends, by hand over each connected
 *              peer (its outgoingPeerID / outgoingSessionID, the host's socket), the SEND_FRAGMENT
 *              commands of K reliable packets of S bytes on channel 1, withholding the last fragment
 *              of every packet: the server must keep the incomplete packets (fragment pinning).
 *              Keeps the peers alive (services the hosts) for --hold-ms, then disconnects.
 *              Prints CONNECTED <n>, SENT fragments=<f> bytes=<b>, HOLDING, then DONE alive=<n>.
 *   oversize   --size S [--hold-ms T]
 *              Connects, sends one reliable packet of S bytes (RAW type byte 0, ENet fragments it),
 *              then a small STRING packet, and waits up to --hold-ms to be disconnected.
 *              Prints CONNECTED 1, SENT size=<S>, then DISCONNECTED data=<d> after_ms=<t> (exit 0)
 *              or ALIVE (exit 3).
 *   flood      --rate R (packets/s) --duration-ms D [--size 16] [--reliable]
 *              Connects, then sends R small packets per second (RAW, unsequenced unless --reliable),
 *              paced every millisecond, until D ms have passed or the server disconnects it.
 *              Prints CONNECTED 1, FLOODING, then DISCONNECTED after_ms=<t> sent=<n> or
 *              DONE sent=<n>.
 *   hold       --peers N --duration-ms D [--retry-ms 250] [--login none|bad|good]
 *              Keeps N peers connected from the bind address as hard as it can: a peer that is
 *              disconnected is reconnected at once, one whose connect has not completed after
 *              --retry-ms is reset and tried again. With --login it sends a login dictionary
 *              (MSGPACK {token: "bad"} or {token: "good"}) as soon as a peer connects.
 *              Prints STAT connected=<c> max=<m> connects=<k> disconnects=<d> attempts=<a> every
 *              500 ms and DONE ... at the end (the same fields).
 *   stall      [--hold-ms T]
 *              Connects, sends one STRING "stall-ready", flushes, then stops servicing its host
 *              (no acks, no pings) for --hold-ms and exits without disconnecting.
 *              Prints CONNECTED 1, then STALLING.
 *
 * Exit codes: 0 ok, 1 usage / local error, 2 could not connect, 3 (oversize) not disconnected.
 */
#define _GNU_SOURCE
#include <enet/enet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_BINDS 64
#define PACKET_TYPE_RAW 0
#define PACKET_TYPE_STRING 4
#define PACKET_TYPE_MSGPACK 6

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

/* ---- options ---- */
static const char *mode = NULL;
static ENetAddress server;
static int have_server = 0;
static ENetAddress binds[MAX_BINDS];
static int nbinds = 0;
static long opt_peers = 1;
static long opt_packet_size = 256 * 1024;
static long opt_packets = 4;
static long opt_frag_bytes = 1200;
static long opt_rate_mbps = 100;
static long opt_passes = 2;
static long opt_hold_ms = 3000;
static long opt_size = 16;
static long opt_rate = 1000;
static long opt_duration_ms = 3000;
static long opt_retry_ms = 250;
static long opt_max_seconds = 60;
static int opt_reliable = 0;
static const char *opt_login = "none";

static void usage(void) {
  fprintf(stderr,
          "usage: attacker pin|oversize|flood|hold|stall --server HOST:PORT [--bind A[,A...]]\n"
          "       [--peers N] [--packet-size S] [--packets K] [--frag-bytes B] [--rate-mbps M]\n"
          "       [--passes P] [--hold-ms T] [--size S] [--rate R] [--duration-ms D] [--reliable]\n"
          "       [--retry-ms R] [--login none|bad|good] [--max-seconds S]\n");
  exit(1);
}

static long num_arg(const char *name, const char *v, long lo, long hi) {
  char *end = NULL;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (errno || *end || x < lo || x > hi) {
    fprintf(stderr, "attacker: invalid %s: %s (expected %ld..%ld)\n", name, v, lo, hi);
    exit(1);
  }
  return x;
}

static void parse_address(const char *text, ENetAddress *out, int need_port) {
  char buf[128];
  snprintf(buf, sizeof buf, "%s", text);
  char *colon = strrchr(buf, ':');
  out->port = 0;
  if (colon) {
    *colon = 0;
    out->port = (enet_uint16)num_arg("port", colon + 1, need_port ? 1 : 0, 65535);
  } else if (need_port) {
    fprintf(stderr, "attacker: %s: expected HOST:PORT\n", text);
    exit(1);
  }
  if (enet_address_set_host_ip(out, buf) != 0) {
    fprintf(stderr, "attacker: %s: not an IPv4 address\n", buf);
    exit(1);
  }
}

static void parse_args(int argc, char **argv) {
  if (argc < 2) usage();
  mode = argv[1];
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char *v = (i + 1 < argc) ? argv[i + 1] : NULL;
#define NEED() do { if (!v) { fprintf(stderr, "attacker: %s needs a value\n", a); usage(); } i++; } while (0)
    if (!strcmp(a, "--server")) { NEED(); parse_address(v, &server, 1); have_server = 1; }
    else if (!strcmp(a, "--bind")) {
      NEED();
      char *copy = strdup(v), *save = NULL;
      for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (nbinds >= MAX_BINDS) { fprintf(stderr, "attacker: at most %d bind addresses\n", MAX_BINDS); exit(1); }
        parse_address(tok, &binds[nbinds++], 0);
      }
      free(copy);
    }
    else if (!strcmp(a, "--peers")) { NEED(); opt_peers = num_arg(a, v, 1, 4000); }
    else if (!strcmp(a, "--packet-size")) { NEED(); opt_packet_size = num_arg(a, v, 2, 32 * 1024 * 1024); }
    else if (!strcmp(a, "--packets")) { NEED(); opt_packets = num_arg(a, v, 1, 4096); }
    else if (!strcmp(a, "--frag-bytes")) { NEED(); opt_frag_bytes = num_arg(a, v, 1, 1300); }
    else if (!strcmp(a, "--rate-mbps")) { NEED(); opt_rate_mbps = num_arg(a, v, 1, 10000); }
    else if (!strcmp(a, "--passes")) { NEED(); opt_passes = num_arg(a, v, 1, 10); }
    else if (!strcmp(a, "--hold-ms")) { NEED(); opt_hold_ms = num_arg(a, v, 0, 600000); }
    else if (!strcmp(a, "--size")) { NEED(); opt_size = num_arg(a, v, 1, 32 * 1024 * 1024); }
    else if (!strcmp(a, "--rate")) { NEED(); opt_rate = num_arg(a, v, 1, 10000000); }
    else if (!strcmp(a, "--duration-ms")) { NEED(); opt_duration_ms = num_arg(a, v, 1, 600000); }
    else if (!strcmp(a, "--retry-ms")) { NEED(); opt_retry_ms = num_arg(a, v, 1, 600000); }
    else if (!strcmp(a, "--max-seconds")) { NEED(); opt_max_seconds = num_arg(a, v, 1, 3600); }
    else if (!strcmp(a, "--login")) {
      NEED();
      if (strcmp(v, "none") && strcmp(v, "bad") && strcmp(v, "good")) usage();
      opt_login = v;
    }
    else if (!strcmp(a, "--reliable")) opt_reliable = 1;
    else if (!strcmp(a, "--help") || !strcmp(a, "-h")) usage();
    else { fprintf(stderr, "attacker: unknown option %s\n", a); usage(); }
#undef NEED
  }
  if (!have_server) { fprintf(stderr, "attacker: --server is required\n"); usage(); }
  if (nbinds == 0) {
    enet_address_set_host_ip(&binds[0], "127.0.0.1");
    binds[0].port = 0;
    nbinds = 1;
  }
}

/* ---- helpers ---- */
static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  fputc('\n', stdout);
  fflush(stdout);
}

static ENetHost *make_host(const ENetAddress *bind, size_t peers) {
  ENetHost *h = enet_host_create(bind, peers, 2, 0, 0);
  if (!h) {
    char ip[64] = "?";
    enet_address_get_host_ip(bind, ip, sizeof ip);
    fprintf(stderr, "attacker: enet_host_create on %s failed\n", ip);
    exit(1);
  }
  return h;
}

/* Services `host` once (wait ms), handing every event to `on` (which owns RECEIVE packets: it
 * destroys them). Returns the number of events. */
typedef void (*EventFn)(ENetHost *host, ENetEvent *ev);
static int service(ENetHost *host, enet_uint32 wait, EventFn on) {
  ENetEvent ev;
  int n = 0;
  int r = enet_host_service(host, &ev, wait);
  while (r > 0) {
    n++;
    if (on) on(host, &ev);
    else if (ev.type == ENET_EVENT_TYPE_RECEIVE) enet_packet_destroy(ev.packet);
    r = enet_host_check_events(host, &ev);
  }
  return n;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* A packet with our type byte first: RAW (0) and zero padding, or STRING (4) "text". */
static ENetPacket *string_packet(const char *text, enet_uint32 flags) {
  size_t n = strlen(text);
  ENetPacket *p = enet_packet_create(NULL, 5 + n, flags);
  if (!p) return NULL;
  p->data[0] = PACKET_TYPE_STRING;
  p->data[1] = (uint8_t)n; p->data[2] = (uint8_t)(n >> 8); p->data[3] = (uint8_t)(n >> 16); p->data[4] = (uint8_t)(n >> 24);
  memcpy(p->data + 5, text, n);
  return p;
}

static int send_or_free(ENetPeer *peer, enet_uint8 channel, ENetPacket *p) {
  if (!p) return -1;
  if (enet_peer_send(peer, channel, p) != 0) {
    enet_packet_destroy(p);
    return -1;
  }
  return 0;
}

/* MSGPACK {token: "<value>"}: 0x81, fixstr "token", fixstr value. */
static void send_login(ENetPeer *peer, const char *value) {
  size_t n = strlen(value);
  if (n > 31) return;
  ENetPacket *p = enet_packet_create(NULL, 1 + 1 + 6 + 1 + n, ENET_PACKET_FLAG_RELIABLE);
  if (!p) return;
  uint8_t *d = p->data;
  d[0] = PACKET_TYPE_MSGPACK;
  d[1] = 0x81;
  d[2] = 0xa5;
  memcpy(d + 3, "token", 5);
  d[8] = (uint8_t)(0xa0 | n);
  memcpy(d + 9, value, n);
  send_or_free(peer, 0, p);
}

/* Connects `count` peers on `host` to the server and waits until they all are, or deadline.
 * Returns how many are connected. Peers that fail are tried again until the deadline. */
static int connected_count;
static void on_connect_phase(ENetHost *host, ENetEvent *ev) {
  (void)host;
  if (ev->type == ENET_EVENT_TYPE_CONNECT) {
    ev->peer->data = (void *)(uintptr_t)1;
    connected_count++;
  } else if (ev->type == ENET_EVENT_TYPE_DISCONNECT) {
    if (ev->peer->data) connected_count--;
    ev->peer->data = NULL;
  } else if (ev->type == ENET_EVENT_TYPE_RECEIVE) {
    enet_packet_destroy(ev->packet);
  }
}

static int connect_all(ENetHost **hosts, int nhosts, ENetPeer **peers, int per_host, uint64_t deadline) {
  connected_count = 0;
  for (int h = 0; h < nhosts; h++) {
    for (int i = 0; i < per_host; i++) {
      ENetPeer *p = enet_host_connect(hosts[h], &server, 2, 0);
      if (!p) { fprintf(stderr, "attacker: enet_host_connect failed\n"); exit(1); }
      p->data = NULL;
      peers[h * per_host + i] = p;
    }
  }
  while (connected_count < nhosts * per_host && now_ms() < deadline) {
    for (int h = 0; h < nhosts; h++) service(hosts[h], 1, on_connect_phase);
    /* a peer whose attempt failed (disconnected, slot free again) is tried again */
    for (int k = 0; k < nhosts * per_host; k++) {
      if (peers[k]->state == ENET_PEER_STATE_DISCONNECTED) {
        ENetPeer *p = enet_host_connect(hosts[k / per_host], &server, 2, 0);
        if (p) { p->data = NULL; peers[k] = p; }
      }
    }
  }
  return connected_count;
}

/* ---- pin ---- */
/* One SEND_FRAGMENT datagram over `peer`, written by hand: protocol header (peer id + session,
 * sent time), then the command. Returns bytes sent or -1. */
static int send_fragment(ENetHost *host, ENetPeer *peer, uint8_t channel, uint16_t seq, uint16_t start,
                         uint32_t count, uint32_t number, uint32_t total, uint32_t offset, const uint8_t *data,
                         uint16_t len) {
  uint8_t buf[4 + 24 + 1400];
  uint16_t peerField = (uint16_t)(peer->outgoingPeerID | ((uint16_t)peer->outgoingSessionID << 12) | 0x8000);
  put16(buf, peerField);
  put16(buf + 2, (uint16_t)(enet_time_get() & 0xFFFF));
  uint8_t *c = buf + 4;
  c[0] = ENET_PROTOCOL_COMMAND_SEND_FRAGMENT | ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE;
  c[1] = channel;
  put16(c + 2, seq);
  put16(c + 4, start);
  put16(c + 6, len);
  put32(c + 8, count);
  put32(c + 12, number);
  put32(c + 16, total);
  put32(c + 20, offset);
  memcpy(c + 24, data, len);
  ENetBuffer b = {.data = buf, .dataLength = 4 + 24 + (size_t)len};
  return enet_socket_send(host->socket, &peer->address, &b, 1);
}

static int run_pin(void) {
  ENetHost *hosts[MAX_BINDS];
  int per = (int)opt_peers;
  ENetPeer **peers = calloc((size_t)(nbinds * per), sizeof *peers);
  for (int h = 0; h < nbinds; h++) hosts[h] = make_host(&binds[h], (size_t)per);
  int n = connect_all(hosts, nbinds, peers, per, now_ms() + 10000);
  out("CONNECTED %d", n);
  if (n == 0) return 2;

  const uint32_t total = (uint32_t)opt_packet_size;
  const uint32_t fl = (uint32_t)opt_frag_bytes;
  const uint32_t count = (total + fl - 1) / fl;
  if ((uint64_t)count * (uint64_t)opt_packets > 24000) {
    fprintf(stderr, "attacker: %u fragments x %ld packets exceed ENet's reliable windows\n", count, opt_packets);
    return 1;
  }
  uint8_t payload[1400];
  memset(payload, 0xA5, sizeof payload);
  const double bytes_per_ms = (double)opt_rate_mbps * 1e6 / 1000.0;
  uint64_t sent_frags = 0, sent_bytes = 0;
  uint64_t t0 = now_ms();
  double budget = 0;
  uint64_t last = t0;
  for (long pass = 0; pass < opt_passes; pass++) {
    for (long k = 0; k < opt_packets; k++) {
      /* channel 1 is never used by ENet here: its sequence numbers are ours, from 1 */
      uint16_t start = (uint16_t)(1 + k * (long)count);
      for (uint32_t f = 0; f + 1 < count; f++) {
        for (int h = 0; h < nbinds; h++) {
          for (int i = 0; i < per; i++) {
            ENetPeer *p = peers[h * per + i];
            if (p->state != ENET_PEER_STATE_CONNECTED || p->channelCount < 2) continue;
            while (budget <= 0) {
              uint64_t t = now_ms();
              if (t == last) {
                sleep_us(200);
                for (int x = 0; x < nbinds; x++) service(hosts[x], 0, NULL);
                continue;
              }
              budget += bytes_per_ms * (double)(t - last);
              if (budget > bytes_per_ms * 5) budget = bytes_per_ms * 5;
              last = t;
            }
            uint32_t off = f * fl;
            uint16_t len = (uint16_t)(total - off < fl ? total - off : fl);
            int r = send_fragment(hosts[h], p, 1, (uint16_t)(start + f), start, count, f, total, off, payload, len);
            if (r > 0) {
              sent_frags++;
              sent_bytes += (uint64_t)r;
              budget -= r;
            }
          }
        }
      }
    }
    for (int x = 0; x < nbinds; x++) service(hosts[x], 0, NULL);
  }
  out("SENT fragments=%llu bytes=%llu ms=%llu", (unsigned long long)sent_frags, (unsigned long long)sent_bytes,
      (unsigned long long)(now_ms() - t0));
  out("HOLDING");
  uint64_t end = now_ms() + (uint64_t)opt_hold_ms;
  while (now_ms() < end) {
    for (int h = 0; h < nbinds; h++) service(hosts[h], 1, NULL);
  }
  int alive = 0;
  for (int k = 0; k < nbinds * per; k++) if (peers[k]->state == ENET_PEER_STATE_CONNECTED) alive++;
  out("DONE alive=%d", alive);
  for (int h = 0; h < nbinds; h++) enet_host_destroy(hosts[h]);
  free(peers);
  return 0;
}

/* ---- oversize ---- */
static int disconnected = 0;
static void on_watch(ENetHost *host, ENetEvent *ev) {
  (void)host;
  if (ev->type == ENET_EVENT_TYPE_DISCONNECT) {
    disconnected = 1;
    out("DISCONNECT_EVENT data=%u", ev->data);
  } else if (ev->type == ENET_EVENT_TYPE_RECEIVE) {
    out("RECV_TYPE %d %zu", ev->packet->dataLength ? ev->packet->data[0] : -1, ev->packet->dataLength);
    enet_packet_destroy(ev->packet);
  }
}

static int connect_one(ENetHost **hostp, ENetPeer **peerp) {
  ENetHost *host = make_host(&binds[0], 1);
  ENetPeer *peers[1];
  int n = connect_all(&host, 1, peers, 1, now_ms() + 5000);
  *hostp = host;
  *peerp = peers[0];
  out("CONNECTED %d", n);
  return n;
}

static int run_oversize(void) {
  ENetHost *host;
  ENetPeer *peer;
  if (connect_one(&host, &peer) == 0) return 2;
  ENetPacket *big = enet_packet_create(NULL, (size_t)opt_size, ENET_PACKET_FLAG_RELIABLE);
  if (!big) return 1;
  memset(big->data, 0x5A, big->dataLength);
  big->data[0] = PACKET_TYPE_RAW;
  if (send_or_free(peer, 0, big) != 0) { fprintf(stderr, "attacker: enet_peer_send failed\n"); return 1; }
  send_or_free(peer, 0, string_packet("after the big one", ENET_PACKET_FLAG_RELIABLE));
  uint64_t t0 = now_ms();
  out("SENT size=%ld", opt_size);
  uint64_t end = t0 + (uint64_t)opt_hold_ms;
  disconnected = 0;
  while (!disconnected && now_ms() < end) service(host, 5, on_watch);
  int rc;
  if (disconnected) {
    out("DISCONNECTED after_ms=%llu", (unsigned long long)(now_ms() - t0));
    rc = 0;
  } else {
    out("ALIVE");
    rc = 3;
  }
  enet_host_destroy(host);
  return rc;
}

/* ---- flood ---- */
static int run_flood(void) {
  ENetHost *host;
  ENetPeer *peer;
  if (connect_one(&host, &peer) == 0) return 2;
  const enet_uint32 flags = opt_reliable ? ENET_PACKET_FLAG_RELIABLE : ENET_PACKET_FLAG_UNSEQUENCED;
  uint8_t *tmpl = calloc(1, (size_t)opt_size);
  tmpl[0] = PACKET_TYPE_RAW;
  out("FLOODING");
  uint64_t t0 = now_ms();
  uint64_t end = t0 + (uint64_t)opt_duration_ms;
  uint64_t sent = 0;
  disconnected = 0;
  while (!disconnected && now_ms() < end) {
    uint64_t due = (uint64_t)((double)(now_ms() - t0) * (double)opt_rate / 1000.0);
    /* never queue more than 5 ms of backlog (ENet's queue would only grow) */
    uint64_t cap = (uint64_t)opt_rate / 200 + 1;
    if (due > sent + cap) sent = due - cap;
    while (sent < due) {
      ENetPacket *p = enet_packet_create(tmpl, (size_t)opt_size, flags);
      if (!p || enet_peer_send(peer, 0, p) != 0) {
        if (p) enet_packet_destroy(p);
        break;
      }
      sent++;
    }
    service(host, 0, on_watch);
    sleep_us(500);
  }
  if (disconnected) out("DISCONNECTED after_ms=%llu sent=%llu", (unsigned long long)(now_ms() - t0), (unsigned long long)sent);
  else out("DONE sent=%llu", (unsigned long long)sent);
  free(tmpl);
  enet_host_destroy(host);
  return 0;
}

/* ---- hold ---- */
typedef struct {
  uint64_t started;
  int connected;
} Slot;
static Slot *slots;
static ENetPeer **hold_peers;
static long h_connected = 0, h_max = 0, h_connects = 0, h_disconnects = 0, h_attempts = 0;

static void on_hold(ENetHost *host, ENetEvent *ev) {
  (void)host;
  uintptr_t k = (uintptr_t)ev->peer->data;
  if (ev->type == ENET_EVENT_TYPE_RECEIVE) {
    enet_packet_destroy(ev->packet);
    return;
  }
  if (k == 0 || k > (uintptr_t)opt_peers || hold_peers[k - 1] != ev->peer) return;
  Slot *s = &slots[k - 1];
  if (ev->type == ENET_EVENT_TYPE_CONNECT) {
    s->connected = 1;
    h_connected++;
    h_connects++;
    if (h_connected > h_max) h_max = h_connected;
    if (strcmp(opt_login, "none") != 0) send_login(ev->peer, opt_login);
  } else if (ev->type == ENET_EVENT_TYPE_DISCONNECT) {
    if (s->connected) {
      h_connected--;
      h_disconnects++;
    }
    s->connected = 0;
    s->started = 0; /* reconnect at once */
  }
}

static void hold_line(const char *tag) {
  out("%s connected=%ld max=%ld connects=%ld disconnects=%ld attempts=%ld", tag, h_connected, h_max, h_connects,
      h_disconnects, h_attempts);
}

static int run_hold(void) {
  ENetHost *host = make_host(&binds[0], (size_t)opt_peers);
  slots = calloc((size_t)opt_peers, sizeof *slots);
  hold_peers = calloc((size_t)opt_peers, sizeof *hold_peers);
  uint64_t t0 = now_ms(), end = t0 + (uint64_t)opt_duration_ms, next_stat = t0 + 500;
  while (now_ms() < end) {
    uint64_t t = now_ms();
    for (long k = 0; k < opt_peers; k++) {
      Slot *s = &slots[k];
      ENetPeer *p = hold_peers[k];
      if (s->connected) continue;
      if (p && s->started && t - s->started < (uint64_t)opt_retry_ms && p->state != ENET_PEER_STATE_DISCONNECTED) continue;
      if (p && p->state != ENET_PEER_STATE_DISCONNECTED) enet_peer_reset(p);
      p = enet_host_connect(host, &server, 2, 0);
      if (!p) continue;
      p->data = (void *)(uintptr_t)(k + 1);
      hold_peers[k] = p;
      s->started = t;
      h_attempts++;
    }
    service(host, 1, on_hold);
    if (now_ms() >= next_stat) {
      hold_line("STAT");
      next_stat += 500;
    }
  }
  hold_line("DONE");
  enet_host_destroy(host);
  free(slots);
  free(hold_peers);
  return 0;
}

/* ---- stall ---- */
static int run_stall(void) {
  ENetHost *host;
  ENetPeer *peer;
  if (connect_one(&host, &peer) == 0) return 2;
  send_or_free(peer, 0, string_packet("stall-ready", ENET_PACKET_FLAG_RELIABLE));
  uint64_t end = now_ms() + 50;
  while (now_ms() < end) service(host, 1, NULL);
  out("STALLING");
  end = now_ms() + (uint64_t)opt_hold_ms;
  while (now_ms() < end) sleep_us(10000);
  /* no disconnect: the server must notice on its own */
  enet_peer_reset(peer);
  enet_host_destroy(host);
  return 0;
}

int main(int argc, char **argv) {
  if (enet_initialize() != 0) {
    fprintf(stderr, "enet_initialize failed\n");
    return 1;
  }
  parse_args(argc, argv);
  alarm((unsigned)opt_max_seconds);
  srand((unsigned)time(NULL) ^ (unsigned)getpid());
  int rc;
  if (!strcmp(mode, "pin")) rc = run_pin();
  else if (!strcmp(mode, "oversize")) rc = run_oversize();
  else if (!strcmp(mode, "flood")) rc = run_flood();
  else if (!strcmp(mode, "hold")) rc = run_hold();
  else if (!strcmp(mode, "stall")) rc = run_stall();
  else {
    usage();
    rc = 1;
  }
  enet_deinitialize();
  return rc;
}
