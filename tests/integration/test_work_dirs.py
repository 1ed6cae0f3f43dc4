"""Runs' working directories once they end (issue 10, point 15): --keep-work-dirs never (the default) removes
each one, failed keeps those of failed and lost runs, always keeps all; --keep-work-dirs-max-size removes the
oldest kept ones first; removal never follows a link out of the directory, copes with what a job made
unwritable (as another user too), and what a crash left is cleaned up at the next start-up."""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import (BIN, GnomonTestCase, kill_executor, main, run_file_name, sched,  # noqa: E402
                            wait_until)

V1 = "/v1/scheduler"
FINAL = {"succeeded", "failed", "killed", "lost", "skipped"}
# Leaves a bit of everything in its working directory, read-only and unreadable parts included.
MESSY = ("mkdir -p a/b/c && echo x > a/b/c/f && head -c 20000 /dev/zero > big && ln -s / to-root && "
         "mkdir locked && touch locked/f && chmod 0 locked/f locked && chmod 500 a/b")


class WorkDirTestCase(GnomonTestCase):

    def work(self, srv=None):
        return os.path.join((srv or self.server).data_dir, "work")

    def listing(self, srv=None):
        """The directories in work/ (each run's beside its NAME.task file, which names its task, and while it runs
        its executor's journal, NAME.pid and NAME.result)."""
        return sorted((n for n in os.listdir(self.work(srv)) if not n.endswith((".task", ".pid", ".result"))),
                      key=lambda n: (len(n), n))

    def dir_of(self, run):
        return os.path.join(self.work(), run_file_name(run["taskId"]))

    def run_once(self, name, srv=None):
        """Run the job now and wait for the run's end; the run."""
        srv = srv or self.server
        before = len(self.runs(name, srv))
        status, _, _ = srv.request("PUT", V1 + "/job/" + name)
        self.assertEqual(status, 204)
        return wait_until(lambda: (lambda r: r[0] if len(r) > before and r[0]["status"] in FINAL else None)(
            self.runs(name, srv)), 30, interval=0.05, what="a run of %s" % name)

    def runs(self, name, srv=None):
        status, body = (srv or self.server).json("GET", "/api/v1/jobs/%s/runs?limit=1000" % name)
        self.assertEqual(status, 200, body)
        return body["runs"]

    def wait_listing(self, expected, srv=None, what="the working directories"):
        expected = sorted((run_file_name(x["taskId"]) if isinstance(x, dict) else str(x) for x in expected),
                          key=lambda n: (len(n), n))
        try:
            return wait_until(lambda: self.listing(srv) == expected, 20, interval=0.05, what=what)
        except AssertionError:
            self.assertEqual(self.listing(srv), expected, what)
            raise


class Never(WorkDirTestCase):

    def test_every_runs_directory_goes_when_it_ends(self):
        self.add_job(sched("ok", MESSY))
        self.add_job(sched("bad", MESSY + " && exit 3", retries=0))
        ok, bad = self.run_once("ok"), self.run_once("bad")
        self.assertEqual((ok["status"], bad["status"]), ("succeeded", "failed"))
        self.wait_listing([])
        wait_until(lambda: os.listdir(self.work()) == [], 10, what="the task files removed with their directories")

    def test_links_out_of_the_directory_are_not_followed(self):
        outside = tempfile.mkdtemp(prefix="gnomon-it-outside-")
        self.addCleanup(shutil.rmtree, outside, True)
        with open(os.path.join(outside, "precious"), "w") as f:
            f.write("keep me\n")
        os.mkdir(os.path.join(outside, "dir"))
        self.add_job(sched("linker", "ln -s %s out && ln -s %s/precious file && ln -s / root && "
                                     "mkdir d && ln -s %s/dir d/deeper && chmod 500 ." % ((outside,) * 3)))
        self.assertEqual(self.run_once("linker")["status"], "succeeded")
        self.wait_listing([])
        self.assertEqual(sorted(os.listdir(outside)), ["dir", "precious"])
        with open(os.path.join(outside, "precious")) as f:
            self.assertEqual(f.read(), "keep me\n")

    def test_another_users_unwritable_tree(self):
        if os.geteuid() != 0:
            self.skipTest("runs as another user need a server running as root")
        os.chmod(self.server.root, 0o711)  # mkdtemp's 0700 would keep nobody from reaching the data dir
        self.add_job(sched("theirs", MESSY + " && chmod 0 .", runAsUser="nobody"))
        self.assertEqual(self.run_once("theirs")["status"], "succeeded")
        self.wait_listing([])


