"""The README's quick start, as written: its shell blocks and every `$ command` of its console block run in a
fresh directory (where build/gnomon is the binary under test) against a real server, and each command prints
what the README shows, up to what changes from run to run (task ids' times, times, durations). So the README
cannot drift from what the commands do.

The comparison: a command's first line as shown, then every further line the README shows among the lines
printed (in any order, and more may be printed: a scheduled run that comes due meanwhile, or a slot claimed just
after the manual run, changes neither the commands nor what they mean)."""

import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import BIN, REQUEST_TIMEOUT, GnomonTestCase, main, sanitizer_lines  # noqa: E402

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")

# What differs between two runs of the same commands, each with its placeholder.
VARYING = [
    (re.compile(r"ct:\d+:"), "ct:<due>:"),
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d([.,]\d+)?)?"), "<time>"),
    (re.compile(r"(?<![\w.:])(\d+(\.\d+)?(ms|s)|\d+m\d\ds|\d+h\d\dm\d\ds)(?![\w])"), "<duration>"),
    (re.compile(r"(?<![\w.:])\d+(\.\d+)?[KMG]iB(?![\w])"), "<memory>"),  # a run's peak memory (`gnomon runs`)
]


def normalize(line):
    for pattern, placeholder in VARYING:
        line = pattern.sub(placeholder, line)
    return " ".join(line.split())


def quick_start_blocks(text):
    """The fenced blocks of the README's "## Quick start" section, as [(language, [lines])]."""
    parts = re.split(r"^## Quick start.*$", text, maxsplit=1, flags=re.M)
    if len(parts) != 2:
        raise AssertionError("README.md has no '## Quick start' section")
    section = re.split(r"^## ", parts[1], maxsplit=1, flags=re.M)[0]
    return [(lang, body.splitlines()) for lang, body in re.findall(r"^```(\w*)\n(.*?)^```$", section, re.M | re.S)]


def console_steps(lines):
    """The [(command, [lines it prints])] of a console block ("$ " starts a command)."""
    steps = []
    for line in lines:
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
        elif line.strip():
            raise AssertionError("console block starts with output, not a command: %r" % line)
    return steps


class QuickStart(GnomonTestCase):
    # The README's runs name their agent, the embedded one, which takes the server's hostname.
    server_args = ("--hostname", "myhost")

    def setUp(self):
        super().setUp()
        tmp = tempfile.TemporaryDirectory(prefix="gnomon-it-quickstart-")
        self.addCleanup(tmp.cleanup)
        self.cwd = tmp.name
        os.mkdir(os.path.join(self.cwd, "build"))
        os.symlink(os.path.abspath(BIN), os.path.join(self.cwd, "build", "gnomon"))
        # The README's output is shown in UTC.
        self.env = dict(os.environ, GNOMON_SERVER=self.server.url, TZ="UTC")

    def bash(self, script):
        r = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=self.cwd, env=self.env,
                           capture_output=True, timeout=REQUEST_TIMEOUT + 30)
        out, err = r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
        self.assertEqual(sanitizer_lines(err), [], err)
        self.assertEqual(r.returncode, 0, "%s\nexited %d: %s" % (script, r.returncode, err))
        return out

    def assertPrints(self, command, shown, printed):
        want = [normalize(line) for line in shown]
        got = [normalize(line) for line in printed.splitlines()]
        context = "\n$ %s\nREADME shows:\n%s\nprinted:\n%s" % (command, "\n".join(shown), printed)
        if not want:
            self.assertEqual(got, [], context)
            return
        self.assertTrue(got and got[0] == want[0], context)
        rest = got[1:]
        for line in want[1:]:
            self.assertIn(line, rest, context)
            rest.remove(line)

    def test_quick_start_as_written(self):
        with open(README, encoding="utf-8") as f:
            blocks = quick_start_blocks(f.read())
        setup = [body for lang, body in blocks if lang == "sh" and not any("make run" in line for line in body)]
        consoles = [body for lang, body in blocks if lang == "console"]
        self.assertEqual(len(consoles), 1, "the quick start should have one console block")
        steps = console_steps(consoles[0])
        commands = [command for command, _ in steps]
        for needed in ("build/gnomon job add", "build/gnomon job run", "build/gnomon logs", "build/gnomon runs"):
            self.assertTrue(any(c.startswith(needed) for c in commands), "no '%s' in %r" % (needed, commands))
        for body in setup:
            self.bash("\n".join(body))
        for command, shown in steps:
            with self.subTest(command=command):
                self.assertPrints(command, shown, self.bash(command))


if __name__ == "__main__":
    main()
