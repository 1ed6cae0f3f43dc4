"""`gnomon server` command line: spellings, environment, bad options (exit 2), ignored Mesos options, one server
per data dir, --hostname, --http-address, --help and --version."""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import (BIN, START_TIMEOUT, STOP_TIMEOUT, GnomonTestCase, free_port,  # noqa: E402
                            http_request, main, sanitizer_lines, wait_until)


class ExitingCommand(GnomonTestCase):
    """Commands that must exit by themselves; they run in a scratch directory so nothing leaks into the cwd."""

    server_args = None

    def setUp(self):
        super().setUp()
        self.scratch = tempfile.mkdtemp(prefix="gnomon-it-opt-")
        self.addCleanup(shutil.rmtree, self.scratch, True)

    def run_gnomon(self, args, env=None, timeout=None):
        full_env = dict(os.environ)
        for k in list(full_env):
            if k.startswith("GNOMON_") and k != "GNOMON_BIN":
                del full_env[k]
        full_env.update(env or {})
        try:
            r = subprocess.run([BIN] + args, cwd=self.scratch, env=full_env, capture_output=True,
                               timeout=timeout or START_TIMEOUT)
        except subprocess.TimeoutExpired as e:
            self.fail("gnomon %s did not exit within %.0f s (stderr: %r)" % (" ".join(args), e.timeout, e.stderr))
        out, err = r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
        self.assertEqual(sanitizer_lines(err), [], err)
        return r.returncode, out, err

    def test_help(self):
        rc, out, err = self.run_gnomon(["server", "--help"])
        self.assertEqual(rc, 0, err)
        for opt in ["--http-port", "--http-address", "--data-dir", "--hostname", "--log-level", "--max-body-size",
                    "--help", "--version"]:
            self.assertIn(opt, out)
        self.assertFalse(os.path.exists(os.path.join(self.scratch, "gnomon-data")), "--help created a data dir")

    def test_version(self):
        for args in [["server", "--version"], ["--version"]]:
            with self.subTest(args=args):
                rc, out, err = self.run_gnomon(args)
                self.assertEqual(rc, 0, err)
                self.assertRegex(out.strip(), r"^gnomon \d+\.\d+\.\d+")

    def test_bad_options_exit_2_with_one_line(self):
        data = os.path.join(self.scratch, "d")
        cases = [
            (["--bogus"], "--bogus"),
            (["--bogus=1"], "--bogus"),
            (["--http-port", "abc"], "http-port"),
            (["--http-port", "70000"], "http-port"),
            (["--http-port", "-1"], "http-port"),
            (["--http-port", "80x"], "http-port"),
            (["--http-port=abc"], "http-port"),
            (["--http_port", "abc"], "http"),
            (["--http-port"], "http-port"),
            (["--max-body-size", "12Q"], "max-body-size"),
            (["--max-body-size", "-1"], "max-body-size"),
            (["--log-level", "loud"], "log-level"),
            (["--spawn-threads", "65"], "spawn-threads"),
            (["--spawn-threads", "-1"], "spawn-threads"),
            (["positional"], "positional"),
            (["--zk-hosts", "zk1"], "--zk-hosts"),
            (["--zk_hosts", "zk://zk1:2181,/x"], "--zk-hosts"),
            (["--zk-hosts", "zk1:2181", "--zk-path", "gnomon"], "--zk-path"),
            (["--zk-hosts", "zk1:2181", "--zk-path", "/gnomon/"], "--zk-path"),
            (["--zk-timeout", "10"], "zk-timeout"),
            (["--advertise-address", "host"], "--advertise-address"),
            (["--advertise-address", "host:99999"], "--advertise-address"),
            (["--state", "mysql://db/gnomon"], "--state"),
            (["--state", "postgres://127.0.0.1/x", "--state-timeout", "10"], "state-timeout"),
        ]
        for args, named in cases:
            with self.subTest(args=args):
                rc, out, err = self.run_gnomon(["server", "--data-dir", data] + args)
                self.assertEqual(rc, 2, "exit status for %r (stderr %r)" % (args, err))
                lines = [ln for ln in err.splitlines() if ln.strip()]
                self.assertEqual(len(lines), 1, "expected one line on stderr, got %r" % err)
                self.assertIn(named, lines[0])

    def test_bad_environment_value_exits_2(self):
        rc, out, err = self.run_gnomon(["server", "--data-dir", os.path.join(self.scratch, "d")],
                                       env={"GNOMON_HTTP_PORT": "notaport"})
        self.assertEqual(rc, 2, err)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        self.assertEqual(len(lines), 1, err)
        self.assertIn("HTTP_PORT", lines[0].upper().replace("-", "_"))

    def test_unusable_data_dir(self):
        not_a_dir = os.path.join(self.scratch, "file")
        with open(not_a_dir, "w") as f:
            f.write("not a directory\n")
        rc, out, err = self.run_gnomon(["server", "--http-port", str(free_port()), "--data-dir", not_a_dir])
        self.assertNotEqual(rc, 0, err)
        self.assertIn(not_a_dir, err)

    def test_second_server_on_same_data_dir_is_refused(self):
        first = self.new_server()
        rc, out, err = self.run_gnomon(["server", "--http-port", str(free_port()), "--data-dir", first.data_dir])
        self.assertNotEqual(rc, 0, err)
        self.assertRegex(err, re.compile(r"in use", re.I))
        self.assertIn(first.data_dir, err)
        self.assertTrue(first.ping())
        first.stop()
        # Once the first server is gone, the data dir is free again.
        first.start()
        self.assertTrue(first.ping())


