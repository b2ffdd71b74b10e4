/*
 * string_client: minimal ENet client speaking the enet-actor-server wire format.
 *
 * Usage: string_client [--range-coder] <host> <port> <message> [timeout_ms]
 *
 * --range-coder: enable ENet's own range coder on the host (enet_host_compress_with_range_coder),
 * the server's CompressionMode.COMPRESS_RANGE_CODER. ENet has no negotiation: both ends must agree.
 *
 * Connects with 2 channels, sends one reliable STRING packet on channel 0
 * (byte 0x04, u32 little-endian UTF-8 byte length, the bytes), then prints every
 * packet it receives:
 *   RECV <text>            for a STRING packet (one per line)
 *   RECV_TYPE <type> <len> for any other packet (len = whole packet length)
 * and exits 0 after the first STRING packet, once it has disconnected cleanly.
 *
 * Exit codes: 0 ok, 1 usage / local error, 2 connect failure or timeout,
 *             3 no STRING reply within the timeout (default 5000 ms).
 */
#include <enet/enet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PACKET_TYPE_STRING 4

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint32_t rd_u32le(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Remaining time until deadline, clamped to [0, deadline - now]. */
static enet_uint32 remaining(uint64_t deadline) {
  uint64_t t = now_ms();
  return t >= deadline ? 0 : (enet_uint32)(deadline - t);
}

/* Disconnect gracefully: service until DISCONNECT or 1 s, then force. Frees packets seen meanwhile. */
static void disconnect_cleanly(ENetHost *host, ENetPeer *peer) {
  ENetEvent ev;
  uint64_t deadline = now_ms() + 1000;
  int done = 0;
  enet_peer_disconnect(peer, 0);
  while (!done) {
    enet_uint32 left = remaining(deadline);
    int r = enet_host_service(host, &ev, left);
    while (r > 0) {
      if (ev.type == ENET_EVENT_TYPE_RECEIVE) enet_packet_destroy(ev.packet);
      else if (ev.type == ENET_EVENT_TYPE_DISCONNECT) done = 1;
      r = enet_host_check_events(host, &ev);
    }
    if (r < 0 || left == 0) break;
  }
  if (!done) enet_peer_reset(peer);
}

int main(int argc, char **argv) {
  const char *prog = argv[0];
  int range_coder = 0;
  if (argc > 1 && strcmp(argv[1], "--range-coder") == 0) {
    range_coder = 1;
    argv++;
    argc--;
  }
  if (argc < 4 || argc > 5) {
    fprintf(stderr, "usage: %s [--range-coder] <host> <port> <message> [timeout_ms]\n", prog);
    return 1;
  }
  const char *hostname = argv[1];
  char *end = NULL;
  errno = 0;
  long port = strtol(argv[2], &end, 10);
  if (errno || *end || port <= 0 || port > 65535) {
    fprintf(stderr, "invalid port: %s\n", argv[2]);
    return 1;
  }
  const char *msg = argv[3];
  size_t msglen = strlen(msg);
  long timeout_ms = 5000;
  if (argc == 5) {
    errno = 0;
    timeout_ms = strtol(argv[4], &end, 10);
    if (errno || *end || timeout_ms <= 0) {
      fprintf(stderr, "invalid timeout_ms: %s\n", argv[4]);
      return 1;
    }
  }
  if (msglen > 0xFFFFFFFFu - 5) {
    fprintf(stderr, "message too long\n");
    return 1;
  }

  if (enet_initialize() != 0) {
    fprintf(stderr, "enet_initialize failed\n");
    return 1;
  }
  int rc = 0;
  ENetHost *host = NULL;
  ENetPeer *peer = NULL;
  ENetEvent ev;

  host = enet_host_create(NULL, 1, 2, 0, 0);
  if (!host) {
    fprintf(stderr, "enet_host_create failed\n");
    rc = 1;
    goto out;
  }
  if (range_coder && enet_host_compress_with_range_coder(host) != 0) {
    fprintf(stderr, "enet_host_compress_with_range_coder failed\n");
    rc = 1;
    goto out;
  }
  ENetAddress addr;
  if (enet_address_set_host(&addr, hostname) != 0) {
    fprintf(stderr, "cannot resolve host %s\n", hostname);
    rc = 2;
    goto out;
  }
  addr.port = (enet_uint16)port;
  peer = enet_host_connect(host, &addr, 2, 0);
  if (!peer) {
    fprintf(stderr, "enet_host_connect failed\n");
    rc = 2;
    goto out;
  }

  /* Phase 1: wait for CONNECT. */
  {
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
    int connected = 0, failed = 0;
    while (!connected && !failed) {
      enet_uint32 left = remaining(deadline);
      int r = enet_host_service(host, &ev, left);
      while (r > 0) {
        if (ev.type == ENET_EVENT_TYPE_CONNECT) connected = 1;
        else if (ev.type == ENET_EVENT_TYPE_DISCONNECT) failed = 1;
        else if (ev.type == ENET_EVENT_TYPE_RECEIVE) enet_packet_destroy(ev.packet);
        r = enet_host_check_events(host, &ev);
      }
      if (r < 0) failed = 1;
      if (!connected && left == 0) break;
    }
    if (!connected) {
      fprintf(stderr, failed ? "connection failed\n" : "connect timeout\n");
      /* Not connected: no handshake to finish, drop the peer locally. */
      enet_peer_reset(peer);
      rc = 2;
      goto out;
    }
  }
  printf("CONNECTED\n");
  fflush(stdout);

  /* Send one reliable STRING packet on channel 0. */
  {
    ENetPacket *pkt = enet_packet_create(NULL, 5 + msglen, ENET_PACKET_FLAG_RELIABLE);
    if (!pkt) {
      fprintf(stderr, "enet_packet_create failed\n");
      disconnect_cleanly(host, peer);
      rc = 1;
      goto out;
    }
    uint8_t *d = pkt->data;
    uint32_t n = (uint32_t)msglen;
    d[0] = PACKET_TYPE_STRING;
    d[1] = (uint8_t)n;
    d[2] = (uint8_t)(n >> 8);
    d[3] = (uint8_t)(n >> 16);
    d[4] = (uint8_t)(n >> 24);
    memcpy(d + 5, msg, msglen);
    if (enet_peer_send(peer, 0, pkt) != 0) {
      enet_packet_destroy(pkt); /* not queued: still ours */
      fprintf(stderr, "enet_peer_send failed\n");
      disconnect_cleanly(host, peer);
      rc = 1;
      goto out;
    }
    enet_host_flush(host);
  }

  /* Phase 2: wait for the first STRING packet. */
  {
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
    int got = 0, lost = 0;
    while (!got && !lost) {
      enet_uint32 left = remaining(deadline);
      int r = enet_host_service(host, &ev, left);
      while (r > 0) {
        if (ev.type == ENET_EVENT_TYPE_RECEIVE) {
          const uint8_t *p = ev.packet->data;
          size_t len = ev.packet->dataLength;
          if (!got && len >= 5 && p[0] == PACKET_TYPE_STRING && rd_u32le(p + 1) <= len - 5) {
            uint32_t n = rd_u32le(p + 1);
            fputs("RECV ", stdout);
            fwrite(p + 5, 1, n, stdout);
            fputc('\n', stdout);
            got = 1;
          } else if (!got) {
            printf("RECV_TYPE %d %zu\n", len > 0 ? (int)p[0] : -1, len);
          }
          fflush(stdout);
          enet_packet_destroy(ev.packet);
        } else if (ev.type == ENET_EVENT_TYPE_DISCONNECT) {
          lost = 1;
        }
        r = enet_host_check_events(host, &ev);
      }
      if (r < 0) lost = 1;
      if (!got && left == 0) break;
    }
    if (lost) {
      fprintf(stderr, "disconnected by server before a reply\n");
      rc = 3; /* peer is already disconnected/reset by ENet */
      goto out;
    }
    if (!got) {
      fprintf(stderr, "no reply within %ld ms\n", timeout_ms);
      rc = 3;
    }
    disconnect_cleanly(host, peer);
  }

out:
  if (host) enet_host_destroy(host);
  enet_deinitialize();
  return rc;
}
