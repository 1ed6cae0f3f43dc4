"""The run's report: a summary table (printed), summary.json and timeline.svg, next to the run's log.

The picture, as Jepsen drew Chronos's: time across; a band per fault (its kind's colour, named); under them a
strip of who led (one colour a server, grey: nobody); then a row per job, a mark per slot at its due time, green
satisfied, amber skipped with a reason, red lost, duplicated or skipped without one.
"""

import collections
import json
import os
import re
from xml.sax.saxutils import escape

FAULT_COLOURS = {"partition-halves": "#c6dbef", "partition-leader": "#9ecae1", "partition-agent": "#deebf7",
                 "partition-bridge": "#6baed6", "lossy-links": "#c7e9c0", "kill-server": "#fdd0a2",
                 "kill-agent": "#fdae6b", "kill-zk": "#fd8d3c", "kill-pg": "#e6550d", "pause-leader": "#dadaeb",
                 "pause-agent": "#bcbddc", "disk-full": "#d9d9d9", "clock-skew-server": "#fcbba1",
                 "clock-skew-agent": "#fee0d2"}
LEADER_COLOURS = {"s1": "#1b9e77", "s2": "#7570b3", "s3": "#e7298a"}
VERDICT_COLOURS = {"satisfied": "#2ca02c", "skipped": "#ffbf00", "lost-agent": "#ff7f0e", "lost": "#d62728",
                   "duplicated": "#d62728", "skipped-unjustified": "#d62728", "open": "#8c564b",
                   "off-clock": "#fdd0a2", "late-retry": "#bcbd22", "at-least-once": "#e377c2"}


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def summary(result, faults, failovers, extra):
    ms = [f["ms"] for f in failovers if f["ms"] is not None]
    s = {k: result.get(k, 0) for k in ("slots", "satisfied", "skipped", "skipped_reasons", "skipped_unjustified",
                                       "lost", "duplicated", "open", "lost_agent", "off_clock", "late_retry", "at_least_once",
                                       "runs_in_history",
                                       "side_effect_lines", "broken_lines", "fan_in_rounds", "fan_in_children")}
    s["faults"] = dict(collections.Counter(f["kind"] for f in faults))
    s["failover_ms"] = {"count": len(failovers), "no_new_leader": len(failovers) - len(ms),
                        "p50": percentile(ms, 50), "p99": percentile(ms, 99), "max": max(ms) if ms else None}
    two = [t for t, leading in extra.pop("samples") if len(leading) > 1]
    s["two_leaders_looks"] = {"count": len(two), "first_ms": two[0] if two else None}
    s["ok"] = not result["failures"]
    s["failures"] = result["failures"]
    s.update(extra)
    return s


def table(s):
    rows = [("faults", ", ".join("%s %d" % kv for kv in sorted(s["faults"].items())) or "none"),
            ("slots", s["slots"]), ("satisfied", s["satisfied"]),
            ("skipped", "%d%s" % (s["skipped"], "".join("\n    %d: %s" % (n, w) for w, n in
                                                           s["skipped_reasons"].items()))),
            ("skipped unjustified", s["skipped_unjustified"]), ("lost", s["lost"]),
            ("lost, justified", "%d (no side effect; its agent stopped or cut off, or no leader possible, in its "
             "window)" % s.get("lost_agent", 0)),
            ("off-clock, justified", "%d (started early by a leader just after its clock jumped forwards, before "
             "it stepped down)" % s.get("off_clock", 0)),
            ("late retry, justified", "%d (a retry late by no more than the time no leader could exist, or after "
             "an attempt lost with its agent)" % s.get("late_retry", 0)),
            ("at least once, justified", "%d (a run lost while its agent could not report that it completed, and "
             "its retry)" % s.get("at_least_once", 0)), ("duplicated", s["duplicated"]),
            ("left open", s["open"]),
            ("fan-in rounds / children", "%d / %d" % (s.get("fan_in_rounds", 0), s.get("fan_in_children", 0))),
            ("runs / side-effect lines", "%d / %d" % (s["runs_in_history"], s["side_effect_lines"])),
            ("failovers", "%d (p50 %s ms, p99 %s ms, max %s ms; no new leader %d)" % (
                s["failover_ms"]["count"], s["failover_ms"]["p50"], s["failover_ms"]["p99"], s["failover_ms"]["max"],
                s["failover_ms"]["no_new_leader"])),
            ("looks with two leaders", "%d (each server's own word; fencing is by epoch)"
             % s["two_leaders_looks"]["count"]),
            ("verdict", "PASS" if s["ok"] else "FAIL (%d failures)" % len(s["failures"]))]
    return "\n".join("%-26s %s" % (k, v) for k, v in rows)


