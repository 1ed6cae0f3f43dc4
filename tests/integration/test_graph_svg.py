"""GET /api/v1/graph.svg: the dependency graph drawn by Graphviz. The SVG is parsed as XML and checked the way a
user sees it: one node per job (title and label = the name) linking to the job's page, one edge per
parent->child link, fills by last result, running jobs double-bordered and bold, queued ones dashed, disabled
ones lighter; ?job=NAME draws one job's ancestors and descendants; the size limit and errors."""

import os
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, dep, main, sched, wait_until  # noqa: E402

V1 = "/v1/scheduler"
GRAPH = "/api/v1/graph.svg"
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
SHAPES = (SVG + "path", SVG + "polygon", SVG + "ellipse")

# Fills by last result, and their lighter variants for disabled jobs (src/api/gnomon_graph.c).
FILL = {"success": "#b7e1b0", "failure": "#f2a7a7", "fresh": "#d9d9d9"}
FILL_DISABLED = {"success": "#e6f4e3", "failure": "#fbe3e3", "fresh": "#f2f2f2"}
LIMIT = 2000


def parse_svg(body):
    """({name: node}, [(parent, child)]) from Graphviz's SVG: a node is a <g class="node ..."> whose <title> is
    the job name; an edge is a <g class="edge"> titled "parent->child" (names cannot contain '>')."""
    root = ET.fromstring(body)
    nodes, edges = {}, []
    for g in root.iter(SVG + "g"):
        classes = g.get("class", "").split()
        title = g.find(SVG + "title")
        if "node" in classes:
            link = g.find(".//" + SVG + "a")
            shapes = [e for e in g.iter() if e.tag in SHAPES]
            nodes[title.text] = {
                "classes": classes,
                "href": link.get(XLINK + "href") if link is not None else None,
                "tooltip": link.get(XLINK + "title") if link is not None else None,
                "text": "".join(t.text or "" for t in g.iter(SVG + "text")),
                "fill": shapes[0].get("fill"),
                "borders": len(shapes),
                "stroke_width": shapes[0].get("stroke-width"),
                "dash": shapes[0].get("stroke-dasharray"),
            }
        elif "edge" in classes:
            arrow = title.text.index("->")
            edges.append((title.text[:arrow], title.text[arrow + 2:]))
    return nodes, edges


class GraphSvgTestCase(GnomonTestCase):
    server_args = ("--kill-grace", "1000", "--failure-retry", "300")

    def svg(self, query="", srv=None):
        status, headers, body = (srv or self.server).request("GET", GRAPH + query, timeout=120)
        self.assertEqual(status, 200, body[:500])
        self.assertEqual(headers.get("content-type"), "image/svg+xml", headers)
        return parse_svg(body)

    def node(self, name, srv=None):
        return self.svg(srv=srv)[0][name]

    def run_job(self, name, srv=None):
        status, _, body = (srv or self.server).request("PUT", V1 + "/job/" + name)
        self.assertEqual(status, 204, body)

    def runs(self, name, srv=None):
        status, body = (srv or self.server).json("GET", "/api/v1/jobs/%s/runs" % name)
        self.assertEqual(status, 200, body)
        return body["runs"]

    def wait_run_status(self, name, status, srv=None):
        return wait_until(lambda: any(r["status"] == status for r in self.runs(name, srv)), 30, interval=0.05,
                          what="a run of %s %s" % (name, status))

    def wait_node(self, name, predicate, what, srv=None):
        return wait_until(lambda: (lambda n: n if predicate(n) else None)(self.node(name, srv)), 30,
                          interval=0.05, what="node %s %s" % (name, what))

    def chain_and_diamond(self):
        """A chain c1 -> etl.load--v2 -> c3, a diamond top -> left, right -> bottom, and a lone job."""
        self.add_job(sched("c1"))
        self.add_job(dep("etl.load--v2", ["c1"]))
        self.add_job(dep("c3", ["etl.load--v2"]))
        self.add_job(sched("top"))
        self.add_job(dep("left", ["top"]))
        self.add_job(dep("right", ["top"]))
        self.add_job(dep("bottom", ["left", "right"]))
        self.add_job(sched("lone"))
        return ({"c1", "etl.load--v2", "c3", "top", "left", "right", "bottom", "lone"},
                {("c1", "etl.load--v2"), ("etl.load--v2", "c3"), ("top", "left"), ("top", "right"),
                 ("left", "bottom"), ("right", "bottom")})


