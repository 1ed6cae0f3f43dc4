"""The API behind the web UI: the job listing (filters, sorting, server-side paging, schedules in words), the
overview, and the server-sent event stream of job and run changes."""

import http.client
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, dep, main, sched, wait_until  # noqa: E402

V1 = "/v1/scheduler"
NEVER = "R/2030-01-01T13:00:00Z/P1D"


class EventReader:
    """Reads GET /api/v1/events over a raw socket in a thread, collecting (event, data) pairs."""

    def __init__(self, server):
        self.sock = socket.create_connection((server.host, server.port), timeout=30)
        self.sock.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
        self.events, self.head, self.lock = [], b"", threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        data = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return
                data += chunk
                if not self.head and b"\r\n\r\n" in data:
                    self.head, data = data.split(b"\r\n\r\n", 1)
                with self.lock:
                    self.raw = data
        except OSError:
            return

    def parsed(self):
        with self.lock:
            raw = getattr(self, "raw", b"")
        # De-chunk: chunks are "<hex>\r\n<data>\r\n".
        out, rest = b"", raw
        while rest:
            line, sep, rest = rest.partition(b"\r\n")
            if not sep:
                break
            size = int(line.split(b";")[0] or b"0", 16)
            if size == 0 or len(rest) < size + 2:
                break
            out, rest = out + rest[:size], rest[size + 2:]
        events = []
        for block in out.decode().split("\n\n"):
            fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and
                          not line.startswith(":"))
            if "event" in fields:
                events.append((fields["event"], json.loads(fields.get("data", "{}"))))
        return events

    def wait_for(self, predicate, what):
        return wait_until(lambda: [e for e in self.parsed() if predicate(e)], 30, interval=0.05, what=what)

    def close(self):
        self.sock.close()


