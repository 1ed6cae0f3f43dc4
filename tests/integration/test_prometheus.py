"""GET /metrics/prometheus: the Prometheus text format (0.0.4) read by a strict parser written here (every line
checked against the format's grammar, families declared once and before their samples, histograms cumulative
with +Inf equal to _count), and by prometheus_client's own parser when Debian's python3-prometheus-client is
there; values checked against runs made here (successes, a failure, a manual run), per-job series against the
jobs' Chronos JSON, a job name that needs escaping, and --metrics-per-job false."""

import math
import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, main, parse_iso_ms, sched, wait_until  # noqa: E402

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # a Python of its own (pyenv) does not see Debian's package; add its directory
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        text_string_to_metric_families = None

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}


class FormatError(AssertionError):
    pass


def parse_value(text):
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        raise FormatError("not a number: %r" % text)
    return float(text)


def parse_labels(text, pos, line):
    """Labels from text[pos] == '{' to the closing '}': ({name: value}, position after '}')."""
    labels = {}
    pos += 1
    while True:
        if text[pos] == "}":
            return labels, pos + 1
        m = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*").match(text, pos)
        if not m or text[m.end():m.end() + 2] != '="':
            raise FormatError("bad label at %d: %r" % (pos, line))
        name, pos, value = m.group(0), m.end() + 2, []
        while text[pos] != '"':
            if text[pos] == "\n":
                raise FormatError("raw line feed in a label value: %r" % line)
            if text[pos] == "\\":
                if text[pos + 1] not in ESCAPES:
                    raise FormatError("bad escape \\%s: %r" % (text[pos + 1], line))
                value.append(ESCAPES[text[pos + 1]])
                pos += 2
            else:
                value.append(text[pos])
                pos += 1
        if name in labels:
            raise FormatError("label %s twice: %r" % (name, line))
        labels[name] = "".join(value)
        pos += 1
        if text[pos] == ",":
            pos += 1
        elif text[pos] != "}":
            raise FormatError("expected , or } at %d: %r" % (pos, line))


def sample_family(name, families):
    """The declared family a sample name belongs to (histograms: _bucket, _sum, _count)."""
    if name in families:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[:-len(suffix)] if name.endswith(suffix) else None
        if base and families.get(base, {}).get("type") == "histogram":
            return base
    raise FormatError("sample %s has no # TYPE before it" % name)


def parse_exposition(text):
    """{family: {"type", "help", "samples": [(name, labels, value)]}}, checking the format strictly."""
    if not text.endswith("\n"):
        raise FormatError("the exposition does not end with a line feed")
    families, order, current, seen = {}, [], None, set()
    for line in text[:-1].split("\n"):
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) < 3 or parts[1] not in ("HELP", "TYPE"):
                continue  # a plain comment
            name = parts[2]
            if not METRIC_NAME.match(name):
                raise FormatError("bad metric name %r" % name)
            fam = families.setdefault(name, {"type": None, "help": None, "samples": []})
            if name != current:
                if name in order:
                    raise FormatError("family %s declared again after others" % name)
                order.append(name)
                current = name
            if parts[1] == "HELP":
                if fam["help"] is not None or fam["type"] is not None and fam["samples"]:
                    raise FormatError("second or late HELP for %s" % name)
                fam["help"] = re.sub(r"\\(.)", lambda m: {"\\": "\\", "n": "\n"}[m.group(1)], parts[3])
            else:
                if fam["type"] is not None or len(parts) != 4 or parts[3] not in TYPES:
                    raise FormatError("bad or second TYPE line %r" % line)
                fam["type"] = parts[3]
            continue
        if not line:
            raise FormatError("empty line")
        m = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*").match(line)
        if not m:
            raise FormatError("bad sample line %r" % line)
        name, pos, labels = m.group(0), m.end(), {}
        if pos < len(line) and line[pos] == "{":
            labels, pos = parse_labels(line + "\n", pos, line)
        rest = line[pos:]
        if not rest.startswith(" ") or len(rest.split(" ")) not in (2, 3):
            raise FormatError("bad value part in %r" % line)
        value = parse_value(rest.split(" ")[1])
        fam = sample_family(name, families)
        if fam != current:
            raise FormatError("sample %s outside its family's block" % name)
        key = (name, tuple(sorted(labels.items())))
        if key in seen:
            raise FormatError("duplicate sample %r" % line)
        seen.add(key)
        families[fam]["samples"].append((name, labels, value))
    for name, fam in families.items():
        if fam["type"] is None:
            raise FormatError("family %s has no TYPE" % name)
        if fam["type"] == "histogram":
            check_histogram(name, fam["samples"])
        if fam["type"] == "counter" and not name.endswith("_total"):
            raise FormatError("counter %s does not end in _total" % name)
    return families


