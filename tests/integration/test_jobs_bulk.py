"""Many jobs at once (issue 16 item 8): POST /api/v1/jobs checks an array of Chronos jobs together (parents in the
array before or after their children, no name twice, no dependency cycle with the jobs there are) and writes it in
one transaction, parents first, or refuses it whole naming every refused job; `gnomon job add` of an array sends
it so (in batches of about 512 KiB), and `gnomon export` prints every job parents first, which `job add` restores
on another server exactly."""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import BIN, GnomonTestCase, dep, main, sched  # noqa: E402

BULK = "/api/v1/jobs"


class Bulk(GnomonTestCase):

    def post(self, jobs, query="", srv=None):
        return (srv or self.server).json("POST", BULK + query, jobs)

    def names(self, srv=None):
        return sorted(self.job_names(srv))

    def test_parents_in_any_order(self):
        jobs = [dep("c", ["a", "b"]), sched("a"), dep("b", ["a"])]
        status, body = self.post(jobs)
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"jobs": [{"name": "c", "result": "created"}, {"name": "a", "result": "created"},
                                         {"name": "b", "result": "created"}], "dryRun": False})
        self.assertEqual(self.get_job("c")["parents"], ["a", "b"])
        # again: replaced, and a parent that is already there is fine
        status, body = self.post([sched("a", "echo again"), dep("d", ["c"])])
        self.assertEqual(status, 200, body)
        self.assertEqual([r["result"] for r in body["jobs"]], ["updated", "created"])
        self.assertEqual(self.get_job("a")["command"], "echo again")

    def test_refused_whole(self):
        self.add_job(sched("kept"))
        jobs = [sched("ok1"), dep("x", ["y"]), dep("y", ["x"]), dep("z", ["nowhere"]), sched("bad", schedule="FOO"),
                sched("twice"), sched("twice"), {"command": "true"}, sched("bad2", schedule="BAR")]
        status, body = self.post(jobs)
        self.assertError(status, body, 400)
        msg = body["message"]
        # each job checked on its own first, then the parents: five named, in that order
        for part in ("jobs[1] 'x': parents: a dependency cycle: x -> y -> x",
                     "jobs[4] 'bad': schedule: cannot parse 'FOO'",
                     "jobs[6] 'twice': name: also the name of jobs[5]", "jobs[7]: name: required"):
            self.assertIn(part, msg)
        self.assertIn("; and 1 more refused", msg)  # z's unknown parent (y is in x's cycle: not refused twice)
        status, body = self.post(jobs[:4])
        self.assertIn("jobs[3] 'z': parents: job 'z' has unknown parent 'nowhere'", body["message"])
        self.assertEqual(self.names(), ["kept"], "a refused array wrote something")

    def test_cycle_through_existing_jobs(self):
        self.add_job(sched("root"))
        self.add_job(dep("mid", ["root"]))
        # root made a child of mid, which runs after root: a cycle through a job that is not in the array
        status, body = self.post([dep("root", ["mid"])])
        self.assertError(status, body, 400)
        self.assertIn("jobs[0] 'root': parents: a dependency cycle: root -> mid -> root", body["message"])
        self.assertFalse(self.get_job("root").get("parents"))

    def test_dry_run_and_edges(self):
        status, body = self.post([sched("a")], "?dryRun=1")
        self.assertEqual((status, body), (200, {"jobs": [{"name": "a", "result": "created"}], "dryRun": True}))
        self.assertEqual(self.names(), [], "a dry run wrote")
        self.assertEqual(self.post([]), (200, {"jobs": [], "dryRun": False}))
        status, body = self.post([sched("a")], "?dryRun=maybe")
        self.assertError(status, body, 400, contains=["dryRun"])
        status, body = self.post(sched("a"))
        self.assertError(status, body, 400, contains=["jobs: expected an array"])
        status, _, raw = self.server.request("POST", BULK, b"[{", {"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        self.assertIn(b"invalid JSON at line 1", raw)

    def gnomon(self, *args, srv=None, stdin=None):
        r = subprocess.run([BIN] + list(args) + ["--server", (srv or self.server).url], input=stdin,
                           capture_output=True, text=True, timeout=120)
        return r.returncode, r.stdout, r.stderr

    def test_cli_add_export_restore(self):
        """5,000 jobs (two batches of the CLI), children listed before their parents: added, exported parents
        first, restored on a second server exactly; a refused array's message names the job and nothing
        is saved."""
        jobs = [dep("child%d" % i, ["job%d" % i, "job%d" % (i + 1)]) for i in range(0, 2000, 2)]
        jobs += [sched("job%d" % i, "echo %d" % i, owner="o@example.com", description="x" * 200)
                 for i in range(4000)]
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(jobs, f)
        self.addCleanup(os.unlink, f.name)
        self.assertGreater(os.path.getsize(f.name), 2 * 512 * 1024)
        rc, out, err = self.gnomon("job", "add", f.name)
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(len(out.splitlines()), len(jobs))
        self.assertEqual(len(self.job_names()), len(jobs))

        rc, exported, err = self.gnomon("export")
        self.assertEqual((rc, err), (0, ""))
        listed = json.loads(exported)
        seen = set()
        for j in listed:
            self.assertLessEqual(set(j.get("parents") or []), seen, "%s before its parents" % j["name"])
            seen.add(j["name"])
        self.assertEqual(len(listed), len(jobs))

        other = self.new_server()
        rc, out, err = self.gnomon("job", "add", "-", srv=other, stdin=exported)
        self.assertEqual((rc, err), (0, ""))
        rc, again, err = self.gnomon("export", srv=other)
        self.assertEqual(json.loads(again), listed)

        rc, out, err = self.gnomon("job", "add", "-", srv=other, stdin=json.dumps([sched("new"), dep("n2", ["nope"])]))
        self.assertEqual((rc, out), (1, ""))
        self.assertEqual(err.count("\n"), 1, err)
        self.assertIn("jobs[1] 'n2': parents: job 'n2' has unknown parent 'nope'", err)
        self.assertIn("(no job was saved)", err)
        self.assertNotIn("new", self.job_names(other))


if __name__ == "__main__":
    main()