class Listing(GnomonTestCase):

    def listing(self, query=""):
        status, body = self.server.json("GET", "/api/v1/jobs" + query)
        self.assertEqual(status, 200, body)
        return body

    def test_filters_sorting_paging_and_words(self):
        self.add_job(sched("alpha", "echo a", schedule=NEVER, scheduleTimeZone="Europe/Paris",
                           owner="ops@example.com"))
        self.add_job(sched("beta", "backup --all", schedule="*/15 * * * *", owner="dba@example.com"))
        self.add_job(sched("gamma", "true", schedule=NEVER, disabled=True))
        self.add_job(dep("delta", ["alpha", "beta"], "true"))
        body = self.listing()
        self.assertEqual(body["total"], 4)
        self.assertEqual([j["name"] for j in body["jobs"]], ["alpha", "beta", "gamma", "delta"])
        words = {j["name"]: j["scheduleText"] for j in body["jobs"]}
        self.assertEqual(words, {"alpha": "every day at 13:00 Europe/Paris", "beta": "every 15 minutes UTC",
                                 "gamma": "every day at 13:00 UTC", "delta": "after alpha, beta"})
        alpha = body["jobs"][0]
        self.assertEqual(alpha["nextRun"], "2030-01-01T12:00:00.000Z")
        self.assertEqual((alpha["state"], alpha["lastResult"], alpha["successCount"]), ("idle", "fresh", 0))
        self.assertIsNone(body["jobs"][2]["nextRun"], "a disabled job has no next run")
        self.assertEqual([j["name"] for j in self.listing("?sort=name&order=desc")["jobs"]],
                         ["gamma", "delta", "beta", "alpha"])
        page = self.listing("?sort=name&limit=2&offset=1")
        self.assertEqual((page["total"], [j["name"] for j in page["jobs"]]), (4, ["beta", "delta"]))
        self.assertEqual([j["name"] for j in self.listing("?q=BACKUP")["jobs"]], ["beta"])
        self.assertEqual([j["name"] for j in self.listing("?owner=example.com")["jobs"]], ["alpha", "beta"])
        self.assertEqual([j["name"] for j in self.listing("?state=disabled")["jobs"]], ["gamma"])
        self.assertEqual(self.listing("?result=failure")["total"], 0)
        self.assertEqual([j["name"] for j in self.listing("?sort=next")["jobs"]][0], "beta")

    def test_one_job_as_the_listing_shows_it(self):
        self.add_job(sched("db.backup", "true", schedule=NEVER, owner="dba@example.com"))
        self.add_job(sched("db.backup2", "true", schedule=NEVER))
        status, body = self.server.json("GET", "/api/v1/jobs/db.backup")
        self.assertEqual(status, 200, body)
        self.assertEqual(body, self.listing("?name=db.backup")["jobs"][0])
        self.assertEqual((body["scheduleText"], body["owner"]), ("every day at 13:00 UTC", "dba@example.com"))
        status, body = self.server.json("GET", "/api/v1/jobs/nope")
        self.assertError(status, body, 404)

    def test_bad_parameters_name_the_parameter(self):
        for query, word in [("?limit=0", "limit"), ("?limit=abc", "limit"), ("?offset=-1", "offset"),
                            ("?sort=size", "sort"), ("?order=up", "order"), ("?state=sleeping", "state"),
                            ("?result=maybe", "result")]:
            status, body = self.server.json("GET", "/api/v1/jobs" + query)
            self.assertError(status, body, 400, prefix=word + ":")

    def test_overview(self):
        self.add_job(sched("ok", "true", schedule=NEVER))
        self.add_job(sched("bad", "exit 3", schedule=NEVER, retries=0))
        self.add_job(sched("off", "true", schedule=NEVER, disabled=True))
        for name in ("ok", "bad"):
            self.assertEqual(self.server.request("PUT", V1 + "/job/" + name)[0], 204)
        wait_until(lambda: self.server.json("GET", "/api/v1/overview")[1]["counts"]["failure"] == 1, 30,
                   what="the failure counted")
        wait_until(lambda: self.server.json("GET", "/api/v1/overview")[1]["counts"]["success"] == 1, 30,
                   what="the success counted")
        _, body = self.server.json("GET", "/api/v1/overview")
        self.assertEqual(body["counts"]["jobs"], 3)
        self.assertEqual(body["counts"]["disabled"], 1)
        self.assertEqual([r["job"] for r in body["recentFailures"]], ["bad"])
        self.assertEqual(body["recentFailures"][0]["exitCode"], 3)
        self.assertEqual([u["job"] for u in body["upcoming"]], ["ok", "bad"])
        self.assertEqual(body["upcoming"][0]["at"], "2030-01-01T13:00:00.000Z")