def check_histogram(name, samples):
    """Per label set: buckets by increasing le, cumulative, ending with +Inf == _count, and a _sum."""
    series = {}
    for sname, labels, value in samples:
        rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        s = series.setdefault(rest, {"buckets": [], "sum": None, "count": None})
        if sname == name + "_bucket":
            s["buckets"].append((parse_value(labels["le"]), value))
        elif sname == name + "_sum":
            s["sum"] = value
        else:
            s["count"] = value
    for rest, s in series.items():
        les = [le for le, _ in s["buckets"]]
        counts = [c for _, c in s["buckets"]]
        if les != sorted(les) or len(set(les)) != len(les) or not les or les[-1] != math.inf:
            raise FormatError("%s%r: le not increasing to +Inf: %r" % (name, rest, les))
        if counts != sorted(counts):
            raise FormatError("%s%r: buckets not cumulative: %r" % (name, rest, counts))
        if s["count"] != counts[-1] or s["sum"] is None:
            raise FormatError("%s%r: _count %r, +Inf %r, _sum %r" % (name, rest, s["count"], counts[-1], s["sum"]))


def value_of(families, family, name=None, **labels):
    for sname, slabels, value in families[family]["samples"]:
        if sname == (name or family) and slabels == labels:
            return value
    raise AssertionError("no sample %s%r in %s" % (name or family, labels, families[family]["samples"]))


