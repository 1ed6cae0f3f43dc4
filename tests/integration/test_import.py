"""`gnomon import crontab` and `gnomon import chronos` (issue 16 item 9) against real servers: a crontab's lines
become jobs that run as cron would run them (the environment set before them, `%` as standard input), a refused
line creates nothing and is named with its number, --dry-run shows the jobs and creates none, --system takes each
line's user; a running Chronos's jobs (here a gnomon, which speaks the same API) come over parents first."""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import BIN, GnomonTestCase, dep, main, sched, wait_until  # noqa: E402

V1 = "/v1/scheduler"


class Import(GnomonTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.TemporaryDirectory(prefix="gnomon-it-import-")
        self.addCleanup(self.tmp.cleanup)

    def gnomon(self, *args, stdin=None, srv=None):
        r = subprocess.run([BIN, "import"] + list(args) + ["--server", (srv or self.server).url], input=stdin,
                           capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout, r.stderr

    def crontab(self, text, name="jobs.cron"):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_output(self, name):
        status, body = self.server.json("PUT", "%s/job/%s" % (V1, name))
        self.assertEqual(status, 204, body)
        run = wait_until(lambda: [r for r in self.server.json("GET", "/api/v1/jobs/%s/runs" % name)[1]["runs"]
                                  if r["status"] in ("succeeded", "failed")], 20, what="a run of " + name)[0]
        self.assertEqual(run["status"], "succeeded", run)
        status, _, out = self.server.request("GET", "/api/v1/runs/%s/log" % run["taskId"])
        self.assertEqual(status, 200)
        return out.decode()

    def test_crontab_runs_as_cron_would(self):
        out_file = os.path.join(self.tmp.name, "stdin.txt")
        path = self.crontab("# nightly things\n"
                            "GREETING = 'hello there'\n"
                            "MAILTO=ops@example.com\n"
                            "0 3 * * * echo \"$GREETING\"\n"
                            "@hourly cat > %s%%first line%%second 100\\%%\n" % out_file)
        rc, out, err = self.gnomon("crontab", path)
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out, "job 'jobs-4' saved\njob 'jobs-5' saved\n")
        job = self.get_job("jobs-4")
        self.assertEqual((job["schedule"], job["owner"]), ("0 3 * * *", "ops@example.com"))
        self.assertIn("crontab %s line 4" % path, job["description"])
        self.assertEqual(self.run_output("jobs-4"), "hello there\n")
        self.run_output("jobs-5")
        with open(out_file) as f:
            self.assertEqual(f.read(), "first line\nsecond 100%")

    def test_refused_lines_create_nothing(self):
        path = self.crontab("* * * * * fine\n@reboot start-things\n\n61 * * * * late\n* * * *\n")
        rc, out, err = self.gnomon("crontab", path)
        self.assertEqual((rc, out), (1, ""))
        self.assertEqual(err.count("\n"), 1, err)
        for part in ("line 2: schedule: '@reboot' is not supported", "line 4: ", "line 5: expected five time fields",
                     "(no job was created)"):
            self.assertIn(part, err)
        self.assertEqual(self.job_names(), [])

    def test_dry_run_system_and_prefix(self):
        text = "SHELL=/bin/bash\n17 * * * * root cd / && run-parts /etc/cron.hourly\n"
        rc, out, err = self.gnomon("crontab", "--system", "--prefix", "etc", "--dry-run", "-", stdin=text)
        self.assertEqual((rc, err), (0, ""))
        jobs = json.loads(out[:out.rindex("]") + 1])
        self.assertEqual([(j["name"], j["runAsUser"], j["command"]) for j in jobs],
                         [("etc-2", "root", "/bin/bash -c 'cd / && run-parts /etc/cron.hourly'")])
        self.assertTrue(out.endswith("job 'etc-2' would be created\n"), out)
        self.assertEqual(self.job_names(), [], "a dry run created jobs")
        rc, out, err = self.gnomon("crontab", "--system", "--user", "bob", "-", stdin=text)
        self.assertEqual(rc, 2, err)
        self.assertIn("exclude each other", err)
        rc, out, err = self.gnomon("crontab", "--prefix", "bad name", "-", stdin=text)
        self.assertEqual(rc, 2, err)

    def test_chronos(self):
        chronos = self.new_server()
        for job in (sched("parent", "echo p", owner="a@example.com"), dep("child", ["parent"]),
                    dep("grandchild", ["child", "parent"])):
            self.add_job(job, srv=chronos)
        rc, out, err = self.gnomon("chronos", chronos.url + "/")
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out.splitlines(), ["job 'parent' saved", "job 'child' saved", "job 'grandchild' saved"])
        self.assertEqual(self.get_job("grandchild")["parents"], ["child", "parent"])
        self.assertEqual(self.get_job("parent")["owner"], "a@example.com")
        rc, out, err = self.gnomon("chronos", "http://127.0.0.1:1")
        self.assertEqual((rc, out), (1, ""))
        self.assertTrue(err.startswith("gnomon: Chronos http://127.0.0.1:1: cannot reach"), err)
        rc, out, err = self.gnomon("chronos", "chronos.example.com")
        self.assertEqual(rc, 2, err)


if __name__ == "__main__":
    main()