class Failed(WorkDirTestCase):
    server_args = ("--keep-work-dirs", "failed")

    def test_failed_and_lost_runs_keep_theirs(self):
        self.add_job(sched("ok", MESSY))
        self.add_job(sched("bad", "echo evidence > note; exit 3", retries=0))
        self.add_job(sched("killed", "sleep 30"))
        ok, bad = self.run_once("ok"), self.run_once("bad")
        self.server.request("PUT", V1 + "/job/killed")
        running = wait_until(lambda: [r for r in self.runs("killed") if r["status"] == "running"], 20,
                             what="killed running")[0]
        self.server.request("DELETE", V1 + "/task/kill/killed")
        wait_until(lambda: self.runs("killed")[0]["status"] == "killed", 20, what="the kill")
        self.wait_listing([bad])
        with open(os.path.join(self.dir_of(bad), "note")) as f:
            self.assertEqual(f.read(), "evidence\n")
        self.assertNotIn(run_file_name(ok["taskId"]), self.listing())
        self.assertNotIn(run_file_name(running["taskId"]), self.listing())
        # A run the server lost when it died keeps its directory too.
        self.add_job(sched("lost", "touch here; sleep 30", retries=0))
        self.server.request("PUT", V1 + "/job/lost")
        lost = wait_until(lambda: [r for r in self.runs("lost") if r["status"] == "running"], 20, what="lost running")[0]
        self.server.kill9()
        kill_executor(self.server.data_dir, lost["taskId"])  # its task goes on, but nobody will learn how it ends
        self.server.start()
        self.assertEqual(wait_until(lambda: self.runs("lost")[0]["status"] in FINAL and self.runs("lost")[0], 20,
                                    what="the lost run")["status"], "lost")
        self.wait_listing([bad, lost])
        self.assertTrue(os.path.exists(os.path.join(self.dir_of(lost), "here")))


class Always(WorkDirTestCase):
    server_args = ("--keep-work-dirs", "always", "--keep-work-dirs-max-size", "0")

    def test_every_runs_directory_stays(self):
        self.add_job(sched("ok", "echo a > a"))
        self.add_job(sched("bad", "echo b > b; exit 1", retries=0))
        ok, bad = self.run_once("ok"), self.run_once("bad")
        self.wait_listing([ok, bad])
        self.assertEqual(os.listdir(os.path.join(self.dir_of(ok))), ["a"])
        # the executors' journals go once the runs are recorded, kept directories or not
        wait_until(lambda: not [n for n in os.listdir(self.work()) if n.endswith((".pid", ".result"))], 20,
                   what="the journals removed")


class Cap(WorkDirTestCase):
    server_args = ("--keep-work-dirs", "always", "--keep-work-dirs-max-size", "300K")

    def test_the_oldest_kept_go_first_past_the_cap(self):
        """Each run leaves 120 KiB: two fit in 300K, the third pushes the oldest out, and so on; a run that
        leaves nothing pushes nothing out."""
        self.add_job(sched("fill", "head -c 122880 /dev/urandom > data"))
        self.add_job(sched("empty", "true"))
        ids = []
        for _ in range(2):
            ids.append(self.run_once("fill"))
        self.wait_listing(ids)
        empty = self.run_once("empty")
        self.wait_listing(ids + [empty])
        ids.append(self.run_once("fill"))
        self.wait_listing(ids[1:] + [empty], what="the oldest kept directory removed")
        ids.append(self.run_once("fill"))
        self.wait_listing([empty] + ids[2:], what="the next oldest removed")
        self.assertIn("was removed, the oldest while the kept ones used more than --keep-work-dirs-max-size",
                      self.server.log())

    def test_the_cap_counts_what_was_kept_before_a_restart(self):
        self.add_job(sched("fill", "head -c 122880 /dev/urandom > data"))
        first = self.run_once("fill")
        second = self.run_once("fill")
        self.wait_listing([first, second])
        self.server.restart()
        third = self.run_once("fill")
        self.wait_listing([second, third], what="the oldest, kept before the restart, removed")


