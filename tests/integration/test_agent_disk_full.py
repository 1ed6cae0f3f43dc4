"""An agent whose disk is full (issue 15, point 5): its data directory is a tmpfs of a few hundred KiB in a mount
namespace of its own (unshare, as root or in a user namespace; skipped otherwise), which the test fills with
fallocate. The agent cannot journal a start there and refuses it (not permanently); the leader places the run on
another agent at once and sends it no other task for a while (the fleet view says why), so the full disk costs no
slot while another agent has room; once there is room again, the agent takes tasks again. A task running on it
while the disk fills still ends, and is recorded."""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import main, sched, wait_until  # noqa: E402
from test_agents import Agent, AgentsBase  # noqa: E402
from test_disk_full import namespace_prefix  # noqa: E402

TMPFS_SIZE = 512 << 10


class TmpfsAgent(Agent):
    """An agent whose data dir is a tmpfs of size bytes, mounted in its own mount namespace."""

    def __init__(self, server, name, prefix, size, **kw):
        self.prefix, self.size = prefix, size
        super().__init__(server, name, **kw)

    def command(self):
        os.makedirs(self.data_dir, exist_ok=True)
        return self.prefix + ["sh", "-c", 'mount -t tmpfs -o size=%d tmpfs "$1" && shift && exec "$@"' % self.size,
                              "sh", self.data_dir] + super().command()

    def sh(self, script):
        """script run by sh in the agent's mount namespace (where the tmpfs is), with $1 its data dir."""
        enter = ["nsenter", "-t", str(self.proc.pid)] + (["-m"] if self.prefix[1] == "--mount" else ["-U", "-m"])
        return subprocess.run(enter + ["sh", "-c", script, "sh", self.data_dir], check=True, capture_output=True,
                              text=True, timeout=20).stdout

    def fill(self):
        """Every free block of the tmpfs taken by a file (fill.N); returns the bytes left (0)."""
        self.fills = getattr(self, "fills", 0) + 1
        self.sh('fallocate -l $(( $(stat -f -c "%%a * %%S" "$1") )) "$1/fill.%d"' % self.fills)
        return int(self.sh('stat -f -c "%a * %S" "$1" | sh -c "read a x b; echo \\$((a * b))"'))

    def empty(self):
        self.sh('rm "$1"/fill.*')


class AgentDiskFull(AgentsBase):
    def setUp(self):
        super().setUp()
        prefix = namespace_prefix()
        if prefix is None or shutil.which("nsenter") is None or shutil.which("fallocate") is None:
            self.skipTest("no way to mount a small tmpfs here (unshare --mount needs root, or user namespaces)")
        # a1 has more memory: among idle agents placement chooses it
        self.a1 = TmpfsAgent(self.server, "a1", prefix, TMPFS_SIZE, mem=2048).start()
        self.agents.append(self.a1)
        self.addCleanup(self.a1.close)
        self.a2 = self.agent("a2", mem=1024)
        self.wait_agents(["a1", "a2"])

    def run_on(self, name, command="true"):
        self.run_now(sched(name, command=command))
        return self.wait_final(name)

    def test_a_full_disk_sends_the_runs_elsewhere(self):
        self.assertEqual(self.run_on("before")["agent"], "a1")
        # a task running on a1 while its disk fills ends, and is recorded
        self.run_now(sched("long", command="sleep 1.5; echo done"))
        self.wait_run("long", lambda r: r["status"] == "running", "long running")
        self.assertEqual(self.a1.fill(), 0)
        long = self.wait_final("long")
        self.assertEqual((long["status"], long["agent"]), ("succeeded", "a1"), long)
        self.assertEqual(self.a1.fill(), 0)  # what its end freed (its journal entry, its output)

        # every run goes to a2 at once: a1 refuses the first it is given and is sent no other for a while
        for i in range(6):
            r = self.run_on("full%d" % i)
            self.assertEqual((r["status"], r["agent"], r["attempt"]), ("succeeded", "a2", 0), r)
        self.assertIn("a1 refused task", self.server.log())
        self.assertIn("No space left on device", self.a1.log())
        a1 = self.fleet()["a1"]
        self.assertEqual(a1["state"], "up")
        self.assertIn("No space left on device", a1["refusal"])
        self.assertLessEqual(a1["refusingMs"], 8000)

        # room again: a1 takes tasks again once its pause is over (8 s at most), and is no longer paused
        self.a1.empty()
        self.run_now(sched("room", command="true", cpus=0.1))
        wait_until(lambda: self.put_until_on("room", "a1"), 30, what="a run of room on a1")
        self.assertEqual(self.fleet()["a1"]["refusingMs"], 0)

    def put_until_on(self, name, agent):
        """A run of name (started now when none is open); whether its last final run ran on agent."""
        runs = self.runs(name)
        if runs and runs[0]["status"] in ("succeeded", "failed", "lost") and runs[0]["agent"] == agent:
            return True
        if not runs or runs[0]["status"] in ("succeeded", "failed", "lost", "skipped"):
            self.server.request("PUT", "/v1/scheduler/job/" + name)
        return False


if __name__ == "__main__":
    main()
