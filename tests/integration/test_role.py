"""The scheduling role (issue 11, point 6): a server can give up the scheduling role and take it again while it
runs. Standalone it leads from the start; SIGUSR1 makes it step down, SIGUSR2 elects it again with the next
epoch. Stepped down, nothing is dispatched (a job due every second gets no new run), running tasks are left
alone (a task the test releases finishes on its own, its run still open in the store), changes answer 503 while
reads work, and GET /leader names no leader. Elected again, the engine reconciles: the task that ended while
nobody led is recorded as it ended (succeeded, not lost), the slots that came due meanwhile are accounted for,
and scheduling and changes resume. The epoch is kept in the store: each start of the server leads with the next
one, after a kill -9 too."""

import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, iso_ms, main, now_ms, sched, wait_until  # noqa: E402

V1 = "/v1/scheduler"
API = "/api/v1"


class Role(GnomonTestCase):
    def runs(self, name):
        status, body = self.server.json("GET", API + "/jobs/%s/runs?limit=1000" % name)
        self.assertEqual(status, 200, body)
        return body["runs"]

    def wait_log(self, text):
        wait_until(lambda: text in self.server.log(), 20, interval=0.05, what="%r in the server's log" % text)

    def wait_current_log(self, text):
        wait_until(lambda: text in self.server.current_log(), 20, interval=0.05,
                   what="%r in the log of the server's last start" % text)

    def test_step_down_and_elect_again(self):
        tmp = self.server.root
        started, go, done = (os.path.join(tmp, n) for n in ("started", "go", "done"))
        long_cmd = "echo started > %s; while [ ! -e %s ]; do sleep 0.05; done; echo done > %s" % (started, go, done)
        self.add_job(sched("ticker", "true", "R/%s/PT1S" % iso_ms(now_ms() + 1000)))
        self.add_job(sched("long", long_cmd))
        status, _, body = self.server.request("PUT", V1 + "/job/long")
        self.assertEqual(status, 204, body)
        wait_until(lambda: os.path.exists(started), 20, what="the long task started")
        wait_until(lambda: any(r["status"] == "succeeded" for r in self.runs("ticker")), 20, what="a ticker run")

        self.server.proc.send_signal(signal.SIGUSR1)
        self.wait_log("stepped down from the scheduling (epoch 1)")
        stepped_down = time.monotonic()
        ticker_runs = len(self.runs("ticker"))
        # changes need the leader; reads do not
        status, body = self.server.json("POST", V1 + "/iso8601", sched("new-job"))
        self.assertError(status, body, 503, contains="not the leader")
        status, body = self.server.json("PUT", V1 + "/job/ticker")
        self.assertError(status, body, 503)
        status, body = self.server.json("GET", V1 + "/jobs")
        self.assertEqual((status, sorted(j["name"] for j in body)), (200, ["long", "ticker"]))
        self.assertEqual(self.server.json("GET", V1 + "/leader"), (200, {"leader": ""}))
        # the running task goes on without a leader, and ends on its own
        with open(go, "w"):
            pass
        wait_until(lambda: os.path.exists(done), 20, what="the long task ended")
        [long_run] = self.runs("long")
        self.assertEqual(long_run["status"], "running", long_run)  # nobody leads to record its end
        # nothing was dispatched: the ticker, due every second, had at least two slots meanwhile
        wait_until(lambda: time.monotonic() - stepped_down >= 2.5, 10, what="2.5 s stepped down")
        self.assertEqual(len(self.runs("ticker")), ticker_runs, "a run was claimed while stepped down")

        self.server.proc.send_signal(signal.SIGUSR2)
        self.wait_log("leading the scheduling (epoch 2)")
        # reconciled: the task that ended while nobody led is recorded as it ended
        wait_until(lambda: self.runs("long")[0]["status"] == "succeeded", 20, what="the long run recorded")
        self.assertEqual(self.runs("long")[0]["exitCode"], 0)
        # scheduling resumes, and the slots due while stepped down are recorded (skipped or collapsed)
        wait_until(lambda: len(self.runs("ticker")) > ticker_runs + 1, 20, what="ticker runs again")
        after = self.runs("ticker")[:len(self.runs("ticker")) - ticker_runs]
        self.assertTrue(any(r["status"] == "skipped" for r in after), after)
        self.assertEqual(self.server.json("GET", V1 + "/leader")[1]["leader"],
                         "%s:%d" % (socket.gethostname(), self.server.port))
        status, body = self.server.json("POST", V1 + "/iso8601", sched("new-job"))
        self.assertEqual(status, 204, body)
        # a second step-down is as clean as the first
        self.server.proc.send_signal(signal.SIGUSR1)
        self.wait_log("stepped down from the scheduling (epoch 2)")
        # the epoch is kept in the store: every start of the server leads with a higher one
        self.server.restart()
        self.wait_current_log("leading the scheduling (epoch 3)")
        self.server.kill9()
        self.server.start()
        self.wait_current_log("leading the scheduling (epoch 4)")


if __name__ == "__main__":
    main()
