"""The documentation (issue 16 item 10) names only what exists: every `--option` in docs/*.md is one that
`gnomon server`, `gnomon agent`, `gnomon migrate` or a client command lists in its --help (Chronos's
underscore spellings included) or that the server accepts and ignores (Chronos's Mesos options); every API path
(/api/..., /v1/scheduler/..., /scheduler/..., /metrics, /ping; with its method when one is written before it) is a
route of GET /api/v1/openapi.json, which
tests/unit/test_openapi.c holds equal to the server's route table; every relative link leads to a file, and its
#anchor to a heading there. README.md links to docs/."""

import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import BIN, GnomonTestCase, main  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DOCS = os.path.join(ROOT, "docs")
FLAG_RE = re.compile(r"(?<![\w-])--([a-z][a-z0-9_-]*)(\*?)")
# The pages for users (architecture.md and agent-protocol.md also name the options of internal programs:
# gnomon-executor's --zygote, the simulation's --sqlite): their options are checked; every page's API paths.
USER_PAGES = ("index.md", "getting-started.md", "concepts.md", "cluster.md", "migrating-from-chronos.md",
              "operations.md")
PATH_RE = re.compile(r"(?:\b(GET|POST|PUT|DELETE|PATCH)\s+)?(?<![\w/.~-])(/(?:api/|v1/scheduler/|scheduler/|metrics|ping)"
                     r"[^\s`'\")\],;]*)")
LINK_RE = re.compile(r"\]\(([^)\s]+)\)")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def doc_files():
    return sorted(os.path.join(DOCS, f) for f in os.listdir(DOCS) if f.endswith(".md"))


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def gnomon(*args):
    r = subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def slug(heading):
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path):
    found = set()
    in_code = False
    for line in read(path).splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            found.add(slug(line.lstrip("#")))
    return found


def route_regex(path):
    """A documented path template as a regex: {x} takes one segment or more (task ids may hold '/')."""
    parts = re.split(r"\{[^}]*\}", path.rstrip("/") or "/")
    return re.compile("^" + "[^?#]+".join(re.escape(p) for p in parts) + "/?$")


class Docs(GnomonTestCase):
    server_args = None

    def help_flags(self):
        flags = set()
        texts = []
        for args in (["server", "--help"], ["agent", "--help"], ["migrate", "--help"], ["--help"]):
            rc, out = gnomon(*args)
            self.assertEqual(rc, 0, out)
            texts.append(out)
        families = re.findall(r"^  ([a-z]+) {2,}", texts[-1], re.M)
        self.assertIn("backup", families)
        for family in families:
            if family not in ("server", "agent", "migrate"):
                rc, out = gnomon(family, "--help")
                self.assertEqual(rc, 0, out)
                texts.append(out)
        for text in texts:
            flags.update(m.group(1).rstrip("_-").replace("_", "-") for m in FLAG_RE.finditer(text))
        return flags

    def accepted(self, flag):
        """Does the server take --flag (Chronos's options it ignores are in no --help)?"""
        with tempfile.TemporaryDirectory() as tmp:
            rc, _ = gnomon("server", "--check-config", "--data-dir", tmp, "--%s=x" % flag)
        return rc == 0

    def test_flags_exist(self):
        known = self.help_flags()
        missing = []
        for page in USER_PAGES:
            path = os.path.join(DOCS, page)
            for m in FLAG_RE.finditer(read(path)):
                flag, wildcard = m.group(1).rstrip("_-").replace("_", "-"), m.group(2)
                if wildcard:  # a family of Chronos's ignored options (--cassandra_*): one of them is taken
                    flag += "-port" if flag == "cassandra" else "-host-port" if flag == "graphite" else ""
                if flag not in known and not self.accepted(flag):
                    missing.append("%s: --%s" % (os.path.basename(path), m.group(1)))
        self.assertEqual(sorted(set(missing)), [], "options the docs name that gnomon lacks")

    def test_paths_exist(self):
        srv = self.new_server()
        status, body = srv.json("GET", "/api/v1/openapi.json")
        self.assertEqual(status, 200, body)
        paths = [p for p, item in body["paths"].items() if any(m in item for m in METHODS)]
        routes = [(route_regex(p), {m.upper() for m in body["paths"][p] if m in METHODS}) for p in paths]
        missing, seen = [], 0
        for path in doc_files():
            for m in PATH_RE.finditer(read(path)):
                method, p = m.group(1), m.group(2).split("?")[0].rstrip(".:")
                seen += 1
                prefix = p.rstrip("/") + "/"  # "/api/v1", "/api/v1/agent/": a family of routes
                if not any(r.match(p) and (method is None or method in verbs) for r, verbs in routes) and \
                        not (method is None and any(q.startswith(prefix) for q in paths)):
                    missing.append("%s: %s%s" % (os.path.basename(path), method + " " if method else "", p))
        self.assertGreater(seen, 20)
        self.assertEqual(sorted(set(missing)), [], "API paths the docs name that the server lacks")

    def test_links_resolve(self):
        broken = []
        for path in doc_files() + [os.path.join(ROOT, "README.md")]:
            for m in LINK_RE.finditer(read(path)):
                target = m.group(1)
                if re.match(r"^[a-z]+:", target):
                    continue
                file, _, anchor = target.partition("#")
                dest = os.path.normpath(os.path.join(os.path.dirname(path), file)) if file else path
                if not os.path.exists(dest):
                    broken.append("%s: %s (no such file)" % (os.path.basename(path), target))
                elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
                    broken.append("%s: %s (no such heading)" % (os.path.basename(path), target))
        self.assertEqual(broken, [])

    def test_readme_links_docs(self):
        readme = read(os.path.join(ROOT, "README.md"))
        for page in ("index.md", "getting-started.md", "concepts.md", "cluster.md", "migrating-from-chronos.md",
                     "operations.md"):
            self.assertTrue(os.path.exists(os.path.join(DOCS, page)), page)
        self.assertTrue("](docs/index.md)" in readme, "README.md does not link to docs/index.md")


if __name__ == "__main__":
    main()
