"""Tasks outlive their server (issue 12, point 2): every task runs under an executor of its own (gnomon-executor),
its parent, which captures its output and journals its result. A graceful stop (SIGTERM) or a kill -9 of the
server leaves running tasks running; the next start adopts those still running and follows them to their end, and
records those that ended meanwhile with their real result, once: nothing is recorded lost and run again.
--stop-tasks-on-exit keeps the old way: a stop kills the running tasks, recorded lost and retried."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, main, process_gone, sched, wait_until  # noqa: E402
from gnomon_harness import read_text as read  # noqa: E402

V1 = "/v1/scheduler"
API = "/api/v1"
FINAL = ("succeeded", "failed", "killed", "lost", "skipped")



class Adopt(GnomonTestCase):
    def runs(self, name, srv=None):
        status, body = (srv or self.server).json("GET", API + "/jobs/%s/runs?limit=100" % name)
        self.assertEqual(status, 200, body)
        return body["runs"]

    def start_waiting_job(self, name, code, retries=0, srv=None):
        """A job that writes its pid, says 'started' (and 'waiting' on stderr), waits for the file go-NAME and exits
        with code; started now. Returns (its pid, the go file)."""
        srv = srv or self.server
        pidfile, go = (os.path.join(srv.root, "%s-%s" % (what, name)) for what in ("pid", "go"))
        cmd = ("echo $$ > %s; echo started; echo waiting >&2; while [ ! -e %s ]; do sleep 0.02; done; echo ending; "
               "exit %d") % (
            pidfile, go, code)
        self.add_job(sched(name, cmd, retries=retries), srv=srv)
        status, _, body = srv.request("PUT", V1 + "/job/" + name)
        self.assertEqual(status, 204, body)
        wait_until(lambda: read(pidfile) and self.runs(name, srv) and self.runs(name, srv)[0]["status"] == "running",
                   20, what="%s running" % name)
        pid = int(read(pidfile))
        self.addCleanup(lambda: process_gone(pid) or os.kill(pid, 9))
        return pid, go

    def assertBothInOrder(self, task_id):
        """The executor that outlived its server completed the order record of the two streams as it did them."""
        status, headers, body = self.server.request("GET", API + "/runs/%s/log?stream=both" % task_id)
        self.assertEqual((status, headers.get("gnomon-log-order"), body),
                         (200, "arrival", b"1 started\n2 waiting\n1 ending\n"))

    def let_go(self, go, pid):
        with open(go, "w"):
            pass
        wait_until(lambda: process_gone(pid), 20, what="the task ended")

    def test_a_task_that_ends_while_the_server_is_stopped_is_recorded_as_it_ended(self):
        pid, go = self.start_waiting_job("deploy", 3)
        self.server.stop()  # SIGTERM: a deploy
        self.assertFalse(process_gone(pid), "the stop killed the task")
        self.let_go(go, pid)
        self.server.start()
        run = wait_until(lambda: self.runs("deploy")[0]["status"] in FINAL and self.runs("deploy"), 20,
                         what="the run recorded")
        self.assertEqual([(r["status"], r["exitCode"], r["attempt"]) for r in run], [("failed", 3, 0)], run)
        status, _, body = self.server.request("GET", API + "/runs/%s/log?stream=stdout" % run[0]["taskId"])
        self.assertEqual((status, body), (200, b"started\nending\n"))
        self.assertBothInOrder(run[0]["taskId"])
        self.assertEqual(self.get_job("deploy")["errorCount"], 1)

    def test_a_task_running_across_a_kill_9_is_adopted_and_followed(self):
        pid, go = self.start_waiting_job("survivor", 0, retries=2)
        self.server.kill9()
        self.assertFalse(process_gone(pid), "the task died with its server")
        self.server.start()
        wait_until(lambda: "still runs under its executor: adopted" in self.server.current_log(), 20,
                   what="the task adopted")
        self.assertEqual(self.runs("survivor")[0]["status"], "running")
        self.let_go(go, pid)
        runs = wait_until(lambda: self.runs("survivor")[0]["status"] in FINAL and self.runs("survivor"), 20,
                          what="the run recorded")
        self.assertEqual([(r["status"], r["exitCode"], r["attempt"]) for r in runs], [("succeeded", 0, 0)], runs)
        self.assertBothInOrder(runs[0]["taskId"])
        job = self.get_job("survivor")
        self.assertEqual((job["successCount"], job["errorCount"]), (1, 0))
        # a kill reaches an adopted task as any other
        pid, go = self.start_waiting_job("stubborn", 0)
        self.server.kill9()
        self.server.start()
        wait_until(lambda: self.runs("stubborn")[0]["status"] == "running" and
                   "still runs under its executor" in self.server.current_log(), 20, what="stubborn adopted")
        self.assertEqual(self.server.request("DELETE", V1 + "/task/kill/stubborn")[0], 204)
        wait_until(lambda: self.runs("stubborn")[0]["status"] == "killed", 20, what="the kill recorded")
        self.assertTrue(process_gone(pid))


    def test_the_fork_server_goes_with_its_server_and_the_executors_it_forked_go_on(self):
        pid, go = self.start_waiting_job("forked", 4)
        zygote = zygote_of(self.server.proc.pid)
        self.assertIsNotNone(zygote, "the server has no executor fork server")
        executor = ppid(pid)
        self.assertEqual(ppid(executor), zygote, "the executor was not forked by the fork server")
        task_id = self.runs("forked")[0]["taskId"]
        self.server.kill9()
        wait_until(lambda: process_gone(zygote), 20, what="the fork server gone with its server")
        self.assertFalse(process_gone(executor), "the executor died with the fork server")
        self.let_go(go, pid)
        wait_until(lambda: process_gone(executor), 20, what="the executor ended")
        result = read(os.path.join(self.server.data_dir, "work", run_file_name(task_id) + ".result"))
        self.assertIn("exit_code 4\n", result + "\n")
        self.server.start()
        runs = wait_until(lambda: self.runs("forked")[0]["status"] in FINAL and self.runs("forked"), 20,
                          what="the run recorded")
        self.assertEqual([(r["status"], r["exitCode"], r["attempt"]) for r in runs], [("failed", 4, 0)], runs)


class StopTasksOnExit(GnomonTestCase):
    server_args = ("--stop-tasks-on-exit", "--failure-retry", "100")

    runs = Adopt.runs
    start_waiting_job = Adopt.start_waiting_job

    def test_a_stop_kills_the_running_tasks_which_are_lost_and_retried(self):
        pid, go = self.start_waiting_job("old-way", 0, retries=1)
        self.server.stop()
        wait_until(lambda: process_gone(pid), 20, what="the task killed by the stop")
        with open(go, "w"):
            pass  # the retry ends at once
        self.server.start()
        runs = wait_until(lambda: len(self.runs("old-way")) == 2 and
                          all(r["status"] in FINAL for r in self.runs("old-way")) and self.runs("old-way"), 20,
                          what="the lost run and its retry")
        runs.sort(key=lambda r: r["attempt"])
        self.assertEqual([(r["status"], r["attempt"]) for r in runs], [("lost", 0), ("succeeded", 1)], runs)
        self.assertIn("killed when its server stopped", runs[0]["reason"])


from gnomon_harness import run_file_name  # noqa: E402


def ppid(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def zygote_of(server_pid):
    """The executors' fork server of a server: its child gnomon-executor --zygote, or None."""
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                if b"--zygote" in f.read().split(b"\0") and ppid(int(d)) == server_pid:
                    return int(d)
        except (OSError, IndexError, ValueError):
            pass
    return None


if __name__ == "__main__":
    main()
