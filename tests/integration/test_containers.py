"""Container jobs (issue 14, Chronos's `container`) through a real podman, with an image made on the spot from
busybox-static (`podman import`, no registry): output, exit code and environment; Chronos's shell and argument
semantics; volumes RO and RW; network NONE; the parameters' allow-list (a 400 at submission); kill and timeout
remove the container; an unknown image fails the run with podman's own message; placement only on agents that
have a runtime; a server and a `gnomon agent` killed and restarted mid-run reconcile their container; a container
whose executor is gone is removed, and so is one of the agent's data directory that no task holds; the container
stays in its task's cgroups. Skipped, saying why, where podman cannot be installed."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import BIN, GnomonTestCase, kill_executor, main, process_gone, read_text, wait_until  # noqa: E402
from test_agents import AgentsBase  # noqa: E402

IMAGE = "localhost/gnomon-test-busybox:1"
FINAL = {"succeeded", "failed", "killed", "lost", "skipped"}
V1 = "/v1/scheduler"
API = "/api/v1"
TOOLS = ("sh", "echo", "cat", "sleep", "env", "ls", "touch", "test", "printf", "true", "false")
SKIP = None


def podman(*args, check=True, timeout=120):
    return subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout, check=check)


def build_image():
    """The test image: /bin/busybox and its links, imported as IMAGE. Returns why not, or None."""
    if shutil.which("podman") is None:
        return "podman is not installed (scripts/install-deps.sh test installs podman, crun, uidmap, busybox-static)"
    busybox = shutil.which("busybox") or "/bin/busybox"
    if not os.path.exists(busybox):
        return "busybox-static is not installed"
    root = tempfile.mkdtemp(prefix="gnomon-rootfs-")
    try:
        os.makedirs(os.path.join(root, "bin"))
        for d in ("tmp", "data", "ro", "proc", "sys", "dev", "etc"):
            os.makedirs(os.path.join(root, d))
        shutil.copy(busybox, os.path.join(root, "bin", "busybox"))
        for tool in TOOLS:
            os.symlink("busybox", os.path.join(root, "bin", tool))
        tar = os.path.join(root, "..", os.path.basename(root) + ".tar")
        subprocess.run(["tar", "-C", root, "-cf", tar, "."], check=True)
        podman("import", "--change", "ENV PATH=/bin", tar, IMAGE)
        os.unlink(tar)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return None


def setUpModule():
    global SKIP
    SKIP = build_image()


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def containers(task_id):
    """The names of the containers labelled with task_id, running or not."""
    out = podman("ps", "-a", "--filter", "label=gnomon.task=" + task_id, "--format", "{{.Names}}").stdout
    return [line for line in out.splitlines() if line]


def docker_job(name, command, **container):
    box = {"type": "DOCKER", "image": IMAGE, "network": "HOST"}
    box.update(container)
    return {"name": name, "command": command, "schedule": "R/2030-01-01T00:00:00Z/P1D", "owner": "",
            "container": box}


class Helpers:
    def runs(self, name, srv=None):
        status, body = (srv or self.server).json("GET", API + "/jobs/%s/runs?limit=100" % name)
        self.assertEqual(status, 200, body)
        return body["runs"]

    def start(self, job, srv=None):
        srv = srv or self.server
        self.add_job(job, srv=srv)
        status, _, body = srv.request("PUT", V1 + "/job/" + job["name"])
        self.assertEqual(status, 204, body)

    def final(self, name, timeout=30, srv=None):
        return wait_until(lambda: [r for r in self.runs(name, srv) if r["status"] in FINAL], timeout,
                          what="the end of a run of %s" % name)[0]

    def running(self, name, timeout=30, srv=None):
        return wait_until(lambda: [r for r in self.runs(name, srv) if r["status"] == "running"], timeout,
                          what="a running run of %s" % name)[0]

    def log(self, run, stream="stdout", srv=None):
        status, _, out = (srv or self.server).request(
            "GET", API + "/runs/%s/log?stream=%s" % (urllib.parse.quote(run["taskId"], safe=""), stream))
        self.assertEqual(status, 200)
        return out.decode()

    def wait_gone(self, task_id):
        wait_until(lambda: containers(task_id) == [], 20, what="the container of %s removed" % task_id)


class Embedded(Helpers, GnomonTestCase):
    server_args = ("--kill-grace", "2000")

    def setUp(self):
        if SKIP:
            self.skipTest(SKIP)
        super().setUp()

    def test_output_exit_code_and_environment(self):
        job = docker_job("box", "echo out; echo err >&2; echo \"$FOO $CHRONOS_JOB_NAME\"; test -e /bin/busybox && "
                         "exit 3")
        job["environmentVariables"] = [{"name": "FOO", "value": "bar"}]
        self.start(job)
        run = self.final("box")
        self.assertEqual((run["status"], run["reason"]), ("failed", "exited with status 3"), run)
        self.assertEqual(self.log(run), "out\nbar box\n")
        self.assertEqual(self.log(run, "stderr"), "err\n")
        self.wait_gone(run["taskId"])
        # the host's own PATH and HOME (/root) do not go in: the image's PATH, podman's HOME
        self.start(docker_job("path", "echo \"$PATH|$HOME\""))
        run = self.final("path")
        self.assertEqual((run["status"], self.log(run)), ("succeeded", "/bin|/\n"), run)

    def test_shell_false_arguments_and_parameters(self):
        job = docker_job("argv", "echo", parameters=[{"key": "env", "value": "P=from-parameter"}])
        job.update({"shell": False, "arguments": ["a  b", "$P"]})
        self.start(job)
        run = self.final("argv")
        self.assertEqual((run["status"], self.log(run)), ("succeeded", "a  b $P\n"), run)
        job = docker_job("shellargs", "echo \"$P\"", parameters=[{"key": "env", "value": "P=from-parameter"}])
        job["arguments"] = ["x"]
        self.start(job)
        run = self.final("shellargs")
        self.assertEqual((run["status"], self.log(run)), ("succeeded", "from-parameter x\n"), run)

    def test_parameters_outside_the_allow_list_are_refused(self):
        for params, field in (([{"key": "privileged", "value": "true"}], "container.parameters[0].key"),
                              ([{"key": "env", "value": "A=1"}, {"key": "cap-add", "value": "ALL"}],
                               "container.parameters[1].key"),
                              ([{"key": "label", "value": "gnomon.task=x"}], "container.parameters[0].value"),
                              ([{"key": "env", "value": "GNOMON_TASK_ID=x"}], "container.parameters[0].value"),
                              ([{"key": "memory-swap", "value": "-1"}], "container.parameters[0].key"),
                              ([{"key": "log-driver", "value": "none"}], "container.parameters[0].key")):
            status, body = self.post_job(docker_job("bad", "true", parameters=params))
            self.assertBadRequest(status, body, contains=(field,))
        self.assertNotIn("bad", self.job_names())

    def test_what_would_reach_the_runtime_as_flags_is_refused(self):
        """An image is a reference, never a flag; networkName a network, never a namespace; volume paths are
        absolute and hold no ':' or ',' (which would change the mount)."""
        for container, field in (({"image": "--privileged"}, "container.image"),
                                 ({"image": "--volume=/:/h"}, "container.image"),
                                 ({"image": "busybox --privileged"}, "container.image"),
                                 ({"network": "USER", "networkName": "container:other"}, "container.networkName"),
                                 ({"network": "USER", "networkName": "ns:/proc/1/ns/net"}, "container.networkName"),
                                 ({"volumes": [{"containerPath": "/:/host"}]}, "container.volumes[0].containerPath"),
                                 ({"volumes": [{"containerPath": "/c", "hostPath": "/h,ro"}]},
                                  "container.volumes[0].hostPath"),
                                 ({"volumes": [{"containerPath": "c"}]}, "container.volumes[0].containerPath")):
            status, body = self.post_job(docker_job("bad", "true", **container))
            self.assertBadRequest(status, body, prefix=field + ": ")
        self.assertNotIn("bad", self.job_names())

    def test_the_jobs_variables_never_configure_the_runtime(self):
        """The job's variables go into the container through a file (--env-file), never into the runtime's own
        environment: CONTAINERS_CONF there would have podman read the job's configuration."""
        conf = os.path.join(self.server.root, "containers.conf")
        with open(conf, "w") as f:
            f.write('[containers]\nenv = ["INJECTED=from-the-job"]\n')
        job = docker_job("conf", "echo \"[$INJECTED][$FOO][$CONTAINERS_CONF][$GNOMON_TASK_ID]\"")
        job["environmentVariables"] = [{"name": "CONTAINERS_CONF", "value": conf},
                                       {"name": "FOO", "value": "a b=c 'd' $e"}]
        self.start(job)
        run = self.final("conf")
        self.assertEqual((run["status"], self.log(run)),
                         ("succeeded", "[][a b=c 'd' $e][%s][%s]\n" % (conf, run["taskId"])), run)
        job = docker_job("newline", "true")
        job["environmentVariables"] = [{"name": "MULTI", "value": "one\ntwo"}]
        self.start(job)
        run = self.final("newline")
        self.assertEqual((run["status"], run["reason"]),
                         ("failed", "environment variable MULTI: a value with a newline cannot be given to a "
                          "container"), run)

    def test_a_job_stored_before_the_rules_does_not_run(self):
        """A job stored with what the rules now refuse (an older release's) is not run: its run fails, naming the
        field, and no container is made."""
        self.add_job(docker_job("old", "true"))
        self.server.stop()
        db = sqlite3.connect(os.path.join(self.server.data_dir, "gnomon.db"))
        with db:
            job = json.loads(db.execute("SELECT json FROM jobs WHERE name = 'old'").fetchone()[0])
            job["container"]["parameters"] = [{"key": "privileged", "value": "true"}]
            db.execute("UPDATE jobs SET json = ? WHERE name = 'old'", (json.dumps(job),))
        db.close()
        self.server.start()
        status, _, body = self.server.request("PUT", V1 + "/job/old")
        self.assertEqual(status, 204, body)
        run = self.final("old")
        self.assertEqual(run["status"], "failed", run)
        self.assertTrue(run["reason"].startswith("container.parameters[0].key: 'privileged' is not allowed"), run)
        self.assertEqual(containers(run["taskId"]), [])

    def test_host_paths_the_agent_does_not_allow(self):
        """By default any absolute host path but /, the runtimes' sockets and their directories; the run of a
        job that asks for one fails, naming the field."""
        for host in ("/", "/run", "/var/run/docker.sock"):
            name = "host" + str(len(host))
            self.start(docker_job(name, "true", volumes=[{"containerPath": "/h", "hostPath": host}]))
            run = self.final(name)
            self.assertEqual(run["status"], "failed", run)
            self.assertTrue(run["reason"].startswith("container.volumes[0].hostPath: '%s' may not be mounted on "
                                                     "this agent (--container-host-paths not given" % host), run)
        link = os.path.join(self.server.root, "link")  # a symbolic link counts as where it leads
        os.symlink("/run", link)
        self.start(docker_job("linked", "true", volumes=[{"containerPath": "/h", "hostPath": link}]))
        run = self.final("linked")
        self.assertEqual(run["status"], "failed", run)
        self.assertTrue(run["reason"].startswith("container.volumes[0].hostPath: '%s' is '/run', which may not be "
                                                 "mounted on this agent" % link), run)

    def test_volumes_and_network_none(self):
        rw = tempfile.mkdtemp(prefix="gnomon-rw-")
        ro = tempfile.mkdtemp(prefix="gnomon-ro-")
        self.addCleanup(shutil.rmtree, rw, True)
        self.addCleanup(shutil.rmtree, ro, True)
        with open(os.path.join(ro, "in"), "w") as f:
            f.write("given\n")
        job = docker_job("vols", "cat /ro/in; echo made > /data/out; touch /ro/no 2>/dev/null || echo ro refused; "
                         "ls /sys/class/net", network="NONE",
                         volumes=[{"containerPath": "/data", "hostPath": rw, "mode": "RW"},
                                  {"containerPath": "/ro", "hostPath": ro, "mode": "RO"}])
        self.start(job)
        run = self.final("vols")
        self.assertEqual((run["status"], self.log(run)), ("succeeded", "given\nro refused\nlo\n"), run)
        with open(os.path.join(rw, "out")) as f:
            self.assertEqual(f.read(), "made\n")
        self.assertFalse(os.path.exists(os.path.join(ro, "no")))

    def test_kill_and_timeout_remove_the_container(self):
        self.start(docker_job("long", "echo up; sleep 60"))
        run = self.running("long")
        wait_until(lambda: containers(run["taskId"]), 20, what="the container running")
        wait_until(lambda: self.log(run) == "up\n", 20, what="the container's first line")
        status, _, body = self.server.request("DELETE", V1 + "/task/kill/long")
        self.assertEqual(status, 204, body)
        run = self.final("long")
        self.assertEqual(run["status"], "killed", run)
        self.assertEqual(containers(run["taskId"]), [])  # removed before the end was recorded

        job = docker_job("slow", "trap '' TERM; echo up; sleep 60")  # ignores SIGTERM: SIGKILL after the grace
        job["maxCompletionTime"] = 1
        self.start(job)
        run = self.final("slow")
        self.assertEqual((run["status"], run["reason"]), ("failed", "maxCompletionTime of 1 s exceeded"), run)
        self.assertEqual(containers(run["taskId"]), [])

    def test_the_container_stays_in_the_cgroups_of_its_task(self):
        """With --cgroups=disabled (hybrid hosts) conmon and the container's processes stay in the cgroups of the
        runtime's process, the task the executor started: whatever limits that task's cgroup sets holds them."""
        self.start(docker_job("held", "echo up; sleep 60"))
        run = self.running("held")
        wait_until(lambda: self.log(run) == "up\n", 20, what="the container's first line")
        name = containers(run["taskId"])[0]
        inside = int(podman("inspect", "--format", "{{.State.Pid}}", name).stdout.strip())
        runtime = [int(p) for p in os.listdir("/proc") if p.isdigit() and
                   ("--name=" + name).encode() in read_bytes("/proc/%s/cmdline" % p) and
                   read_bytes("/proc/%s/cmdline" % p).split(b"\0")[0].endswith(b"podman")]
        self.assertEqual(len(runtime), 1, runtime)
        conmon = int(read_bytes("/proc/%d/stat" % inside).split(b")")[-1].split()[1])  # its parent
        for pid in (inside, conmon):
            self.assertEqual(read_bytes("/proc/%d/cgroup" % pid), read_bytes("/proc/%d/cgroup" % runtime[0]), pid)
        status, _, body = self.server.request("DELETE", V1 + "/task/kill/held")
        self.assertEqual(status, 204, body)
        self.assertEqual(self.final("held")["status"], "killed")

    def test_a_server_killed_mid_run_adopts_its_container(self):
        go = tempfile.mkdtemp(prefix="gnomon-go-")
        self.addCleanup(shutil.rmtree, go, True)
        job = docker_job("adopted", "echo started; while ! test -e /go/now; do sleep 0.1; done; echo done",
                         volumes=[{"containerPath": "/go", "hostPath": go, "mode": "RO"}])
        job["container"]["type"] = "MESOS"  # with an image, the same as DOCKER
        self.start(job)
        run = self.running("adopted")
        wait_until(lambda: self.log(run) == "started\n", 20, what="the container's first line")
        self.server.kill9()
        self.server.start()
        wait_until(lambda: self.runs("adopted")[0]["status"] == "running", 20, what="the run adopted")
        # the reconciliation's sweep of containers nobody holds: this one must survive it
        wait_until(lambda: "container sweep:" in self.server.current_log(), 20, what="the sweep")
        self.assertNotIn(containers(run["taskId"])[0] + ": its task is not running", self.server.current_log())
        self.assertEqual(len(containers(run["taskId"])), 1)
        with open(os.path.join(go, "now"), "w"):
            pass
        done = self.final("adopted")
        self.assertEqual((done["status"], done["taskId"]), ("succeeded", run["taskId"]), done)
        self.assertEqual(containers(run["taskId"]), [])

    def test_unknown_image_fails_with_the_runtimes_message(self):
        self.start(docker_job("noimage", "true", image="localhost/gnomon-no-such-image:1"))
        run = self.final("noimage")
        self.assertEqual(run["status"], "failed", run)
        self.assertTrue(run["reason"].startswith("podman: Error:"), run)
        self.assertIn("gnomon-no-such-image", run["reason"])
        self.assertEqual(containers(run["taskId"]), [])

    def test_the_embedded_agent_says_its_runtime(self):
        status, agents = self.server.json("GET", API + "/agents")
        self.assertEqual(status, 200)
        attrs = agents[0]["attributes"]
        self.assertEqual(attrs["container.runtime"], "podman", attrs)
        self.assertRegex(attrs["container.podman"], r"^\d+\.\d+")


