/* One cluster client (src/cluster) on a loop of its own, for tests/integration/test_cluster.py, which runs several
 * against a real ZooKeeper ensemble: it prints every event as a JSON line on stdout, answers a line "health" or
 * "instances" on stdin with one, and gives its candidacy up on a line "resign". SIGTERM (or stdin's end) closes the session and
 * exits 0.
 * Usage: gnomon_cluster_probe HOSTS PATH TIMEOUT_MS SELF [USER:PASSWORD] */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <uv.h>

#include "cluster/cluster.h"
#include "util/clock.h"
#include "util/log.h"

struct probe {
	uv_loop_t loop;
	uv_signal_t sigterm;
	uv_pipe_t in;
	struct cluster *cluster;
	char line[256];
	size_t used;
};

static const char *const names[] = {"elected", "suspended", "resumed", "demoted", "leader"};

static void on_event(void *ctx, enum cluster_event ev, uint64_t epoch)
{
	struct probe *p = ctx;

	printf("{\"event\":\"%s\",\"epoch\":%" PRIu64 ",\"leader\":\"%s\",\"leading\":%s,\"t\":%" PRId64 "}\n",
	    names[ev], epoch, cluster_leader(p->cluster), cluster_leading(p->cluster) ? "true" : "false",
	    clock_now_ms());
	fflush(stdout);
}

static void print_health(struct probe *p)
{
	struct cluster_health h;

	cluster_health(p->cluster, &h);
	printf("{\"event\":\"health\",\"state\":\"%s\",\"connected\":%s,\"session\":%" PRId64 ",\"sessions\":%d,"
	       "\"timeout\":%d,\"leading\":%s,\"suspended\":%s,\"epoch\":%" PRIu64 ",\"leader\":\"%s\",\"hosts\":\"%s\"}\n",
	    h.state, h.connected ? "true" : "false", h.session_id, h.sessions, h.timeout_ms, h.leading ? "true" : "false",
	    h.suspended ? "true" : "false", h.epoch, cluster_leader(p->cluster), h.hosts);
	fflush(stdout);
}

/* {"event":"instances","current":bool,"readMs":N,"epoch":N,"list":[{"node","address","self"}...]} */
static void print_instances(struct probe *p)
{
	struct cluster_instances in;
	json_t *list = json_array(), *line;
	char *text;

	cluster_instances(p->cluster, &in);
	for (size_t i = 0; i < in.n; i++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "node", in.list[i].node, "address",
		    in.list[i].address, "self", in.list[i].self));
	line = json_pack("{s:s, s:b, s:I, s:I, s:o}", "event", "instances", "current", in.current, "readMs",
	    (json_int_t)in.read_ms, "epoch", (json_int_t)in.epoch, "list", list);
	text = json_dumps(line, JSON_COMPACT);
	printf("%s\n", text);
	fflush(stdout);
	free(text);
	json_decref(line);
}

static void stop(struct probe *p)
{
	if (p->cluster == NULL)
		return;
	cluster_free(p->cluster);
	p->cluster = NULL;
	uv_close((uv_handle_t *)&p->sigterm, NULL);
	uv_close((uv_handle_t *)&p->in, NULL);
}

static void on_sigterm(uv_signal_t *h, int signum)
{
	(void)signum;
	stop(h->data);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct probe *p = h->data;

	(void)suggested;
	if (p->used >= sizeof(p->line) - 1)
		p->used = 0;
	*buf = uv_buf_init(p->line + p->used, (unsigned)(sizeof(p->line) - 1 - p->used));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct probe *p = s->data;
	char *nl;

	(void)buf;
	if (n < 0) {
		stop(p);
		return;
	}
	p->used += (size_t)n;
	p->line[p->used] = '\0';
	while ((nl = strchr(p->line, '\n')) != NULL) {
		*nl = '\0';
		if (strcmp(p->line, "health") == 0 && p->cluster)
			print_health(p);
		else if (strcmp(p->line, "instances") == 0 && p->cluster)
			print_instances(p);
		else if (strcmp(p->line, "resign") == 0 && p->cluster)
			cluster_resign(p->cluster);
		memmove(p->line, nl + 1, strlen(nl + 1) + 1);
		p->used = strlen(p->line);
	}
}

int main(int argc, char **argv)
{
	struct probe p = {0};
	char err[256];

	if (argc < 5) {
		fprintf(stderr, "usage: %s HOSTS PATH TIMEOUT_MS SELF [USER:PASSWORD]\n", argv[0]);
		return 2;
	}
	log_init(LOG_LEVEL_DEBUG, false);
	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&p.loop);
	if (cluster_new(&p.loop, &(struct cluster_config){.hosts = argv[1], .path = argv[2], .timeout_ms = atoi(argv[3]),
		.self = argv[4], .auth = argc > 5 ? argv[5] : NULL, .on_event = on_event, .ctx = &p},
		&p.cluster, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	uv_signal_init(&p.loop, &p.sigterm);
	p.sigterm.data = &p;
	uv_signal_start(&p.sigterm, on_sigterm, SIGTERM);
	uv_pipe_init(&p.loop, &p.in, 0);
	p.in.data = &p;
	uv_pipe_open(&p.in, 0);
	uv_read_start((uv_stream_t *)&p.in, on_alloc, on_read);
	uv_run(&p.loop, UV_RUN_DEFAULT);
	uv_loop_close(&p.loop);
	return 0;
}