class Events(GnomonTestCase):

    def test_job_and_run_changes_are_streamed(self):
        reader = EventReader(self.server)
        self.addCleanup(reader.close)
        reader.wait_for(lambda e: e[0] == "hello", "the hello event")
        self.assertIn(b"text/event-stream", reader.head)
        self.add_job(sched("ev", "echo hi", schedule=NEVER))
        created = reader.wait_for(lambda e: e[0] == "job.created", "job.created")[0][1]
        self.assertEqual(created["job"]["name"], "ev")
        self.assertEqual(created["job"]["scheduleText"], "every day at 13:00 UTC")
        self.assertEqual(self.server.request("PUT", V1 + "/job/ev")[0], 204)
        done = reader.wait_for(lambda e: e[0] == "run.changed" and e[1]["run"]["status"] == "succeeded",
                               "the run's end")[0][1]
        self.assertEqual(done["job"]["successCount"], 1)
        statuses = [e[1]["run"]["status"] for e in reader.parsed() if e[0] == "run.changed"]
        self.assertEqual(statuses, ["queued", "running", "succeeded"])
        self.assertEqual(self.server.request("DELETE", V1 + "/job/ev")[0], 204)
        gone = reader.wait_for(lambda e: e[0] == "job.deleted", "job.deleted")[0][1]
        self.assertEqual(gone["job"], {"name": "ev"})

    def test_events_caused_by_a_request_arrive_at_once(self):
        # A change made by an API request (inside the HTTP server's turn) must not wait for the next unrelated
        # event or the 15 s keepalive to reach the stream.
        # The requests share one kept-alive connection, as a browser's do, so no socket activity follows them.
        reader = EventReader(self.server)
        self.addCleanup(reader.close)
        reader.wait_for(lambda e: e[0] == "hello", "the hello event")
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)
        self.addCleanup(conn.close)
        for name in ("first", "second"):
            t0 = time.monotonic()
            conn.request("POST", V1 + "/iso8601", body=json.dumps(sched(name, "true", schedule=NEVER)),
                         headers={"Content-Type": "application/json"})
            self.assertEqual(conn.getresponse().read(), b"")
            reader.wait_for(lambda e, n=name: e[0] == "job.created" and e[1]["job"]["name"] == n, name)
            self.assertLess(time.monotonic() - t0, 3.0, "job.created of %s came late" % name)

    def test_failure_events(self):
        reader = EventReader(self.server)
        self.addCleanup(reader.close)
        reader.wait_for(lambda e: e[0] == "hello", "the hello event")
        marker = os.path.join(self.server.root, "failed-once")
        self.add_job(sched("flaky", "[ -e %s ] || { touch %s; exit 1; }" % (marker, marker), schedule=NEVER,
                           retries=0))
        self.assertEqual(self.server.request("PUT", V1 + "/job/flaky")[0], 204)
        ev = reader.wait_for(lambda e: e[0] == "run.retries_exhausted", "retries exhausted")[0][1]
        self.assertEqual((ev["run"]["status"], ev["run"]["exitCode"]), ("failed", 1))
        self.assertEqual(self.server.request("PUT", V1 + "/job/flaky")[0], 204)
        ev = reader.wait_for(lambda e: e[0] == "job.recovered", "job recovered")[0][1]
        self.assertEqual((ev["run"]["status"], ev["job"]["errorsSinceLastSuccess"]), ("succeeded", 0))

    def test_server_stops_with_clients_connected(self):
        reader = EventReader(self.server)
        self.addCleanup(reader.close)
        reader.wait_for(lambda e: e[0] == "hello", "the hello event")
        self.server.stop()  # a clean exit (and no sanitizer report) with a stream open


class Serving(GnomonTestCase):

    def test_root_redirects_to_the_ui(self):
        status, headers, _ = self.server.request("GET", "/")
        self.assertEqual((status, headers.get("location")), (302, "/ui/"))

    def test_files_and_pages(self):
        status, headers, index = self.server.request("GET", "/ui/")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/html"))
        self.assertIn(b'<script type="module"', index)
        self.assertIn("default-src 'self'", headers["content-security-policy"])
        # every page path is the one page, so a job's or a run's URL can be bookmarked
        for page in ("/ui/jobs/backup", "/ui/runs/ct:1:0:backup:", "/ui/graph", "/ui/jobs/db.backup",
                     "/ui/jobs/db.backup/edit", "/ui/runs/ct%3A1%3A0%3Adb.backup%3Aa%2Fb.txt", "/ui/new"):
            status, _, body = self.server.request("GET", page)
            self.assertEqual((status, body), (200, index), page)
        status, headers, _ = self.server.request("GET", "/ui/js/app.js")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/javascript"))
        status, again, body = self.server.request("GET", "/ui/js/app.js", headers={"If-None-Match": headers["etag"]})
        self.assertEqual((status, body), (304, b""))
        status, body = self.server.json("GET", "/ui/no-such-file.js")
        self.assertError(status, body, 404)

    def test_every_file_in_ui_is_served_as_it_is_in_the_tree(self):
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "ui")
        for dirpath, _, files in os.walk(root):
            for name in files:
                rel = os.path.relpath(os.path.join(dirpath, name), root)
                with open(os.path.join(root, rel), "rb") as f:
                    want = f.read()
                status, _, body = self.server.request("GET", "/ui/" + rel)
                self.assertEqual((status, body), (200, want), rel)


if __name__ == "__main__":
    main()