class NoRuntime(Helpers, GnomonTestCase):
    server_args = ("--container-runtime", "none")

    def embedded_name(self):
        status, agents = self.server.json("GET", API + "/agents")
        self.assertEqual(status, 200)
        self.assertEqual(agents[0]["attributes"]["container.unavailable"],
                         "containers are turned off on this agent (--container-runtime=none)")
        return agents[0]["name"]

    def test_a_container_job_waits_for_an_agent_that_can_run_it(self):
        marker = os.path.join(self.server.root, "ran")
        self.start(docker_job("boxed", "touch %s" % marker))
        run = wait_until(lambda: [r for r in self.runs("boxed") if r["status"] == "waiting"], 20,
                         what="the run waiting")[0]
        self.assertEqual(run["reason"], "no agent can run containers (podman or docker); %s: containers are turned "
                         "off on this agent (--container-runtime=none)" % self.embedded_name(), run)
        self.assertFalse(os.path.exists(marker))
        self.add_job({"name": "plain", "command": "touch %s" % marker, "schedule": "R1//PT1M", "owner": ""})
        wait_until(lambda: os.path.exists(marker), 20, what="a job without a container to run")


class Options(unittest.TestCase):
    def test_an_unknown_runtime_is_refused(self):
        root = tempfile.mkdtemp(prefix="gnomon-opt-")
        self.addCleanup(shutil.rmtree, root, True)
        for cmd in ([BIN, "server", "--data-dir", os.path.join(root, "s"), "--http-port", "0"],
                    [BIN, "agent", "--server", "http://127.0.0.1:1", "--data-dir", os.path.join(root, "a")]):
            out = subprocess.run(cmd + ["--container-runtime", "rkt"], capture_output=True, text=True, timeout=30)
            self.assertEqual(out.returncode, 2, out)
            self.assertIn("--container-runtime: invalid value 'rkt' (auto, podman, docker, none)", out.stderr)
            self.assertEqual(len(out.stderr.strip().splitlines()), 1, out.stderr)
            out = subprocess.run(cmd + ["--container-host-paths", "/data,rel"], capture_output=True, text=True,
                                 timeout=30)
            self.assertEqual(out.returncode, 2, out)
            self.assertIn("--container-host-paths: invalid value '/data,rel' (absolute paths, comma-separated, "
                          "without ':')", out.stderr)
            self.assertEqual(len(out.stderr.strip().splitlines()), 1, out.stderr)


