"""Any instance answers (issue 13, item 7): two `gnomon server --zk-hosts ...` against a real three-node ZooKeeper
ensemble (zk_harness.py). Through the follower, what needs the leader reaches it: Chronos's calls as the
chronos-python client makes them (POST /scheduler/iso8601 and /scheduler/dependency, PUT /scheduler/job/NAME,
DELETE, GET /scheduler/jobs), run now, kill, a Chronos task status, the event stream and a followed log (both
streamed as they come; a client that reads slowly holds the leader back rather than being cut), and an agent
that registers with the follower and runs a task. A request already proxied is not proxied again. The ensemble
stopped (quorum lost): reads still answer, changes get 503 with Retry-After and the reason; once a leader is
back, the follower proxies again and ends the event streams it served itself meanwhile. (Each server has its own store until PostgreSQL is wired in: what was changed
through the follower is read from the leader.)"""

import http.client
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, dep, main, sched, wait_until  # noqa: E402
from test_agents import Agent  # noqa: E402
from zk_harness import (addr, close_module_ensemble as tearDownModule, module_ensemble as ensemble,  # noqa: E402, F401
                       zk_args)

V1 = "/v1/scheduler"
ZK_TIMEOUT_MS = 4000


class Stream:
    """A streamed GET on a raw socket, read (and de-chunked as it comes) in a thread."""

    def __init__(self, srv, path, hold=None):
        self.sock = socket.create_connection((srv.host, srv.port), timeout=60)
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path).encode())
        self.head, self.body, self.complete, self.eof = None, bytearray(), False, False
        self.lock, self.hold = threading.Lock(), hold
        threading.Thread(target=self._read, daemon=True).start()

    def _take(self, pending):
        """De-chunk what pending holds; returns what is left of it (an incomplete chunk)."""
        at = 0
        while True:
            if self.head is None:
                end = pending.find(b"\r\n\r\n", at)
                if end < 0:
                    break
                self.head, at = bytes(pending[at:end]).decode(), end + 4
                continue
            end = pending.find(b"\r\n", at)
            if end < 0:
                break
            size = int(bytes(pending[at:end]).split(b";")[0] or b"0", 16)
            if size == 0:
                self.complete = True
                break
            if len(pending) < end + 2 + size + 2:
                break
            self.body += pending[end + 2:end + 2 + size]
            at = end + 2 + size + 2
        return pending[at:]

    def _read(self):
        if self.hold:
            self.hold.wait(60)  # a slow client: nothing is read until then
        pending = bytearray()
        try:
            while True:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    break
                pending += chunk
                with self.lock:
                    pending = self._take(pending)
        except OSError:
            pass
        self.eof = True

    def parts(self):
        """(head text, body so far, complete: the last chunk came)."""
        with self.lock:
            return self.head or "", bytes(self.body), self.complete

    def wait_body(self, needle, what):
        return wait_until(lambda: needle in self.parts()[1] and self.parts(), 30, interval=0.05, what=what)

    def close(self):
        self.sock.close()


