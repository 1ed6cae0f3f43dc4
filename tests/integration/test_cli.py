"""The `gnomon job` client against a real server: add (file, stdin, array), list, show, rm, --json, --server
and GNOMON_SERVER, and errors (one `gnomon: ...` line on stderr, non-zero exit)."""

import json
import os
import subprocess
import sys
import tempfile
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import (BIN, REQUEST_TIMEOUT, GnomonTestCase, dep, free_port, main, sanitizer_lines,  # noqa
                            sched, wait_until)

V1 = "/v1/scheduler"


class Cli(GnomonTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.TemporaryDirectory(prefix="gnomon-it-cli-")
        self.addCleanup(self.tmp.cleanup)

    def gnomon(self, *args, stdin=None, env=None, server=True, family="job"):
        """Run `gnomon job ...` (or another family; with --server unless server=False); returns (rc, stdout,
        stderr)."""
        argv = [BIN, family] + list(args)
        if server:
            argv += ["--server", self.server.url]
        full_env = {k: v for k, v in os.environ.items() if k != "GNOMON_SERVER"}
        full_env.update(env or {})
        if isinstance(stdin, str):
            stdin = stdin.encode()
        try:
            r = subprocess.run(argv, input=stdin if stdin is not None else b"", capture_output=True,
                               env=full_env, timeout=REQUEST_TIMEOUT + 10, cwd=self.tmp.name)
        except subprocess.TimeoutExpired:
            self.fail("%s did not exit" % " ".join(argv))
        out, err = r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
        self.assertEqual(sanitizer_lines(err), [], err)
        return r.returncode, out, err

    def write(self, name, content):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(content if isinstance(content, str) else json.dumps(content))
        return path

    def assertCliError(self, rc, out, err, contains=()):
        self.assertNotEqual(rc, 0, "expected failure; stdout %r stderr %r" % (out, err))
        lines = err.splitlines()
        self.assertEqual(len(lines), 1, "expected one line on stderr, got %r" % err)
        self.assertTrue(lines[0].startswith("gnomon: "), lines[0])
        for part in ([contains] if isinstance(contains, str) else contains):
            self.assertIn(part, lines[0])

    def test_add_from_file(self):
        job = sched("from-file", "echo hi", scheduleTimeZone="Europe/Paris", owner="me@example.com")
        rc, out, err = self.gnomon("add", self.write("job.json", job))
        self.assertEqual(rc, 0, err)
        self.assertIn("from-file", out)
        got = self.get_job("from-file")
        for k, v in job.items():
            self.assertEqual(got[k], v, k)

    def test_add_from_stdin(self):
        rc, out, err = self.gnomon("add", "-", stdin=json.dumps(sched("from-stdin", "echo in")))
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.get_job("from-stdin")["command"], "echo in")

    def test_add_dependent_job_and_array(self):
        rc, out, err = self.gnomon("add", "-", stdin=json.dumps([sched("p"), dep("c", ["p"])]))
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.job_names(), ["p", "c"])
        self.assertEqual(self.get_job("c")["parents"], ["p"])

    def test_add_replaces(self):
        self.add_job(sched("r", "echo 1"))
        rc, out, err = self.gnomon("add", "-", stdin=json.dumps(sched("r", "echo 2")))
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.get_job("r")["command"], "echo 2")
        self.assertEqual(self.job_names(), ["r"])

    def test_list(self):
        self.add_job(sched("alpha"))
        self.add_job(dep("beta", ["alpha"]))
        rc, out, err = self.gnomon("list")
        self.assertEqual(rc, 0, err)
        self.assertIn("alpha", out)
        self.assertIn("beta", out)
        self.assertIn("R/2030-01-01T00:00:00Z/P1D", out)
        rc, out, err = self.gnomon("list", "--json")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out), self.list_jobs())

    def test_list_aligns_by_display_width(self):
        """Columns line up on a terminal whatever the text: CJK characters take two columns, combining marks
        none, in a UTF-8 locale or in LC_ALL=C (the CLI then measures in C.UTF-8)."""
        self.add_job(sched("wide", "echo \u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8",
                           owner="\u5c71\u7530 <y@example.com>"))
        self.add_job(sched("accent", "echo e\u0301te\u0301 caf\u00e9", owner="Zoe\u0308 <z@example.com>"))
        self.add_job(sched("plain", "echo hi", owner="ops@example.com"))

        def width(text):
            return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
                       for c in text)
        for env in ({"LC_ALL": "C"}, {"LC_ALL": "C.UTF-8"}, {"LANG": "", "LC_ALL": ""}):
            with self.subTest(env=env):
                rc, out, err = self.gnomon("list", env=env)
                self.assertEqual(rc, 0, err)
                lines = out.splitlines()
                self.assertEqual(len(lines), 4, out)
                owner, command = lines[0].index("OWNER"), lines[0].index("COMMAND")
                for line in lines[1:]:
                    self.assertEqual(width(line[:line.index("echo")]), command, lines)
                    self.assertEqual(width(line[:line.rindex("  ", 0, line.index("@")) + 2]), owner, lines)

    def test_list_empty(self):
        rc, out, err = self.gnomon("list", "--json")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out), [])
        rc, out, err = self.gnomon("list")
        self.assertEqual(rc, 0, err)

    def test_show(self):
        self.add_job(sched("shown", "echo shown-command", owner="o@example.com"))
        rc, out, err = self.gnomon("show", "shown")
        self.assertEqual(rc, 0, err)
        self.assertIn("shown", out)
        self.assertIn("echo shown-command", out)
        self.assertIn("R/2030-01-01T00:00:00Z/P1D", out)
        rc, out, err = self.gnomon("show", "shown", "--json")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out), self.get_job("shown"))

    def test_show_times_carry_their_zone(self):
        """`job show` writes the last success and error in the user's zone (TZ), with its abbreviation."""
        self.add_job(sched("timed", lastSuccess="2026-07-01T09:00:00.000Z", lastError="2026-01-01T09:00:00.000Z"))
        for tz, success, error in (("Europe/Paris", "2026-07-01 11:00:00 CEST", "2026-01-01 10:00:00 CET"),
                                   ("UTC", "2026-07-01 09:00:00 UTC", "2026-01-01 09:00:00 UTC"),
                                   ("America/Sao_Paulo", "2026-07-01 06:00:00 -03", "2026-01-01 06:00:00 -03")):
            with self.subTest(tz=tz):
                rc, out, err = self.gnomon("show", "timed", env={"TZ": tz})
                self.assertEqual(rc, 0, err)
                self.assertIn("\nlastSuccess: %s\nlastError: %s\n" % (success, error), out)

    def test_rm(self):
        self.add_job(sched("doomed"))
        self.add_job(sched("kept"))
        rc, out, err = self.gnomon("rm", "doomed")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.job_names(), ["kept"])

    def test_gnomon_server_environment(self):
        self.add_job(sched("via-env"))
        rc, out, err = self.gnomon("show", "via-env", "--json", server=False,
                                   env={"GNOMON_SERVER": self.server.url})
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["name"], "via-env")

    def test_server_flag_wins_over_environment(self):
        self.add_job(sched("flagged"))
        rc, out, err = self.gnomon("show", "flagged", "--json",
                                   env={"GNOMON_SERVER": "http://127.0.0.1:%d" % free_port()})
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["name"], "flagged")

    def test_add_rejected_job_prints_the_server_message(self):
        bad = sched("bad", schedule="FOO")
        _, expected = self.server.json("POST", V1 + "/iso8601", bad)
        rc, out, err = self.gnomon("add", self.write("bad.json", bad))
        self.assertCliError(rc, out, err, expected["message"])
        rc, out, err = self.gnomon("add", "-", stdin=json.dumps(dep("orphan", ["nobody"])))
        self.assertCliError(rc, out, err, ["parents:", "nobody"])
        self.assertEqual(self.job_names(), [])

    def test_show_missing_job(self):
        rc, out, err = self.gnomon("show", "ghost")
        self.assertCliError(rc, out, err, "Job 'ghost' not found")
        rc, out, err = self.gnomon("show", "ghost", "--json")
        self.assertEqual((rc, out, err), (1, "", '{"error":"Job \'ghost\' not found"}\n'))

    def test_rm_missing_job(self):
        rc, out, err = self.gnomon("rm", "ghost")
        self.assertCliError(rc, out, err, "Job 'ghost' not found")

    def test_agents(self):
        """`gnomon agents` lists the embedded agent; drain and undrain it; an unknown agent is one error line."""
        status, agents = self.server.json("GET", "/api/v1/agents")
        self.assertEqual(status, 200, agents)
        name = [a for a in agents if a["embedded"]][0]["name"]
        rc, out, err = self.gnomon(family="agents")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "STATE", "HOSTNAME", "CPUS", "MEM", "RUNNING", "LAST", "HEARD",
                                            "ATTRIBUTES"])
        self.assertEqual(lines[1].split()[:3], [name, "up", name])
        self.assertEqual(self.gnomon("list", family="agents")[1], out)
        rc, out, err = self.gnomon("--json", family="agents")
        self.assertEqual(rc, 0, err)
        self.assertEqual([a["name"] for a in json.loads(out)], [name])
        self.assertEqual(self.gnomon("drain", name, family="agents")[:2], (0, "agent '%s' draining\n" % name))
        self.assertEqual(self.server.json("GET", "/api/v1/agents/embedded")[1]["state"], "draining")
        rc, out, err = self.gnomon("show", "embedded", family="agents")
        self.assertEqual(rc, 0, err)
        self.assertIn("name:        %s\n" % name, out)
        self.assertIn("state:       draining\n", out)
        self.assertEqual(self.gnomon("undrain", "embedded", family="agents")[:2], (0, "agent '%s' up\n" % name))
        self.assertEqual(self.server.json("GET", "/api/v1/agents/embedded")[1]["state"], "up")
        for command in ("show", "drain", "undrain"):
            rc, out, err = self.gnomon(command, "nope", family="agents")
            self.assertEqual(rc, 1, err)
            self.assertCliError(rc, out, err, "gnomon: agent 'nope' not found")
        rc, out, err = self.gnomon("drain", family="agents")
        self.assertEqual(rc, 2, err)
        self.assertCliError(rc, out, err, "missing argument NAME|ID")

    def test_runs_name_their_agent(self):
        name = [a for a in self.server.json("GET", "/api/v1/agents")[1] if a["embedded"]][0]["name"]
        self.post_job({"name": "where", "command": "true", "schedule": "R1//PT1S", "owner": "a@example.com"})
        runs = lambda: self.server.json("GET", "/api/v1/jobs/where/runs")[1]["runs"]  # noqa: E731
        wait_until(lambda: any(r["status"] == "succeeded" for r in runs()), 20, interval=0.05, what="a run of 'where'")
        rc, out, err = self.gnomon("where", family="runs")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[0].split()[-1], "AGENT")
        self.assertEqual(lines[1].split()[-1], name)

    def test_unreachable_server(self):
        url = "http://127.0.0.1:%d" % free_port()
        for args in [("list",), ("show", "x"), ("rm", "x")]:
            with self.subTest(args=args):
                rc, out, err = self.gnomon(*args, "--server", url, server=False)
                self.assertCliError(rc, out, err, "127.0.0.1")
        rc, out, err = self.gnomon("add", "-", "--server", url, server=False, stdin=json.dumps(sched("x")))
        self.assertCliError(rc, out, err)

    def test_bad_input_files(self):
        cases = [
            (("add", os.path.join(self.tmp.name, "missing.json")), None, "missing.json"),
            (("add", self.write("broken.json", "{nope")), None, None),
            (("add", "-"), "", None),
            (("add", "-"), "42", None),
        ]
        for args, stdin, contains in cases:
            with self.subTest(args=args, stdin=stdin):
                rc, out, err = self.gnomon(*args, stdin=stdin)
                self.assertCliError(rc, out, err, contains or ())
        self.assertEqual(self.job_names(), [])

    def test_usage_errors(self):
        """A usage error is one line naming the problem and where help is, and exit status 2."""
        for args, message in [(("show",), "show: missing argument NAME (see gnomon job show --help)"),
                              (("rm",), "rm: missing argument NAME (see gnomon job rm --help)"),
                              (("frobnicate",), "unknown job command 'frobnicate' (see gnomon job --help)"),
                              (("list", "--bogus"), "unknown option '--bogus' (see gnomon job list --help)"),
                              (("list", "--server="), "option '--server' needs a value (see gnomon job list --help)"),
                              (("list", "--json=yes"), "option '--json' takes no value (see gnomon job list --help)")]:
            with self.subTest(args=args):
                rc, out, err = self.gnomon(*args)
                self.assertEqual((rc, out, err), (2, "", "gnomon: %s\n" % message))

    def run_argv(self, argv, env=None):
        """Run gnomon with exactly argv (no --server added); returns (rc, stdout, stderr)."""
        full_env = {k: v for k, v in os.environ.items() if k != "GNOMON_SERVER"}
        full_env.update(env or {})
        r = subprocess.run([BIN] + argv, input=b"", capture_output=True, env=full_env,
                           timeout=REQUEST_TIMEOUT + 10, cwd=self.tmp.name)
        err = r.stderr.decode("utf-8", "replace")
        self.assertEqual(sanitizer_lines(err), [], err)
        return r.returncode, r.stdout.decode("utf-8", "replace"), err

    def test_global_options_before_or_after_the_command(self):
        """--server and --json work before the command word, between it and its arguments, and after them; one
        given after the command word wins over one before it."""
        self.add_job(sched("placed", "echo placed"))
        url, down = self.server.url, "http://127.0.0.1:%d" % free_port()
        placements = [
            ["--server", url, "--json", "job", "show", "placed"],
            ["--json", "job", "--server", url, "show", "placed"],
            ["job", "show", "placed", "--server=" + url, "--json"],
            ["--server=" + down, "job", "show", "--json", "placed", "--server", url],
            ["--json", "--", "job", "show", "placed", "--server", url],
        ]
        for argv in placements:
            with self.subTest(argv=argv):
                rc, out, err = self.run_argv(argv)
                self.assertEqual(rc, 0, err)
                self.assertEqual(json.loads(out)["name"], "placed")
        for argv in (["--json", "--server", url, "runs", "placed"], ["runs", "--json", "placed", "--server", url],
                     ["--server", url, "runs", "placed", "--limit", "3", "--json"]):
            with self.subTest(argv=argv):
                rc, out, err = self.run_argv(argv)
                self.assertEqual((rc, json.loads(out)), (0, {"runs": [], "next": None}), err)
        rc, out, err = self.run_argv(["--server", url, "schedule", "preview", "--json", "R5/2030-01-01T00:00:00Z/P1D",
                                      "-n", "2"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(json.loads(out)["times"]), 2)
        # GNU getopt stops at the first argument under POSIXLY_CORRECT; the options after it still count.
        rc, out, err = self.run_argv(["job", "show", "placed", "--json", "--server", url],
                                     env={"POSIXLY_CORRECT": "1"})
        self.assertEqual((rc, json.loads(out)["name"]), (0, "placed"), err)

    def test_global_option_errors(self):
        """Before the command word only the global options are known; each error is one line and status 2."""
        url = self.server.url
        cases = [
            (["--bogus", "job", "list"], "gnomon: unknown option '--bogus' (see gnomon --help)"),
            (["--limit", "5", "runs", "x"], "gnomon: unknown option '--limit' (see gnomon --help)"),
            (["--server"], "gnomon: option '--server' needs a value (see gnomon --help)"),
            (["--server", url, "frobnicate"], "gnomon: unknown command 'frobnicate' (see gnomon --help)"),
            (["--json"], '{"error":"missing command"}'),
            (["--json", "--bogus", "job"], '{"error":"unknown option \'--bogus\'"}'),
            (["--server", url, "server"], "gnomon: options before 'server' are for the client commands; give the "
                                          "server's after it (see gnomon --help)"),
        ]
        for argv, line in cases:
            with self.subTest(argv=argv):
                self.assertEqual(self.run_argv(argv), (2, "", line + "\n"))
        rc, out, err = self.run_argv(["--server", url, "--help"])
        self.assertEqual(rc, 0, err)
        self.assertIn("global options", out)

    def test_json_errors(self):
        """With --json every command's error is one {"error": "..."} line on stderr (usage errors too, without the
        usage text), with the same exit code as without."""
        down = "http://127.0.0.1:%d" % free_port()
        cases = [
            (("job", "show", "ghost"), 1, "Job 'ghost' not found"),
            (("job", "rm", "ghost"), 1, "Job 'ghost' not found"),
            (("job", "run", "ghost", "--", "a b"), 1, "ghost"),
            (("job", "add", "-"), 1, "invalid JSON"),
            (("job", "list", "--bogus"), 2, "unknown option '--bogus'"),
            (("job", "frobnicate"), 2, "unknown job command 'frobnicate'"),
            (("job", "show"), 2, "missing argument"),
            (("runs",), 2, "missing argument NAME"),
            (("runs", "ghost"), 1, "ghost"),
            (("runs", "x", "--limit", "ten"), 2, "--limit"),
            (("logs", "no-such-task"), 1, "no-such-task"),
            (("schedule", "preview", "FOO"), 1, "FOO"),
            (("job", "list", "--server", down), 1, "127.0.0.1"),
        ]
        for args, code, part in cases:
            with self.subTest(args=args):
                server = [] if "--server" in args else ["--server", self.server.url]
                argv = [BIN, args[0], "--json"] + server + list(args[1:])  # options before any "--"
                r = subprocess.run(argv, input=b"{", capture_output=True, timeout=REQUEST_TIMEOUT + 10,
                                   cwd=self.tmp.name)
                err = r.stderr.decode()
                self.assertEqual(r.returncode, code, err)
                self.assertEqual(r.stdout, b"")
                lines = err.splitlines()
                self.assertEqual(len(lines), 1, err)
                body = json.loads(lines[0])
                self.assertEqual(list(body), ["error"], err)
                self.assertIn(part, body["error"])
                self.assertFalse(body["error"].startswith("gnomon:"), err)

    def test_server_usage_errors(self):
        """`gnomon server` names an unknown option as the job commands do, whether it has one dash or two."""
        for arg, message in [("-x", "unknown option '-x'"), ("--bogus", "unknown option '--bogus'"),
                             ("--bogus=1", "unknown option '--bogus'"), ("stray", "unexpected argument 'stray'")]:
            with self.subTest(arg=arg):
                r = subprocess.run([BIN, "server", arg, "--data-dir", self.tmp.name], capture_output=True,
                                   timeout=REQUEST_TIMEOUT, cwd=self.tmp.name)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(r.stderr.decode(), "gnomon server: %s (see gnomon server --help)\n" % message)


if __name__ == "__main__":
    main()
