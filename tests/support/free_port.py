"""free_port(): a loopback TCP port for a server a test starts, chosen below the kernel's ephemeral range.

A port picked by binding port 0 comes from the ephemeral range (net.ipv4.ip_local_port_range), the same range the
kernel takes the local port of every outgoing connection from. A test that stops a server and starts it again on
the same port (a ZooKeeper node, PostgreSQL, gnomon itself) then races every connection made meanwhile on the
machine: CI once saw a restarted ZooKeeper node fail with "Address already in use". Below that range only another
test's free_port() can take the port, and it picks at random among some twenty thousand."""
import random
import socket

_RANDOM = random.SystemRandom()


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """A loopback port that was free a moment ago (and is not one the kernel hands to outgoing connections)."""
    low, high = 10000, _ephemeral_low()
    if high - low >= 1000:
        for _ in range(100):
            port = _RANDOM.randrange(low, high)
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