class Leftovers(WorkDirTestCase):

    def make_tree(self, path, locked=True):
        os.makedirs(os.path.join(path, "x", "y"))
        with open(os.path.join(path, "x", "y", "f"), "w") as f:
            f.write("left over\n")
        os.symlink("/", os.path.join(path, "root"))
        if locked:
            os.chmod(os.path.join(path, "x"), 0o500)

    def test_a_crash_between_a_runs_end_and_its_removal(self):
        """What a stopped or killed server left in work/ is removed at start-up (never) or kept as the policy
        says: directories of ended runs, of runs no longer in the history, of the run the crash interrupted.
        Names that are not run ids are not gnomon's: they stay. Earlier releases named the directories by row id: those are
        renamed to their task id's name at start-up (or removed when the history no longer has their run)."""
        self.add_job(sched("ok", "true"))
        self.add_job(sched("bad", "exit 1", retries=0))
        ok, bad = self.run_once("ok"), self.run_once("bad")
        self.add_job(sched("long", "touch here; sleep 30", retries=0))
        self.server.request("PUT", V1 + "/job/long")
        long_run = wait_until(lambda: [r for r in self.runs("long") if r["status"] == "running"], 20,
                              what="long running")[0]
        self.wait_listing([long_run])
        self.server.kill9()
        kill_executor(self.server.data_dir, long_run["taskId"])
        for run in [ok, bad]:
            self.make_tree(self.dir_of(run))
            with open(self.dir_of(run) + ".task", "w") as f:
                f.write(run["taskId"])
        self.make_tree(os.path.join(self.work(), "987654321"))
        self.make_tree(os.path.join(self.work(), "not-a-run"), locked=False)
        self.server.start()
        self.wait_listing(["not-a-run"], what="the leftovers removed")
        self.assertEqual(self.runs("long")[0]["status"], "lost")
        self.assertIn("working directories of ended runs found", self.server.current_log())

        # The same leftovers under --keep-work-dirs failed: the failed run's stays.
        self.server.stop()
        for run in [ok, bad]:
            self.make_tree(os.path.join(self.work(), str(run["id"])))  # the names of earlier releases
        self.server.extra_args += ["--keep-work-dirs", "failed"]
        self.server.start()
        self.wait_listing([bad, "not-a-run"], what="the failed run's directory kept, the other removed")


class Options(WorkDirTestCase):
    server_args = None

    def test_bad_values_exit_2_naming_the_option(self):
        scratch = tempfile.mkdtemp(prefix="gnomon-it-wd-")
        self.addCleanup(shutil.rmtree, scratch, True)
        for args, named in [(["--keep-work-dirs", "sometimes"], "--keep-work-dirs"),
                            (["--keep-work-dirs-max-size", "12Q"], "keep-work-dirs-max-size")]:
            with self.subTest(args=args):
                r = subprocess.run([BIN, "server", "--data-dir", os.path.join(scratch, "d")] + args, cwd=scratch,
                                   capture_output=True, timeout=20)
                err = r.stderr.decode()
                self.assertEqual(r.returncode, 2, err)
                self.assertEqual(len(err.strip().splitlines()), 1, err)
                self.assertIn(named, err)

    def test_help_lists_the_options(self):
        out = subprocess.run([BIN, "server", "--help"], capture_output=True, text=True, timeout=20).stdout
        self.assertIn("keep-work-dirs", out)
        self.assertIn("keep-work-dirs-max-size", out)


if __name__ == "__main__":
    main()