class Spellings(GnomonTestCase):
    server_args = None

    def test_underscore_spelling(self):
        port = free_port()
        srv = self.new_server(port=port, start=False)
        srv.command = lambda: [BIN, "server", "--http_port", str(port), "--data_dir", srv.data_dir,
                               "--log_level", "debug"]
        srv.start()
        self.assertTrue(srv.ping())
        self.assertEqual(srv.json("GET", "/leader")[1]["leader"].rsplit(":", 1)[1], str(port))

    def test_equals_spelling(self):
        port = free_port()
        srv = self.new_server(port=port, start=False)
        srv.command = lambda: [BIN, "server", "--http-port=%d" % port, "--data-dir=" + srv.data_dir,
                               "--hostname=eq.example", "--log-level=debug"]
        srv.start()
        self.assertEqual(srv.json("GET", "/leader"), (200, {"leader": "eq.example:%d" % port}))

    def test_environment_variables(self):
        port = free_port()
        srv = self.new_server(port=port, start=False)
        srv.command = lambda: [BIN, "server"]
        srv.extra_env = {"GNOMON_HTTP_PORT": str(port), "GNOMON_DATA_DIR": srv.data_dir,
                         "GNOMON_HOSTNAME": "env.example", "GNOMON_LOG_LEVEL": "debug"}
        srv.start()
        self.assertEqual(srv.json("GET", "/leader"), (200, {"leader": "env.example:%d" % port}))
        self.assertTrue(os.path.exists(srv.data_dir), "GNOMON_DATA_DIR was not used")

    def test_flags_win_over_environment(self):
        port = free_port()
        srv = self.new_server(port=port, hostname="flag.example", start=False,
                              env={"GNOMON_HTTP_PORT": str(free_port()), "GNOMON_HOSTNAME": "env.example"})
        srv.start()
        self.assertEqual(srv.json("GET", "/leader"), (200, {"leader": "flag.example:%d" % port}))

    def test_hostname(self):
        srv = self.new_server(hostname="chronos.example.com")
        expected = {"leader": "chronos.example.com:%d" % srv.port}
        for path in ["/leader", "/v1/scheduler/leader", "/scheduler/leader"]:
            with self.subTest(path=path):
                self.assertEqual(srv.json("GET", path), (200, expected))

    def test_mesos_options_are_ignored_with_a_warning(self):
        srv = self.new_server(["--master", "zk://zk1:2181,zk2:2181/mesos", "--mesos_role", "x",
                               "--failover_timeout=1200"])
        self.assertTrue(srv.ping())
        log = srv.current_log()
        self.assertRegex(log, r"(?i)warn.*master")
        self.assertRegex(log, r"(?i)warn.*mesos.role")

    def test_http_address(self):
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.2", 0))
        except OSError:
            self.skipTest("127.0.0.2 is not usable here")
        srv = self.new_server(["--http-address", "127.0.0.2"], host="127.0.0.2")
        status, _, _ = srv.request("GET", "/v1/scheduler/jobs")
        self.assertEqual(status, 200)
        with self.assertRaises(OSError):
            http_request("127.0.0.1", srv.port, "GET", "/ping", timeout=2)

    def test_default_address_is_loopback_only(self):
        srv = self.new_server()
        with self.assertRaises(OSError):
            http_request("127.0.0.2", srv.port, "GET", "/ping", timeout=2)

    def test_port_zero_picks_a_free_port(self):
        # With --http-port 0 the server must say in its log which port it got.
        scratch = tempfile.mkdtemp(prefix="gnomon-it-port0-")
        self.addCleanup(shutil.rmtree, scratch, True)
        log_path = os.path.join(scratch, "server.log")
        with open(log_path, "wb") as logf:
            proc = subprocess.Popen([BIN, "server", "--http-port", "0", "--data-dir", os.path.join(scratch, "d")],
                                    stdout=logf, stderr=logf, stdin=subprocess.DEVNULL, cwd=scratch)
        self.addCleanup(proc.wait)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())

        def read_log():
            with open(log_path, encoding="utf-8", errors="replace") as f:
                return f.read()

        def port():
            if proc.poll() is not None:
                self.fail("server exited with %s: %s" % (proc.returncode, read_log()))
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", read_log())
            return m and int(m.group(1))
        p = wait_until(port, START_TIMEOUT, what="the listening line")
        self.assertNotEqual(p, 0)
        self.assertEqual(http_request("127.0.0.1", p, "GET", "/ping")[2], b"pong\n")
        proc.terminate()
        self.assertEqual(proc.wait(STOP_TIMEOUT), 0, read_log())
        self.assertEqual(sanitizer_lines(read_log()), [])


if __name__ == "__main__":
    main()