class HostPaths(Helpers, GnomonTestCase):
    server_args = None

    def setUp(self):
        if SKIP:
            self.skipTest(SKIP)
        super().setUp()
        root = tempfile.mkdtemp(prefix="gnomon-hp-")
        self.addCleanup(shutil.rmtree, root, True)
        self.allowed, self.other = os.path.join(root, "allowed"), os.path.join(root, "other")
        os.makedirs(self.allowed)
        os.makedirs(self.other)
        self.server = self.new_server(("--container-host-paths", "%s,/nonexistent" % self.allowed))

    def test_only_the_prefixes_given(self):
        self.start(docker_job("in", "ls /h", volumes=[{"containerPath": "/h", "hostPath": self.allowed + "/"}]))
        self.assertEqual(self.final("in")["status"], "succeeded")
        self.start(docker_job("out", "true", volumes=[{"containerPath": "/h", "hostPath": self.other}]))
        run = self.final("out")
        self.assertEqual((run["status"], run["reason"]),
                         ("failed", "container.volumes[0].hostPath: '%s' may not be mounted on this agent "
                          "(--container-host-paths %s,/nonexistent)" % (self.other, self.allowed)), run)


class Agents(Helpers, AgentsBase):
    server_args = ("--local-agent=false", "--failure-retry", "100", "--agent-timeout", "10")

    def setUp(self):
        if SKIP:
            self.skipTest(SKIP)
        super().setUp()

    def test_placement_only_on_agents_with_a_runtime(self):
        self.agent("bare", extra=("--container-runtime=none",))
        self.agent("boxy")
        fleet = self.wait_agents(["bare", "boxy"])
        self.assertNotIn("container.runtime", fleet["bare"]["attributes"])
        self.assertIn("container.unavailable", fleet["bare"]["attributes"])
        self.assertEqual(fleet["boxy"]["attributes"]["container.runtime"], "podman")
        for i in range(3):
            self.start(docker_job("c%d" % i, "echo \"$GNOMON_AGENT\" >/dev/null; echo hi"))
        for i in range(3):
            run = self.final("c%d" % i)
            self.assertEqual((run["status"], run["agent"], self.log(run)), ("succeeded", "boxy", "hi\n"), run)
        self.check_agent_logs()

    def test_an_agent_restarted_mid_run_reconciles_its_container(self):
        a = self.agent("boxy")
        self.wait_agents(["boxy"])
        go = os.path.join(a.root, "go")
        job = docker_job("job", "echo started; while ! test -e /data/go; do sleep 0.1; done; echo done",
                         volumes=[{"containerPath": "/data", "hostPath": a.root, "mode": "RO"}])
        self.start(job)
        run = self.running("job")
        wait_until(lambda: containers(run["taskId"]), 20, what="the container running")
        a.kill9()
        a.start()
        self.wait_agents(["boxy"])
        # the restarted agent's reconciliation: the container must survive its sweep
        wait_until(lambda: "container sweep:" in read_text(a.logs[-1]), 20, what="the sweep")
        self.assertNotIn(containers(run["taskId"])[0] + ": its task is not running", read_text(a.logs[-1]))
        self.assertEqual(len(containers(run["taskId"])), 1)
        with open(go, "w"):
            pass
        done = self.final("job")
        self.assertEqual((done["status"], done["taskId"]), ("succeeded", run["taskId"]), done)
        self.assertEqual(self.log(done), "started\ndone\n")
        self.wait_gone(run["taskId"])
        self.check_agent_logs()

    def test_containers_of_its_data_dir_that_no_task_holds_are_removed(self):
        """What a crash left (a container whose run the servers have forgotten): the agent's reconciliation removes
        the containers labelled with its data directory that none of its tasks holds, and only those."""
        root = tempfile.mkdtemp(prefix="gnomon-agent-")
        data = os.path.join(root, "data")
        os.makedirs(data)
        mine, other = "gnomon-ct_1_0_left_", "gnomon-ct_1_0_elsewhere_"
        for name, d in ((mine, os.path.realpath(data)), (other, "/elsewhere")):
            podman("create", "--name", name, "--label", "gnomon.data-dir=" + d, IMAGE, "true")
            self.addCleanup(podman, "rm", "-f", name, check=False)
        self.agent("boxy", root=root)
        self.wait_agents(["boxy"])
        wait_until(lambda: mine not in podman("ps", "-a", "--format", "{{.Names}}").stdout.split(), 20,
                   what="the leftover container removed")
        self.assertIn(other, podman("ps", "-a", "--format", "{{.Names}}").stdout.split())
        self.check_agent_logs()

    def test_a_container_whose_executor_is_gone_is_removed(self):
        """Its run is lost; its processes carry its task id in their environment, so the reconciliation kills them
        as any lost run's, and the container goes with them."""
        a = self.agent("boxy")
        self.wait_agents(["boxy"])
        self.start(docker_job("orphan", "sleep 60"))
        run = self.running("orphan")
        wait_until(lambda: containers(run["taskId"]), 20, what="the container running")
        a.kill9()
        pid = kill_executor(a.data_dir, run["taskId"])
        wait_until(lambda: process_gone(pid), 10, what="the executor gone")
        self.assertEqual(len(containers(run["taskId"])), 1)  # the container does not know
        a.start()
        done = self.final("orphan")
        self.assertEqual(done["status"], "lost", done)
        self.wait_gone(run["taskId"])
        self.check_agent_logs()


if __name__ == "__main__":
    main()