def svg(result, faults, samples, t0, t1):
    # w7, d8a, d8b, w9...: in the order they were added
    jobs = sorted({v["job"] for v in result["slot_verdicts"]}, key=lambda n: (int(re.sub(r"\D", "", n) or 0), n))
    width, left, row = 1200, 60, 14
    top = 20 + 12 * 2 + 24
    height = top + row * len(jobs) + 30
    span = max(1, t1 - t0)

    def x(t):
        return left + (width - left - 10) * (t - t0) / span
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
           'font-size="10">' % (width, height), '<rect width="100%" height="100%" fill="white"/>']
    lanes = {}
    for f in faults:
        lane = lanes.setdefault(f["kind"].split("-")[0], len(lanes) % 2)
        end = f["end"] or t1
        out.append('<rect x="%.1f" y="20" width="%.1f" height="%d" fill="%s" opacity="0.5"><title>%s %s</title>'
                   '</rect>' % (x(f["start"]), max(1, x(end) - x(f["start"])), height - 50,
                                FAULT_COLOURS[f["kind"]], escape(f["kind"]), escape(f["target"])))
        out.append('<text x="%.1f" y="%d">%s</text>' % (x(f["start"]) + 2, 30 + 12 * lane, escape(f["kind"])))
    out.append('<text x="2" y="%d">leader</text>' % (top - 8))
    for (t, leading), (t2, _) in zip(samples, samples[1:] + [(t1, None)]):
        colour = LEADER_COLOURS.get(leading[0], "#000") if len(leading) == 1 else ("#000" if leading else "#bbb")
        out.append('<rect x="%.1f" y="%d" width="%.1f" height="8" fill="%s"/>' % (x(t), top - 16,
                                                                                  max(0.5, x(t2) - x(t)), colour))
    for i, name in enumerate(jobs):
        out.append('<text x="2" y="%d">%s</text>' % (top + row * i + 10, escape(name)))
    for v in result["slot_verdicts"]:
        i = jobs.index(v["job"])
        out.append('<circle cx="%.1f" cy="%d" r="4" fill="%s"><title>%s %d %s %s</title></circle>'
                   % (x(v["due"]), top + row * i + 6, VERDICT_COLOURS[v["verdict"]], escape(v["job"]), v["due"],
                      v["verdict"], escape(v["why"])))
    legend = [("satisfied", VERDICT_COLOURS["satisfied"]), ("skipped (no leader possible)", VERDICT_COLOURS["skipped"]),
              ("lost, justified", VERDICT_COLOURS["lost-agent"]),
              ("lost / duplicated / skipped wrongly", VERDICT_COLOURS["lost"]), ("left open", VERDICT_COLOURS["open"])]
    legend += [("leader " + n, c) for n, c in LEADER_COLOURS.items()] + [("no leader", "#bbb"), ("two", "#000")]
    lx = left
    for label, colour in legend:
        out.append('<rect x="%d" y="4" width="8" height="8" fill="%s"/><text x="%d" y="12">%s</text>'
                   % (lx, colour, lx + 11, escape(label)))
        lx += 20 + 6 * len(label)
    for s in range(0, span // 1000 + 1, 30):
        out.append('<text x="%.1f" y="%d">%d s</text>' % (x(t0 + s * 1000), height - 8, s))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write(out_dir, s, result, faults, samples, t0, t1):
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(dict(s, fault_log=faults, slot_verdicts=result["slot_verdicts"]), f, indent=1)
    with open(os.path.join(out_dir, "timeline.svg"), "w") as f:
        f.write(svg(result, faults, samples, t0, t1))
