#!/usr/bin/env python3
"""A delay line: a transparent bridge between two network ports that holds every
frame DELAY_MS before passing it on, both ways (a long path: another continent,
a satellite hop). This kernel has no netem (../../../shared/LAB.md); the tests
run this in a namespace of their own between two veths (lib/delay_line.mjs).

Frames are read and written with their virtio-net header (PACKET_VNET_HDR), so
checksums left to offload and GSO frames pass as they came. Exits by itself
after LIFETIME_S (the test kills it sooner).

usage: delay_line.py PORT_A PORT_B DELAY_MS [LIFETIME_S]
"""
import heapq
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_VNET_HDR = 15
PACKET_OUTGOING = 4


def open_port(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((name, 0))
    s.setblocking(False)
    return s


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    port_a, port_b, delay_ms = sys.argv[1], sys.argv[2], float(sys.argv[3])
    lifetime = float(sys.argv[4]) if len(sys.argv) > 4 else 900.0
    a, b = open_port(port_a), open_port(port_b)
    peer = {a: b, b: a}
    delay = delay_ms / 1000.0
    held = []  # (due, serial, socket to send on, frame)
    serial = 0
    end = time.monotonic() + lifetime
    print('ready', flush=True)
    while time.monotonic() < end:
        wait = max(0.0, held[0][0] - time.monotonic()) if held else 0.5
        readable, _, _ = select.select([a, b], [], [], wait)
        now = time.monotonic()
        for s in readable:
            while True:
                try:
                    frame, addr = s.recvfrom(65536 + 64)
                except BlockingIOError:
                    break
                except OSError:
                    return  # the port went away (the test took its namespaces down): the line ends
                if addr[2] == PACKET_OUTGOING:
                    continue  # what we sent ourselves
                heapq.heappush(held, (now + delay, serial, peer[s], frame))
                serial += 1
        now = time.monotonic()
        while held and held[0][0] <= now:
            _, _, s, frame = heapq.heappop(held)
            try:
                s.send(frame)
            except OSError:
                pass  # a full queue drops, as a link would


if __name__ == '__main__':
    main()
