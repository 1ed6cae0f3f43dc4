"""The Debian package (issue 16 item 7, `make deb` = scripts/make-deb.sh): built from the build directory of the
gnomon under test, installed on this machine with dpkg, its server started as its systemd unit would start it
(the unit's user, working directory, command line and environment), a job run by it as the gnomon user, then
the package purged: nothing of it left but the system user. Needs root and dpkg (CI has both); the build's
manual pages and completion need help2man (`make test` installs it). Skipped, saying why, when this machine
cannot take it: not root, no dpkg, or a gnomon package already installed (a real installation is left alone)."""

import os
import pwd
import shlex
import signal
import stat
import subprocess
import sys
import json
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import BIN, free_port, http_request, main, sched, wait_until  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
UNIT = "/lib/systemd/system/gnomon-server.service"


def installed():
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "gnomon"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    return "install ok installed" in out.stdout


def unit_service(path):
    """The [Service] keys of a unit file (the last value of each)."""
    keys, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line
            elif section == "[Service]" and "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                keys[k] = v
    return keys


class Package(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("installing a package needs root")
        if subprocess.run(["which", "dpkg", "dpkg-deb"], stdout=subprocess.DEVNULL).returncode != 0:
            raise unittest.SkipTest("no dpkg on this machine")
        if installed():
            raise unittest.SkipTest("a gnomon package is installed here already: left alone")
        build = os.path.dirname(os.path.abspath(BIN))
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            if any(line.startswith(("GNOMON_SANITIZE:BOOL=ON", "GNOMON_TSAN:BOOL=ON")) for line in f):
                raise unittest.SkipTest("the package is made from the release build (test-normal tests it)")
        out = subprocess.run([os.path.join(ROOT, "scripts", "make-deb.sh"), build], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        if out.returncode != 0:
            raise AssertionError("make-deb.sh failed:\n" + out.stdout)
        cls.deb = out.stdout.strip().splitlines()[-1]

    def setUp(self):
        self.addCleanup(self.purge)

    def purge(self):
        if installed():
            subprocess.run(["dpkg", "--purge", "gnomon"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def dpkg(self, *args):
        out = subprocess.run(["dpkg"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        self.assertEqual(out.returncode, 0, "dpkg %s:\n%s" % (" ".join(args), out.stdout))
        return out.stdout

    def test_install_run_purge(self):
        self.dpkg("-i", self.deb)
        self.assertTrue(installed())
        if os.path.isdir("/run/systemd/system"):
            # systemd runs here, so the postinst started the unit: its server has the data dir (locked), which the
            # server this test starts below needs
            out = subprocess.run(["systemctl", "is-active", "gnomon-server.service"], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, timeout=60)
            self.assertEqual(out.stdout.strip(), "active", "the postinst did not start gnomon-server.service")
            subprocess.run(["systemctl", "stop", "gnomon-server.service"], check=True, timeout=60)
        # what it installed
        for prog in ("/usr/bin/gnomon", "/usr/bin/gnomon-agent"):
            out = subprocess.run([prog, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            self.assertEqual((out.returncode, out.stdout.split()[0]), (0, "gnomon"), out.stdout)
        for page in ("man1/gnomon.1.gz", "man8/gnomon-server.8.gz", "man8/gnomon-agent.8.gz"):
            self.assertTrue(os.path.getsize("/usr/share/man/" + page) > 500, page)
        self.assertTrue(os.path.exists("/usr/share/bash-completion/completions/gnomon-agent"))
        user = pwd.getpwnam("gnomon")
        for d in ("/var/lib/gnomon", "/var/lib/gnomon/server", "/var/lib/gnomon/agent"):
            st = os.stat(d)
            self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (user.pw_uid, 0o711), d)
        for unit in ("gnomon-server.service", "gnomon-agent.service"):
            verify = subprocess.run(["systemd-analyze", "verify", "/lib/systemd/system/" + unit],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            problems = [line for line in verify.stdout.splitlines() if unit in line]
            self.assertEqual(problems, [], verify.stdout)

        # the server as its unit starts it: its user, directory and command line; the port is the test's
        svc = unit_service(UNIT)
        self.assertEqual(svc["KillMode"], "process", "a stop must leave running tasks to their executors")
        port = free_port()
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "GNOMON_HTTP_PORT": str(port), "LANG": "C.UTF-8"}
        # setpriv execs the server itself (runuser would stay its parent, and take the signal)
        proc = subprocess.Popen(["setpriv", "--reuid", svc["User"], "--regid", svc["Group"], "--init-groups", "--"]
                                + shlex.split(svc["ExecStart"]),
                                cwd=svc["WorkingDirectory"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            wait_until(lambda: self.ping(port), 20, interval=0.1, what="the packaged server answering")
            job = sched("whoami", "id -un", "R/%s/PT1H" % time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            status, _, body = http_request("127.0.0.1", port, "POST", "/v1/scheduler/iso8601", json.dumps(job),
                                           {"Content-Type": "application/json"})
            self.assertEqual(status, 204, body)
            run = wait_until(lambda: self.ended_run(port, "whoami"), 20, interval=0.1, what="the job's run")
            self.assertEqual(run["status"], "succeeded", run)
            status, _, log = http_request("127.0.0.1", port, "GET", "/api/v1/runs/%s/log" % run["taskId"])
            self.assertEqual((status, log.strip()), (200, b"gnomon"))
            # its store is in the unit's state directory, owned by the gnomon user
            made = os.listdir("/var/lib/gnomon/server")
            self.assertTrue(made, "nothing in /var/lib/gnomon/server")
            self.assertEqual({os.stat(os.path.join("/var/lib/gnomon/server", n)).st_uid for n in made},
                             {user.pw_uid}, made)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, out)

        self.dpkg("--purge", "gnomon")
        self.assertFalse(installed())
        for gone in ("/usr/bin/gnomon", "/usr/libexec/gnomon", "/var/lib/gnomon", "/etc/gnomon", UNIT):
            self.assertFalse(os.path.lexists(gone), gone + " is left after the purge")

    def ping(self, port):
        try:
            return http_request("127.0.0.1", port, "GET", "/ping", timeout=1)[0] == 200
        except OSError:
            return False

    def ended_run(self, port, name):
        status, _, body = http_request("127.0.0.1", port, "GET", "/api/v1/jobs/%s/runs" % name)
        runs = [r for r in json.loads(body).get("runs", []) if status == 200 and
                r["status"] not in ("queued", "waiting", "starting", "running")]
        return runs[0] if status == 200 and runs else None


if __name__ == "__main__":
    main()