class Drawing(GraphSvgTestCase):

    def test_empty(self):
        nodes, edges = self.svg()
        self.assertEqual((nodes, edges), ({}, []))

    def test_chain_and_diamond(self):
        names, links = self.chain_and_diamond()
        nodes, edges = self.svg()
        self.assertEqual(set(nodes), names)
        self.assertEqual(len(edges), len(links))
        self.assertEqual(set(edges), links)
        for name, n in nodes.items():
            with self.subTest(name=name):
                self.assertEqual(n["text"], name)
                self.assertEqual(n["href"], "/ui/jobs/" + name)
                self.assertEqual(n["tooltip"], "idle")
                self.assertEqual(n["fill"], FILL["fresh"])
                self.assertEqual(n["borders"], 1)
                self.assertNotIn("focus", n["classes"])

    def test_edges_follow_updates_and_deletes(self):
        self.chain_and_diamond()
        self.add_job(dep("bottom", ["left"]))
        status, _ = self.server.json("DELETE", V1 + "/job/lone")
        self.assertEqual(status, 204)
        nodes, edges = self.svg()
        self.assertNotIn("lone", nodes)
        self.assertIn(("left", "bottom"), edges)
        self.assertNotIn(("right", "bottom"), edges)
        self.assertEqual(len(edges), 5)


class Neighbourhood(GraphSvgTestCase):

    def setUp(self):
        super().setUp()
        # r1 -> m <- r2, m -> leaf1, m -> leaf2 -> deep; r1 -> other (m's sibling, not related to m); lone.
        self.add_job(sched("r1"))
        self.add_job(sched("r2"))
        self.add_job(dep("m", ["r1", "r2"]))
        self.add_job(dep("leaf1", ["m"]))
        self.add_job(dep("leaf2", ["m"]))
        self.add_job(dep("deep", ["leaf2"]))
        self.add_job(dep("other", ["r1"]))
        self.add_job(sched("lone"))

    def test_ancestors_and_descendants_transitively(self):
        nodes, edges = self.svg("?job=m")
        self.assertEqual(set(nodes), {"r1", "r2", "m", "leaf1", "leaf2", "deep"})
        self.assertEqual(sorted(edges), sorted([("r1", "m"), ("r2", "m"), ("m", "leaf1"), ("m", "leaf2"),
                                                ("leaf2", "deep")]))
        self.assertEqual([name for name, n in nodes.items() if "focus" in n["classes"]], ["m"])
        self.assertNotEqual(nodes["m"]["stroke_width"], nodes["r1"]["stroke_width"])

    def test_leaf_sees_its_whole_ancestry(self):
        nodes, edges = self.svg("?job=deep")
        self.assertEqual(set(nodes), {"r1", "r2", "m", "leaf2", "deep"})
        self.assertEqual(len(edges), 4)

    def test_root_sees_its_descendants_only(self):
        nodes, _ = self.svg("?job=r2")
        self.assertEqual(set(nodes), {"r2", "m", "leaf1", "leaf2", "deep"})
        nodes, _ = self.svg("?job=lone")
        self.assertEqual(set(nodes), {"lone"})

    def test_unknown_job(self):
        status, body = self.server.json("GET", GRAPH + "?job=nope")
        self.assertError(status, body, 404)
        self.assertEqual(body, {"status": "Not Found", "message": "Job 'nope' not found"})


