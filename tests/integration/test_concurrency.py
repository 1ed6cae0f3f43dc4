"""Many clients at once: concurrent writers on disjoint jobs and readers of every listing end in exactly the
expected state, every answer along the way is well-formed, and that state survives a restart."""

import http.client
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, main, parse_json, sched, dep  # noqa: E402

V1 = "/v1/scheduler"
WRITERS = 6
JOBS_PER_WRITER = 25


class ConcurrentClients(GnomonTestCase):

    def writer(self, w):
        """Create a chain w-00 <- w-01 <- ..., replace every job, then delete the odd ones."""
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)

        def call(method, path, body=None, expect=204):
            conn.request(method, path, json.dumps(body) if body is not None else None,
                         {"Content-Type": "application/json"} if body is not None else {})
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != expect:
                self.problems.append("%s %s -> %d %r" % (method, path, resp.status, data[:200]))
            return data

        try:
            names = ["w%d-%02d" % (w, i) for i in range(JOBS_PER_WRITER)]
            for i, n in enumerate(names):
                job = sched(n, "echo v1") if i == 0 else dep(n, [names[i - 1]], "echo v1")
                call("POST", V1 + ("/iso8601" if i == 0 else "/dependency"), job)
            for i, n in enumerate(names):
                job = sched(n, "echo v2 " + n) if i == 0 else dep(n, [names[i - 1]], "echo v2 " + n)
                call("POST", V1 + ("/iso8601" if i == 0 else "/dependency"), job)
                got = parse_json(call("GET", V1 + "/job/" + n, expect=200))
                if not got or got.get("command") != "echo v2 " + n:
                    self.problems.append("read-your-write failed for %s: %r" % (n, got))
            for n in names[1::2]:
                call("DELETE", V1 + "/job/" + n)
        except (OSError, http.client.HTTPException) as e:
            self.problems.append("writer %d: %r" % (w, e))
        finally:
            conn.close()

    def reader(self, stop):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        paths = [V1 + "/jobs", V1 + "/jobs/summary", V1 + "/graph/dot", V1 + "/graph/csv", "/metrics",
                 V1 + "/jobs/search?name=w1"]
        try:
            while not stop.is_set():
                for p in paths:
                    conn.request("GET", p)
                    resp = conn.getresponse()
                    data = resp.read()
                    if resp.status != 200:
                        self.problems.append("GET %s -> %d" % (p, resp.status))
                    elif "graph" not in p and parse_json(data) is None:
                        self.problems.append("GET %s: invalid JSON %r" % (p, data[:200]))
                    elif p.endswith("/dot") and not (data.startswith(b"digraph G {\n") and data.endswith(b"}\n")):
                        self.problems.append("GET %s: bad DOT %r" % (p, data[:200]))
        except (OSError, http.client.HTTPException) as e:
            self.problems.append("reader: %r" % e)
        finally:
            conn.close()

    def expected_state(self):
        """{name: (command, parents or None)} after every writer finished."""
        expected = {}
        for w in range(WRITERS):
            names = ["w%d-%02d" % (w, i) for i in range(JOBS_PER_WRITER)]
            for i in range(0, JOBS_PER_WRITER, 2):
                # Deleting odd job i-1 (a dependent job) hands its parent i-2 to job i.
                parents = None if i == 0 else [names[i - 2]]
                expected[names[i]] = ("echo v2 " + names[i], parents)
        return expected

    def check_state(self):
        jobs = self.list_jobs()
        got = {j["name"]: (j["command"], j.get("parents")) for j in jobs}
        self.assertEqual(got, self.expected_state())
        for w in range(WRITERS):
            mine = [j["name"] for j in jobs if j["name"].startswith("w%d-" % w)]
            self.assertEqual(mine, sorted(mine), "creation order of writer %d lost" % w)
        status, body = self.server.json("GET", V1 + "/jobs/summary")
        self.assertEqual([j["name"] for j in body["jobs"]], [j["name"] for j in jobs])
        _, _, csv = self.server.request("GET", V1 + "/graph/csv")
        links = sorted(ln for ln in csv.decode().splitlines() if ln.startswith("link,"))
        expected_links = sorted("link,%s,%s" % (p[0], n) for n, (_, p) in self.expected_state().items() if p)
        self.assertEqual(links, expected_links)

    def test_concurrent_writers_and_readers(self):
        self.problems = []
        stop = threading.Event()
        readers = [threading.Thread(target=self.reader, args=(stop,)) for _ in range(2)]
        writers = [threading.Thread(target=self.writer, args=(w,)) for w in range(WRITERS)]
        for t in readers + writers:
            t.start()
        for t in writers:
            t.join(120)
        stop.set()
        for t in readers:
            t.join(30)
        self.assertFalse(any(t.is_alive() for t in readers + writers), "a client thread hung")
        self.assertEqual(self.problems, [])
        self.check_state()
        self.server.restart()
        self.check_state()

    def test_many_jobs(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        names = ["bulk%04d" % i for i in range(500)]
        for n in names:
            conn.request("POST", V1 + "/iso8601", json.dumps(sched(n, "echo " + n)),
                         {"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 204)
        conn.close()
        self.assertEqual(self.job_names(), names)
        status, body = self.server.json("GET", V1 + "/jobs/search?name=bulk04&limit=1000")
        self.assertEqual([j["name"] for j in body], names[400:500])
        status, body = self.server.json("GET", V1 + "/jobs/search?name=bulk&offset=495")
        self.assertEqual([j["name"] for j in body], names[495:])
        status, body = self.server.json("GET", V1 + "/jobs/summary")
        self.assertEqual(len(body["jobs"]), 500)


if __name__ == "__main__":
    main()
