/* The audit trail's route (gnomon_audit.h). */
#include "api/gnomon_audit.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_json.h"
#include "api/http.h"
#include "state/state.h"

#define LIST_DEFAULT 50
#define LIST_MAX 1000

/* n digits at *s into *out, moving s on: 0 or -EINVAL. */
static int digits(const char **s, int n, int *out)
{
	*out = 0;
	for (int i = 0; i < n; i++, (*s)++) {
		if (!isdigit((unsigned char)**s))
			return -EINVAL;
		*out = *out * 10 + (**s - '0');
	}
	return 0;
}

/* The offset at s ("Z", "+HH:MM", "+HHMM", "+HH", "": UTC) into *sec: 0 or -EINVAL. */
static int offset(const char *s, long *sec)
{
	int sign, h, m = 0;

	*sec = 0;
	if (*s == '\0' || strcmp(s, "Z") == 0)
		return 0;
	if (*s != '+' && *s != '-')
		return -EINVAL;
	sign = *s++ == '-' ? -1 : 1;
	if (digits(&s, 2, &h) < 0)
		return -EINVAL;
	if (*s == ':')
		s++;
	if (*s && digits(&s, 2, &m) < 0)
		return -EINVAL;
	if (*s || h > 23 || m > 59)
		return -EINVAL;
	*sec = sign * (h * 3600L + m * 60L);
	return 0;
}

int gnomon_audit_parse_time(const char *s, int64_t *ms)
{
	struct tm tm = {0};
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
	long off;
	time_t t;

	if (digits(&s, 4, &y) < 0 || *s++ != '-' || digits(&s, 2, &mo) < 0 || *s++ != '-' || digits(&s, 2, &d) < 0)
		return -EINVAL;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (digits(&s, 2, &h) < 0 || *s++ != ':' || digits(&s, 2, &mi) < 0)
			return -EINVAL;
		if (*s == ':') {
			s++;
			if (digits(&s, 2, &sec) < 0)
				return -EINVAL;
			if (*s == '.' || *s == ',') {
				int scale = 100;
				s++;
				if (!isdigit((unsigned char)*s))
					return -EINVAL;
				for (; isdigit((unsigned char)*s); s++, scale /= 10)
					frac += (*s - '0') * scale;
			}
		}
	}
	if (offset(s, &off) < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	tm = (struct tm){.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi,
		.tm_sec = sec};
	t = timegm(&tm);
	if (tm.tm_mday != d) /* February 30th and the like */
		return -EINVAL;
	*ms = ((int64_t)t - off) * 1000 + frac;
	return 0;
}

/* One page of entries: limit of them, and whether there is one more. */
struct page {
	json_t *entries;
	int limit, n;
	int64_t last_id;
	bool more;
};

static json_t *json_or_null(const char *text)
{
	json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
	return v ? v : json_null();
}

static int page_add(void *ctx, const struct state_audit *a)
{
	struct page *p = ctx;

	if (p->n == p->limit) {
		p->more = true;
		return 1;
	}
	json_array_append_new(p->entries, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "time",
	    api_time_or_null(a->time_ms), "actor", api_text(a->actor), "actorKind", api_text(a->actor_kind), "address",
	    api_text(a->address), "action", api_text(a->action), "job", a->job ? api_text(a->job) : json_null(),
	    "before", json_or_null(a->before), "after", json_or_null(a->after)));
	p->n++;
	p->last_id = a->id;
	return 0;
}

void gnomon_list_audit(struct api_env *env, struct http_request *req, const char *const *args)
{
	const char *job = http_request_query(req, "job"), *since = http_request_query(req, "since"),
		   *before = http_request_query(req, "before");
	struct state_audit_query q = {.job = job && *job ? job : NULL, .since_ms = INT64_MIN};
	struct page page = {0};
	char quoted[API_QUOTE_MAX], next[24], *end;
	long long limit;
	int rc;

	(void)args;
	if (since && *since && gnomon_audit_parse_time(since, &q.since_ms) < 0) {
		http_respond_error(req, 400, "since: expected an ISO 8601 time (2026-12-07T10:00:00Z), got '%s'",
		    api_quoted(since, quoted, sizeof(quoted)));
		return;
	}
	if (before && *before) {
		errno = 0;
		q.before_id = strtoll(before, &end, 10);
		if (errno || *end || q.before_id <= 0) {
			http_respond_error(req, 400, "before: expected the `next` of an earlier page, got '%s'",
			    api_quoted(before, quoted, sizeof(quoted)));
			return;
		}
	}
	if (api_query_int(req, "limit", LIST_DEFAULT, 1, LIST_MAX, "an integer from 1 to 1000", &limit) < 0)
		return;
	page.limit = (int)limit;
	q.limit = page.limit + 1;
	page.entries = json_array();
	if ((rc = state_list_audit(env->state, &q, page_add, &page)) < 0) {
		json_decref(page.entries);
		http_respond_error(req, api_store_status(rc), "store: could not read the audit trail: %s",
		    state_errmsg(env->state));
		return;
	}
	snprintf(next, sizeof(next), "%lld", (long long)page.last_id);
	http_respond_json(req, 200, json_pack("{s:o, s:o}", "entries", page.entries, "next",
	    page.more ? json_string(next) : json_null()));
}