class States(GraphSvgTestCase):

    def test_success_and_failure_colours(self):
        self.add_job(sched("ok"))
        self.add_job(sched("bad", "exit 1", retries=0))
        self.add_job(sched("never"))
        self.run_job("ok")
        self.wait_run_status("ok", "succeeded")
        self.wait_node("ok", lambda n: n["fill"] == FILL["success"], "filled as a success")
        self.run_job("bad")
        self.wait_run_status("bad", "failed")
        self.wait_node("bad", lambda n: n["fill"] == FILL["failure"], "filled as a failure")
        nodes, _ = self.svg()
        self.assertEqual(nodes["ok"]["fill"], FILL["success"])
        self.assertEqual(nodes["never"]["fill"], FILL["fresh"])
        self.assertIn("success", nodes["ok"]["classes"])
        self.assertIn("failure", nodes["bad"]["classes"])

    def test_running_job_is_drawn_running(self):
        self.add_job(sched("slow", "sleep 5"))
        self.add_job(dep("after", ["slow"]))
        idle = self.node("slow")
        self.run_job("slow")
        self.wait_run_status("slow", "running")
        n = self.wait_node("slow", lambda n: "running" in n["classes"], "drawn running")
        self.assertEqual(n["tooltip"], "1 running")
        self.assertEqual(n["borders"], idle["borders"] + 1)  # double border
        self.assertEqual(n["stroke_width"], "2")             # bold
        self.assertEqual(self.node("after")["borders"], 1)
        status, _, _ = self.server.request("DELETE", V1 + "/task/kill/slow")
        self.assertEqual(status, 204)
        self.wait_node("slow", lambda n: "idle" in n["classes"] and n["borders"] == 1, "idle again")

    def test_queued_job_is_dashed(self):
        srv = self.new_server(("--max-running", "1", "--kill-grace", "1000"))
        self.add_job(sched("blocker", "sleep 5"), srv=srv)
        self.add_job(sched("waiting", "sleep 5"), srv=srv)
        self.run_job("blocker", srv)
        self.wait_run_status("blocker", "running", srv)
        self.run_job("waiting", srv)
        n = self.wait_node("waiting", lambda n: "queued" in n["classes"], "queued", srv)
        self.assertEqual(n["tooltip"], "queued")
        self.assertTrue(n["dash"], n)
        self.assertEqual(n["borders"], 1)
        for name in ("waiting", "blocker"):
            status, _, _ = srv.request("DELETE", V1 + "/task/kill/" + name)
            self.assertEqual(status, 204)

    def test_disabled_job_is_lighter(self):
        self.add_job(sched("off", disabled=True))
        self.add_job(sched("off-ok", disabled=True, lastSuccess="2020-01-02T00:00:00.000Z"))
        nodes, _ = self.svg()
        self.assertEqual(nodes["off"]["fill"], FILL_DISABLED["fresh"])
        self.assertEqual(nodes["off-ok"]["fill"], FILL_DISABLED["success"])
        self.assertEqual(nodes["off"]["tooltip"], "idle (disabled)")
        self.assertIn("disabled", nodes["off"]["classes"])


class Limit(GraphSvgTestCase):

    def test_whole_graph_limit_and_neighbourhoods(self):
        # A fan-out: one root and LIMIT - 1 children, drawn whole; one child more and only ?job= answers.
        self.add_job(sched("root"))
        for i in range(1, LIMIT):
            self.add_job(dep("child%d" % i, ["root"]))
        started = time.monotonic()
        nodes, edges = self.svg()
        sys.stderr.write("%d jobs drawn in %.2f s\n" % (LIMIT, time.monotonic() - started))
        self.assertEqual((len(nodes), len(edges)), (LIMIT, LIMIT - 1))

        self.add_job(dep("child%d" % LIMIT, ["root"]))
        status, body = self.server.json("GET", GRAPH)
        self.assertBadRequest(status, body, prefix="job: the graph has %d jobs; ask for one job's neighbourhood "
                              "with ?job=NAME" % (LIMIT + 1), contains=str(LIMIT))
        nodes, edges = self.svg("?job=child7")
        self.assertEqual((set(nodes), edges), ({"root", "child7"}, [("root", "child7")]))
        status, body = self.server.json("GET", GRAPH + "?job=root")
        self.assertBadRequest(status, body, prefix="job: the neighbourhood of 'root' has %d jobs" % (LIMIT + 1))


if __name__ == "__main__":
    main()
