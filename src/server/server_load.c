#include "server/server_load.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "job/job.h"
#include "job/job_json.h"
#include "scheduler/engine.h"
#include "scheduler/registry.h"
#include "state/state.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define BATCH 8192    /* rows read, then parsed together: bounds the memory of a load */
#define THREADS_MAX 8

struct row {
	char *name, *json;
	size_t len;
	char *schedule;               /* the progress schedule (NULL: the definition's) */
	bool has_outcome;
	struct state_outcome outcome; /* the job's counters and disabled flag, over the definition's */
	struct job *job; /* parsed, or NULL with err */
	char *err;
};

struct batch {
	struct row rows[BATCH];
	size_t n;
	const struct job_defaults *defaults;
	int64_t now_ms;
};

/* One worker's share of a batch: rows first, first + stride, ... */
struct share {
	struct batch *b;
	size_t first, stride;
};

static void parse_share(void *arg)
{
	struct share *sh = arg;
	char err[512];

	for (size_t i = sh->first; i < sh->b->n; i += sh->stride) {
		struct row *r = &sh->b->rows[i];
		r->job = job_from_json(r->json, r->len, sh->b->defaults, sh->b->now_ms, err, sizeof(err));
		if (r->job == NULL)
			r->err = xstrdup(err);
	}
}

/* Parse the batch on nthreads threads (this one included). */
static void parse_batch(struct batch *b, size_t nthreads)
{
	struct share shares[THREADS_MAX];
	uv_thread_t threads[THREADS_MAX];
	size_t started = 0;

	for (size_t t = 0; t < nthreads; t++)
		shares[t] = (struct share){b, t, nthreads};
	for (size_t t = 1; t < nthreads; t++, started++)
		if (uv_thread_create(&threads[t - 1], parse_share, &shares[t]) != 0)
			break;
	/* This thread takes its own share, and those of the threads that could not start. */
	parse_share(&shares[0]);
	for (size_t t = started + 1; t < nthreads; t++)
		parse_share(&shares[t]);
	for (size_t t = 0; t < started; t++)
		uv_thread_join(&threads[t]);
}

struct load {
	struct batch *b;
	struct registry *reg;
	struct load_result *out;
	size_t nthreads;
};

/* What the job's state holds over its definition: the schedule as its firings moved it on, its outcome. */
static void apply_state(struct row *r)
{
	struct job *j = r->job;

	if (r->schedule && !j->dependent)
		job_set_string(&j->schedule, r->schedule);
	if (r->has_outcome)
		engine_job_set_outcome(j, &r->outcome);
}

/* Parse what the batch holds and put the jobs into the registry in their order. */
static void flush(struct load *l)
{
	struct batch *b = l->b;

	parse_batch(b, b->n < 64 ? 1 : l->nthreads);
	for (size_t i = 0; i < b->n; i++) {
		struct row *r = &b->rows[i];
		if (r->job) {
			apply_state(r);
			registry_put(l->reg, r->job);
			l->out->loaded++;
		} else {
			log_warnx("store: job '%s' cannot be read and is skipped: %s", r->name, r->err);
			l->out->failed++;
		}
		free(r->name);
		free(r->json);
		free(r->err);
		free(r->schedule);
	}
	memset(b->rows, 0, b->n * sizeof(b->rows[0]));
	b->n = 0;
}

static int take_row(void *arg, const struct state_job *job)
{
	struct load *l = arg;
	struct row *r = &l->b->rows[l->b->n++];

	r->name = xstrdup(job->name);
	r->json = xmalloc(job->len + 1);
	memcpy(r->json, job->definition, job->len);
	r->json[job->len] = '\0';
	r->len = job->len;
	r->schedule = job->has_progress && job->progress.schedule ? xstrdup(job->progress.schedule) : NULL;
	r->has_outcome = job->has_outcome;
	r->outcome = job->outcome;
	if (l->b->n == BATCH)
		flush(l);
	return 0;
}

int server_load_one(const struct state_job *job, struct registry *reg, const struct job_defaults *defaults,
    int64_t now_ms)
{
	char err[512];
	struct row r = {.has_outcome = job->has_outcome, .outcome = job->outcome};

	r.job = job_from_json(job->definition, job->len, defaults, now_ms, err, sizeof(err));
	if (r.job == NULL) {
		log_warnx("store: job '%s' cannot be read and is skipped: %s", job->name, err);
		return -EIO;
	}
	r.schedule = job->has_progress && job->progress.schedule ? xstrdup(job->progress.schedule) : NULL;
	apply_state(&r);
	registry_put(reg, r.job);
	free(r.schedule);
	return 0;
}

int server_load_jobs(struct state *state, struct registry *reg, const struct job_defaults *defaults, int64_t now_ms,
    struct load_result *out)
{
	struct load l = {.reg = reg, .out = out};
	unsigned cores = uv_available_parallelism();
	int rc;

	memset(out, 0, sizeof(*out));
	l.nthreads = cores < 1 ? 1 : cores > THREADS_MAX ? THREADS_MAX : cores;
	l.b = xcalloc(1, sizeof(*l.b));
	l.b->defaults = defaults;
	l.b->now_ms = now_ms;
	rc = state_load_jobs(state, take_row, &l);
	flush(&l); /* the last rows, or those read before an error */
	free(l.b);
	return rc != 0 ? -EIO : 0;
}