class Prometheus(GnomonTestCase):

    def scrape(self, srv=None):
        status, headers, body = (srv or self.server).request("GET", "/metrics/prometheus")
        self.assertEqual(status, 200, body)
        self.assertEqual(headers.get("content-type"), CONTENT_TYPE)
        text = body.decode("utf-8")
        families = parse_exposition(text)
        if text_string_to_metric_families is not None:  # the reference parser reads the same samples
            theirs = sorted((s.name, tuple(sorted(s.labels.items())), s.value)
                            for f in text_string_to_metric_families(text) for s in f.samples)
            ours = sorted((n, tuple(sorted(lb.items())), v) for f in families.values() for n, lb, v in f["samples"])
            self.assertEqual(theirs, ours)
        return text, families

    def wait_counts(self, name, success, errors):
        def done():
            job = self.get_job(name)
            return job["successCount"] == success and job["errorCount"] == errors and job
        return wait_until(done, 20, what="%s to have %d successes and %d errors" % (name, success, errors))

    def test_runs_requests_and_jobs(self):
        self.add_job(sched("ok", schedule="R//PT1H"))
        self.add_job(sched("bad", command="exit 3", schedule="R//PT1H", retries=0))
        self.wait_counts("ok", 1, 0)
        self.assertEqual(self.server.request("PUT", "/v1/scheduler/job/ok")[0], 204)  # a manual run: not late
        ok = self.wait_counts("ok", 2, 0)
        bad = self.wait_counts("bad", 0, 1)
        wait_until(lambda: self.server.json("GET", "/api/v1/overview")[1]["counts"]["idle"] == 2, 10,
                   what="both jobs idle")
        self.assertEqual(self.server.request("GET", "/scheduler/job/bad")[0], 200)
        text, fams = self.scrape()

        self.assertEqual(fams["gnomon_runs_total"]["type"], "counter")
        self.assertEqual({lb["status"]: v for _, lb, v in fams["gnomon_runs_total"]["samples"]},
                         {"succeeded": 2, "failed": 1, "killed": 0, "lost": 0, "skipped": 0})
        for fam in ("gnomon_run_start_lateness_seconds", "gnomon_run_duration_seconds",
                    "gnomon_http_request_duration_seconds"):
            self.assertEqual(fams[fam]["type"], "histogram")
        # two scheduled runs were late for their due time (an empty start is 1 s ago); the manual one has none
        self.assertEqual(value_of(fams, "gnomon_run_start_lateness_seconds",
                                  "gnomon_run_start_lateness_seconds_count"), 2)
        self.assertEqual(value_of(fams, "gnomon_run_duration_seconds", "gnomon_run_duration_seconds_count"), 3)
        self.assertGreater(value_of(fams, "gnomon_run_duration_seconds", "gnomon_run_duration_seconds_sum"), 0)
        # what the three runs used (issue 14): each measured, with or without a cgroup
        for fam in ("gnomon_run_cpu_seconds", "gnomon_run_peak_memory_bytes"):
            self.assertEqual(fams[fam]["type"], "histogram")
            self.assertEqual(value_of(fams, fam, fam + "_count"), 3, fam)
        self.assertGreater(value_of(fams, "gnomon_run_peak_memory_bytes", "gnomon_run_peak_memory_bytes_sum"), 3 << 10)

        # requests are labelled with their route's pattern, whichever prefix or job name they used
        http = fams["gnomon_http_request_duration_seconds"]["samples"]
        routes = {(lb["method"], lb["route"]) for _, lb, _ in http}
        self.assertIn(("POST", "/v1/scheduler/iso8601"), routes)
        self.assertIn(("GET", "/v1/scheduler/job/{}"), routes)
        self.assertFalse([r for r in routes if "ok" in r[1] or "bad" in r[1]], routes)
        count = value_of(fams, "gnomon_http_request_duration_seconds", "gnomon_http_request_duration_seconds_count",
                         method="POST", route="/v1/scheduler/iso8601")
        self.assertEqual(count, 2)

        self.assertEqual(fams["gnomon_queue_depth"]["type"], "gauge")
        self.assertEqual(value_of(fams, "gnomon_queue_depth"), 0)
        self.assertEqual({lb["state"]: v for _, lb, v in fams["gnomon_jobs"]["samples"]},
                         {"running": 0, "queued": 0, "idle": 2, "disabled": 0})

        # per job: the times of the Chronos JSON's lastSuccess and lastError, none for what never happened
        success = fams["gnomon_job_last_success_timestamp_seconds"]
        failure = fams["gnomon_job_last_failure_timestamp_seconds"]
        self.assertEqual(success["type"], "gauge")
        self.assertEqual(failure["type"], "gauge")
        self.assertEqual([(lb, v) for _, lb, v in success["samples"]],
                         [({"job": "ok"}, parse_iso_ms(ok["lastSuccess"]) / 1000)])
        self.assertEqual([(lb, v) for _, lb, v in failure["samples"]],
                         [({"job": "bad"}, parse_iso_ms(bad["lastError"]) / 1000)])
        self.assertIn('gnomon_runs_total{status="succeeded"} 2\n', text)

    def test_agents(self):
        """The embedded agent is one up agent with its resources; a drained one counts as draining; the JSON
        /metrics has the same gauges."""
        status, (agent,) = self.server.json("GET", "/api/v1/agents")
        self.assertEqual(status, 200)
        text, fams = self.scrape()
        for family in ("gnomon_agents", "gnomon_agent_resources", "gnomon_runs_waiting_for_agent"):
            self.assertEqual(fams[family]["type"], "gauge")
            self.assertIn("# HELP %s " % family, text)
        self.assertEqual(value_of(fams, "gnomon_agents", state="up"), 1)
        self.assertEqual(value_of(fams, "gnomon_agents", state="draining"), 0)
        self.assertEqual(value_of(fams, "gnomon_agents", state="lost"), 0)
        self.assertEqual(value_of(fams, "gnomon_runs_waiting_for_agent"), 0)
        for resource in ("cpus", "mem", "disk"):
            self.assertEqual(value_of(fams, "gnomon_agent_resources", agent=agent["name"], resource=resource,
                                      kind="total"), agent["resources"][resource])
            self.assertEqual(value_of(fams, "gnomon_agent_resources", agent=agent["name"], resource=resource,
                                      kind="used"), 0)
        gauges = self.server.json("GET", "/metrics")[1]["gauges"]
        self.assertEqual({k: v["value"] for k, v in gauges.items() if "agent" in k},
                         {"gnomon.agents.up": 1, "gnomon.agents.draining": 0, "gnomon.agents.lost": 0,
                          "gnomon.runs.waiting_for_agent": 0})
        self.assertEqual(self.server.json("POST", "/api/v1/agents/embedded/drain")[0], 200)
        _, fams = self.scrape()
        self.assertEqual(value_of(fams, "gnomon_agents", state="up"), 0)
        self.assertEqual(value_of(fams, "gnomon_agents", state="draining"), 1)
        gauges = self.server.json("GET", "/metrics")[1]["gauges"]
        self.assertEqual(gauges["gnomon.agents.draining"]["value"], 1)

    def test_job_name_escaped(self):
        """The API refuses such names, but a store may hold them (older data): label values are escaped."""
        name = 'we"ird\\job\nline'
        self.server.stop()
        db = sqlite3.connect(os.path.join(self.server.data_dir, "gnomon.db"))
        db.execute("INSERT INTO jobs (name, json) VALUES (?, json_object('name', ?, 'command', 'true', "
                   "'schedule', 'R/2030-01-01T00:00:00Z/P1D', 'lastSuccess', '2026-01-02T03:04:05.678Z'))",
                   (name, name))
        db.commit()
        db.close()
        self.server.start()
        text, fams = self.scrape()
        self.assertIn('gnomon_job_last_success_timestamp_seconds{job="we\\"ird\\\\job\\nline"} 1767323045.678\n',
                      text)
        self.assertEqual(value_of(fams, "gnomon_job_last_success_timestamp_seconds", job=name), 1767323045.678)

    def test_per_job_series_can_be_left_out(self):
        srv = self.new_server(["--metrics-per-job=false"])
        self.add_job(sched("ok", schedule="R//PT1H"), srv=srv)
        wait_until(lambda: self.get_job("ok", srv)["successCount"] == 1, 20, what="a success")
        text, fams = self.scrape(srv)
        self.assertNotIn("gnomon_job_last_", text)
        self.assertEqual(sum(v for _, _, v in fams["gnomon_jobs"]["samples"]), 1)
        self.assertEqual(value_of(fams, "gnomon_runs_total", status="succeeded"), 1)
        # and on by default, in this test's other server
        self.add_job(sched("ok", schedule="R//PT1H"))
        wait_until(lambda: self.get_job("ok")["successCount"] == 1, 20, what="a success")
        self.assertIn('gnomon_job_last_success_timestamp_seconds{job="ok"}', self.scrape()[0])

    def test_the_parser_refuses_what_the_format_forbids(self):
        """The strict parser above is what the other tests trust: it refuses each of these."""
        bad = [
            "x 1",                                                      # no TYPE
            "# TYPE x gauge\nx 1",                                      # no final line feed
            '# TYPE x gauge\nx{a="b\\q"} 1\n',                          # bad escape
            '# TYPE x gauge\nx{a="1",a="2"} 1\n',                       # label twice
            "# TYPE x gauge\n# TYPE y gauge\ny 1\nx 2\n",               # samples outside their block
            "# TYPE x gauge\nx one\n",                                  # not a number
            "# TYPE x_total counter\nx_total 1\n# TYPE x_total counter\n",  # declared again
            "# TYPE c counter\nc 1\n",                                  # counter without _total
            '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',  # not cumulative
            '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',                         # no +Inf
            '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n',                      # +Inf != count
        ]
        for text in bad:
            with self.assertRaises(FormatError, msg=text):
                parse_exposition(text)
        good = '# HELP h a \\\\ help\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\n' \
               'h_count 2\n'
        self.assertEqual(parse_exposition(good)["h"]["help"], "a \\ help")


if __name__ == "__main__":
    main()
