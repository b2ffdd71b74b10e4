/*
 * echo_server: the raw C ENet baseline for the benchmark.
 *
 * Usage: echo_server <port> [maxPeers=256] [channels=2] [socketBufferBytes=0]
 *
 * Binds 127.0.0.1:<port> (0 = ephemeral), prints "listening <port>" with the port
 * actually bound, and echoes every packet back to its sender on the same channel with
 * the same flags (the received ENetPacket itself is re-queued: no copy, no allocation).
 * One enet_host_service() per wake-up, then drain enet_host_check_events(); the queued
 * echoes go out on the next service pass, which follows at once.
 * socketBufferBytes > 0 sets SO_RCVBUF/SO_SNDBUF (capped by net.core.[rw]mem_max); 0 keeps
 * ENet's default (256 KiB), which is what the benchmark uses for parity with our server.
 * Exits cleanly (peers reset, host destroyed) on SIGTERM / SIGINT.
 */
#define _GNU_SOURCE
#include <enet/enet.h>
#include "bench.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc < 2 || argc > 5) {
    fprintf(stderr, "usage: %s <port> [maxPeers=256] [channels=2] [socketBufferBytes=0]\n", argv[0]);
    return 1;
  }
  long port = num_arg("echo_server", "port", argv[1], 0, 65535);
  long max_peers = argc > 2 ? num_arg("echo_server", "maxPeers", argv[2], 1, ENET_PROTOCOL_MAXIMUM_PEER_ID) : 256;
  long channels = argc > 3 ? num_arg("echo_server", "channels", argv[3], 1, ENET_PROTOCOL_MAXIMUM_CHANNEL_COUNT) : 2;
  long sockbuf = argc > 4 ? num_arg("echo_server", "socketBufferBytes", argv[4], 0, 1L << 30) : 0;

  stop_on_signals();

  if (enet_initialize() != 0) {
    fprintf(stderr, "enet_initialize failed\n");
    return 1;
  }
  ENetAddress addr;
  enet_address_set_host_ip(&addr, "127.0.0.1");
  addr.port = (enet_uint16)port;
  ENetHost *host = enet_host_create(&addr, (size_t)max_peers, (size_t)channels, 0, 0);
  if (!host) {
    fprintf(stderr, "cannot bind 127.0.0.1:%ld\n", port);
    enet_deinitialize();
    return 1;
  }
  if (sockbuf > 0) {
    enet_socket_set_option(host->socket, ENET_SOCKOPT_RCVBUF, (int)sockbuf);
    enet_socket_set_option(host->socket, ENET_SOCKOPT_SNDBUF, (int)sockbuf);
  }
  ENetAddress bound;
  if (enet_socket_get_address(host->socket, &bound) != 0) bound.port = addr.port;
  printf("listening %u\n", (unsigned)bound.port);
  fflush(stdout);

  unsigned long long echoed = 0, dropped = 0;
  ENetEvent ev;
  while (!stop_requested) {
    /* 10 ms: the longest we sleep with nothing to do (ENet timers, signal check). */
    int r = enet_host_service(host, &ev, 10);
    while (r > 0) {
      if (ev.type == ENET_EVENT_TYPE_RECEIVE) {
        /* Received packets belong to us with referenceCount 0 and carry the flags they
           arrived with (reliable / unsequenced / unreliable-fragment): send it back as is. */
        if (enet_peer_send(ev.peer, ev.channelID, ev.packet) == 0) {
          echoed++;
        } else {
          enet_packet_destroy(ev.packet);
          dropped++;
        }
      }
      r = enet_host_check_events(host, &ev);
    }
    if (r < 0) {
      fprintf(stderr, "enet_host_service failed\n");
      break;
    }
  }
  enet_host_flush(host);
  enet_host_destroy(host); /* resets every peer, frees every queued packet */
  enet_deinitialize();
  fprintf(stderr, "echo_server: stopped, %llu echoed, %llu dropped\n", echoed, dropped);
  return 0;
}