class Proxy(GnomonTestCase):
    server_args = None  # each test starts its own servers

    def start_servers(self, n=2, extra=()):
        e = ensemble()
        path = "/gnomon-proxy/%s" % self._testMethodName
        return [self.new_server(zk_args(e.hosts, path, ZK_TIMEOUT_MS) + list(extra)) for _ in range(n)]

    def cluster(self, srv):
        status, body = srv.json("GET", "/api/v1/cluster")
        self.assertEqual(status, 200, body)
        return body

    def roles(self, servers):
        """(leader, follower) once one leads and the other names it, else None."""
        views = [self.cluster(s) for s in servers]
        leaders = [s for s, v in zip(servers, views) if v["role"] == "leader"]
        if len(leaders) != 1 or any(v["leader"] != addr(leaders[0]) for v in views):
            return None
        return leaders[0], [s for s in servers if s is not leaders[0]][0]

    def wait_roles(self, servers):
        return wait_until(lambda: self.roles(servers), 30, interval=0.05, what="one leader named by both")

    def runs(self, srv, name):
        status, body = srv.json("GET", "/api/v1/jobs/%s/runs?limit=100" % name)
        self.assertEqual(status, 200, body)
        return body["runs"]

    def wait_run(self, srv, name, pred, what, timeout=30):
        return wait_until(lambda: [r for r in self.runs(srv, name) if pred(r)], timeout, interval=0.05, what=what)[0]

    def test_any_instance_answers(self):
        servers = self.start_servers()
        leader, follower = self.wait_roles(servers)
        t0 = time.monotonic()

        # Chronos's calls, as chronos-python makes them, through the follower
        status, headers, body = follower.request("POST", V1 + "/iso8601", sched("p-parent", "true"))
        self.assertEqual(status, 204, body)
        self.assertEqual(headers.get("x-gnomon-leader"), addr(leader))
        self.assertEqual(self.post_job(dep("p-child", ["p-parent"]), srv=follower)[0], 204)
        self.assertEqual(self.post_job(sched("p-edit", "true"), srv=follower, prefix="/scheduler")[0], 204)
        self.assertEqual(self.post_job(sched("p-edit", "echo edited"), srv=follower, prefix="/scheduler")[0], 204)
        self.assertEqual(self.get_job("p-edit", srv=leader)["command"], "echo edited")
        self.assertEqual(sorted(self.job_names(leader)), ["p-child", "p-edit", "p-parent"])
        self.assertEqual(self.get_job("p-child", srv=leader)["parents"], ["p-parent"])
        status, _, body = follower.request("DELETE", "/scheduler/job/p-edit")
        self.assertEqual(status, 204, body)
        self.assertEqual(sorted(self.job_names(leader)), ["p-child", "p-parent"])
        status, body = follower.json("GET", "/scheduler/jobs")  # a read: the follower's own store
        self.assertEqual(status, 200, body)
        self.assertIsInstance(body, list)
        # the leader's errors come back as they are
        status, body = self.post_job(dep("p-orphan", ["nope"]), srv=follower)
        self.assertError(status, body, 400, contains="nope", srv=follower)
        status, body = follower.json("DELETE", V1 + "/job/nope")
        self.assertEqual(status, 404, body)

        # run now, the event stream and a followed log through the follower
        events = Stream(follower, "/api/v1/events")
        events.wait_body(b"event: hello", "the leader's hello through the follower")
        self.assertIn("text/event-stream", events.parts()[0])
        gate = os.path.join(tempfile.mkdtemp(prefix="gnomon-proxy-"), "go")
        self.add_job(sched("p-log", "echo first; while [ ! -e %s ]; do sleep 0.05; done; echo second" % gate),
                     srv=follower)
        status, _, body = follower.request("PUT", V1 + "/job/p-log")
        self.assertEqual(status, 204, body)
        events.wait_body(b"p-log", "an event of p-log through the follower")
        run = self.wait_run(leader, "p-log", lambda r: r["status"] == "running", "p-log running")
        tid = urllib.parse.quote(run["taskId"], safe="")
        log = Stream(follower, "/api/v1/runs/%s/log?follow=1" % tid)
        head, body, done = log.wait_body(b"first\n", "the first line through the follower, live")
        self.assertFalse(done)
        self.assertIn("HTTP/1.1 200", head)
        with open(gate, "w"):
            pass
        wait_until(lambda: log.parts()[2], 30, interval=0.05, what="the followed log's end")
        self.assertEqual(log.parts()[1], b"first\nsecond\n")
        log.close()

        # kill a running run, and a Chronos task status, through the follower
        self.add_job(sched("p-kill", "sleep 60"), srv=follower)
        self.assertEqual(follower.request("PUT", V1 + "/job/p-kill")[0], 204)
        self.wait_run(leader, "p-kill", lambda r: r["status"] == "running", "p-kill running")
        status, _, body = follower.request("DELETE", V1 + "/task/kill/p-kill")
        self.assertEqual(status, 204, body)
        self.wait_run(leader, "p-kill", lambda r: r["status"] == "killed", "p-kill killed")
        self.add_job(sched("p-async", "true", **{"async": True}), srv=follower)
        self.assertEqual(follower.request("PUT", V1 + "/job/p-async")[0], 204)
        run = self.wait_run(leader, "p-async", lambda r: r["end"] is not None, "the async process ended")
        status, body = follower.json("PUT", V1 + "/task/" + urllib.parse.quote(run["taskId"], safe=""),
                                     {"statusCode": 0})
        self.assertEqual(status, 204, body)
        self.wait_run(leader, "p-async", lambda r: r["status"] == "succeeded", "p-async succeeded")
        events.wait_body(b"p-kill", "p-kill's events through the follower")
        events.close()

        # the engine's live view comes from the leader
        status, body = follower.json("GET", "/api/v1/jobs/p-parent")
        self.assertEqual((status, body["name"]), (200, "p-parent"), body)

        # a request proxied already is not proxied again
        status, headers, body = follower.request("POST", V1 + "/iso8601", sched("p-loop"),
                                                 headers={"X-Gnomon-Proxied-By": "127.0.0.1:1"})
        self.assertEqual(status, 503, body)
        self.assertEqual(headers.get("retry-after"), "2")
        self.assertIn(b"not proxied again", body)
        self.assertNotIn("p-loop", self.job_names(leader))
        sys.stderr.write("\nproxied calls through the follower: %.2f s\n" % (time.monotonic() - t0))

    def test_agent_through_follower(self):
        servers = self.start_servers(extra=("--local-agent=false", "--agent-timeout", "6"))
        leader, follower = self.wait_roles(servers)
        agent = Agent(follower, "via-follower", attrs=("via=follower",))
        self.addCleanup(agent.close)
        agent.start()
        wait_until(lambda: [a for a in follower.json("GET", "/api/v1/agents")[1]
                            if a["name"] == "via-follower" and a["state"] == "up"], 30, interval=0.1,
                   what="the agent registered through the follower, seen by the leader")
        self.add_job(sched("p-agent", "echo ran-on-$GNOMON_AGENT", constraints=[["via", "EQUALS", "follower"]]),
                     srv=follower)
        self.assertEqual(follower.request("PUT", V1 + "/job/p-agent")[0], 204)
        run = self.wait_run(leader, "p-agent", lambda r: r["status"] in ("succeeded", "failed", "lost"),
                            "p-agent ended")
        self.assertEqual((run["status"], run["agent"]), ("succeeded", "via-follower"), run)
        status, _, out = leader.request("GET", "/api/v1/runs/%s/log" % urllib.parse.quote(run["taskId"], safe=""))
        self.assertEqual(status, 200)
        self.assertIn(b"ran-on-", out)
        self.assertNotIn("ERROR", agent.log().upper().replace("LOG-LEVEL", ""))

    def test_slow_stream_client(self):
        """A followed log of 24 MB through the follower to a client that reads nothing for a while: the follower
        holds the leader back rather than cut the stream or keep it all; every byte arrives, in order."""
        size = 24 << 20
        servers = self.start_servers(extra=("--log-cap", "32M"))
        leader, follower = self.wait_roles(servers)
        gate = os.path.join(tempfile.mkdtemp(prefix="gnomon-proxy-"), "go")
        # In a cluster a task runs on an agent, here the leader's local agent (a process of its own,
        # server_agent.h), which sends its output up live while it keeps up: a stream that falls 256 KiB behind
        # is left to the final copy, at most 1 MiB (docs/agent-protocol.md). The task writes its 24 MB in 64 KiB
        # pieces, 10 ms apart, so that the agent keeps up and the whole log reaches the leader live.
        self.add_job(sched("p-big", "while [ ! -e %s ]; do sleep 0.05; done; for i in $(seq %d); do head -c 65536 "
                           "/dev/zero | tr '\\0' x; sleep 0.01; done; echo; echo end" % (gate, size >> 16),
                           constraints=[["server", "EQUALS", addr(leader)]]), srv=follower)
        self.assertEqual(follower.request("PUT", V1 + "/job/p-big")[0], 204)
        run = self.wait_run(leader, "p-big", lambda r: r["status"] == "running", "p-big running")
        hold = threading.Event()
        log = Stream(follower, "/api/v1/runs/%s/log?follow=1" % urllib.parse.quote(run["taskId"], safe=""),
                     hold=hold)
        with open(gate, "w"):
            pass
        t0 = time.monotonic()
        self.wait_run(leader, "p-big", lambda r: r["status"] == "succeeded", "p-big ended", 120)
        t1 = time.monotonic()
        hold.set()
        wait_until(lambda: log.complete or log.eof, 60, interval=0.1, what="the whole log through the follower")
        sys.stderr.write("\n%d MiB: the task ran %.2f s, the held client then read it all in %.2f s\n"
                         % (size >> 20, t1 - t0, time.monotonic() - t1))
        head, body, complete = log.parts()
        self.assertTrue(complete, "the stream was cut after %d bytes" % len(body))
        self.assertEqual((len(body), body[:3], body[-5:]), (size + 5, b"xxx", b"\nend\n"))
        self.assertEqual(body.count(b"x"), size)
        log.close()

    def test_quorum_lost(self):
        servers = self.start_servers()
        leader, follower = self.wait_roles(servers)
        self.add_job(sched("q-job"), srv=follower)
        e = ensemble()
        for i in range(3):
            e.stop(i)
        try:
            for srv in servers:
                wait_until(lambda: not self.cluster(srv)["zookeeper"]["connected"], 20, interval=0.05,
                           what="the session disconnected")
            for srv in servers:
                wait_until(lambda: self.cluster(srv)["role"] == "follower", 20, interval=0.05,
                           what="nobody leads")
                status, body = srv.json("GET", V1 + "/jobs")  # reads keep working
                self.assertEqual(status, 200, body)
                status, body = srv.json("GET", V1 + "/jobs/summary")
                self.assertEqual(status, 200, body)
                status, headers, body = srv.request("POST", V1 + "/iso8601", sched("q-refused"))
                self.assertEqual(status, 503, body)
                self.assertEqual(headers.get("retry-after"), "2")
                self.assertIn(b"no leader: ZooKeeper quorum lost", body)
            self.assertIn("q-job", self.job_names(leader))
            local = Stream(follower, "/api/v1/events")  # no leader: the follower's own stream
            local.wait_body(b"event: hello", "the follower's own event stream")
        finally:
            for i in range(3):
                e.start(i)
            e.wait_quorum()
        # the quorum back: a leader again, and the follower proxies again; its own event stream ends (within a
        # second) so that the client comes back to the leader's
        leader, follower = self.wait_roles(servers)
        wait_until(lambda: local.parts()[2], 5, interval=0.05, what="the follower's own event stream ended")
        local.close()
        self.add_job(sched("q-after"), srv=follower)
        self.assertIn("q-after", self.job_names(leader))

    def test_leader_changes_under_a_forwarded_request(self):
        """A request the follower forwards to a leader that stops answering (paused) ends when another server
        leads, with 503 and Retry-After naming the change, not when the proxy's 30 s run out (504); an event
        stream passed on from it ends too, so that its client comes back to the new leader's."""
        servers = self.start_servers(3)
        leader = wait_until(lambda: (lambda ls: ls[0] if len(ls) == 1 else None)(
            [s for s in servers if self.cluster(s)["role"] == "leader"]), 30, interval=0.05, what="a leader")
        wait_until(lambda: all(self.cluster(s)["leader"] == addr(leader) for s in servers), 30, interval=0.05,
                   what="every server naming the leader")
        self.add_job(sched("held"), srv=leader)
        follower = [s for s in servers if s is not leader][0]
        events = Stream(follower, "/api/v1/events")
        events.wait_body(b"event: hello", "the leader's event stream through the follower")
        answer = {}

        def run_now():
            answer["it"] = follower.request("PUT", V1 + "/job/held", timeout=60)

        leader.proc.send_signal(signal.SIGSTOP)
        try:
            t = threading.Thread(target=run_now, daemon=True)
            t.start()
            t.join(ZK_TIMEOUT_MS / 1000 + 20)
        finally:
            leader.proc.send_signal(signal.SIGCONT)
        self.assertIn("it", answer, "the forwarded request was not answered")
        status, headers, body = answer["it"]
        self.assertEqual(status, 503, body)
        self.assertEqual(headers.get("retry-after"), "2")
        self.assertIn(b"PUT /v1/scheduler/job/held: the leader changed from %s to " % addr(leader).encode(), body)
        wait_until(lambda: events.eof or events.parts()[2], 10, interval=0.05, what="the passed-on stream cut")
        events.close()


if __name__ == "__main__":
    main()
