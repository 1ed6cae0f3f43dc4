/* `gnomon logs TASKID [--stream stdout|stderr] [-f]`: the captured output of a run, written to stdout byte for
 * byte as it arrives. The body is streamed rather than read whole (cli_http buffers), so a followed run's output
 * shows while it is produced. */
#include "cli/cli.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_cmd.h"
#include "cli/cli_http.h"
#include "cli/cli_opt.h"
#include "cli/cli_url.h"
#include "util/buf.h"
#include "util/xmalloc.h"

#define ERR_MAX 1024
#define ERROR_BODY_MAX ((size_t)64 * 1024) /* kept of a non-2xx answer, for its message */
#define CONNECT_TIMEOUT_S 10L
#define STALL_TIMEOUT_S 60L /* without -f: give up when nothing arrives for this long */

enum { OPT_STREAM, OPT_FOLLOW, OPT_COUNT };

static const struct cli_opt logs_opts[OPT_COUNT] = {
    [OPT_STREAM] = {"--stream", NULL, "STREAM", "stdout (the default) or stderr"},
    [OPT_FOLLOW] = {"--follow", "-f", NULL, "keep printing while the run goes on"},
};

static int logs_exec(const struct cli_ctx *ctx);

static const struct cli_cmd_entry logs_entry = {
    "logs", "TASKID", "Print the captured output of a run", 1, 1, logs_exec};

static const char *opt_stream = "stdout";
static bool opt_follow;

int cli_logs_main(int argc, char **argv)
{
	const char *values[OPT_COUNT];
	char err[ERR_MAX];

	argc = cli_opt_extract(logs_opts, OPT_COUNT, argc, argv, values, err, sizeof(err));
	if (argc < 0)
		return cli_opt_usage_error(logs_entry.name, &logs_entry, err);
	if (values[OPT_STREAM]) {
		if (strcmp(values[OPT_STREAM], "stdout") != 0 && strcmp(values[OPT_STREAM], "stderr") != 0) {
			snprintf(err, sizeof(err), "option '--stream' expects stdout or stderr, got '%s'",
			    values[OPT_STREAM]);
			return cli_opt_usage_error(logs_entry.name, &logs_entry, err);
		}
		opt_stream = values[OPT_STREAM];
	}
	opt_follow = values[OPT_FOLLOW] != NULL;
	return cli_cmd_single_main(&logs_entry, logs_opts, OPT_COUNT, argc, argv);
}

/* Where the body goes: stdout for a 2xx answer, else a capped buffer for the error message. */
struct sink {
	CURL *curl;
	long status; /* 0 until the first body bytes */
	struct buf error;
	bool write_failed;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb, room;

	if (s->status == 0 && curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status) != CURLE_OK)
		s->status = 500;
	if (s->status >= 200 && s->status < 300) {
		if (fwrite(data, 1, n, stdout) != n || (opt_follow && fflush(stdout) != 0)) {
			s->write_failed = true;
			return 0;
		}
		return n;
	}
	room = ERROR_BODY_MAX - s->error.len;
	if (buf_append(&s->error, data, n < room ? n : room) < 0)
		return 0;
	return n;
}

#define SETOPT(c, cc, opt, val)                                                                                    \
	do {                                                                                                       \
		if ((cc) == CURLE_OK)                                                                              \
			(cc) = curl_easy_setopt((c), (opt), (val));                                                \
	} while (0)

static CURLcode setup(CURL *c, const char *url, struct sink *sink, char *errbuf)
{
	CURLcode cc = CURLE_OK;

	SETOPT(c, cc, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	SETOPT(c, cc, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SETOPT(c, cc, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SETOPT(c, cc, CURLOPT_NOSIGNAL, 1L);
	SETOPT(c, cc, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	if (!opt_follow) {
		SETOPT(c, cc, CURLOPT_LOW_SPEED_LIMIT, 1L);
		SETOPT(c, cc, CURLOPT_LOW_SPEED_TIME, STALL_TIMEOUT_S);
	}
	SETOPT(c, cc, CURLOPT_USERAGENT, "gnomon-cli/" GNOMON_VERSION);
	SETOPT(c, cc, CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(c, cc, CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(c, cc, CURLOPT_WRITEDATA, sink);
	return cc;
}

/* One line for a transfer that failed (cli_http's wording: "cannot reach URL: reason" when no connection). */
static void transfer_error(const struct cli_ctx *ctx, CURL *c, CURLcode cc, const char *url, const char *errbuf,
    char *err, size_t errlen)
{
	const char *reason = errbuf[0] ? errbuf : curl_easy_strerror(cc);
	long os_errno = 0;

	if (cc == CURLE_COULDNT_CONNECT && curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK &&
	    os_errno != 0)
		reason = strerror((int)os_errno);
	if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_COULDNT_RESOLVE_PROXY ||
	    cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL)
		snprintf(err, errlen, "cannot reach %s: %s", cli_http_base(ctx->http), reason);
	else
		snprintf(err, errlen, "GET %s: %s", url, reason);
}

/* Stream GET url to stdout. Returns an exit code; errors are reported. */
static int stream_log(const struct cli_ctx *ctx, const char *url)
{
	char errbuf[CURL_ERROR_SIZE] = "", err[ERR_MAX];
	struct sink sink = {.status = 0, .write_failed = false};
	CURLcode cc;
	int rc = CLI_EXIT_FAIL;

	buf_init(&sink.error, 0);
	if (!(sink.curl = curl_easy_init())) {
		cli_errorx("cannot initialise libcurl");
		goto out;
	}
	cc = setup(sink.curl, url, &sink, errbuf);
	if (cc == CURLE_OK)
		cc = curl_easy_perform(sink.curl);
	if (sink.write_failed) {
		cli_errorx("cannot write output: %s", strerror(errno));
		goto out;
	}
	if (cc != CURLE_OK) {
		transfer_error(ctx, sink.curl, cc, url, errbuf, err, sizeof(err));
		cli_errorx("%s", err);
		goto out;
	}
	if (curl_easy_getinfo(sink.curl, CURLINFO_RESPONSE_CODE, &sink.status) != CURLE_OK)
		sink.status = 0;
	if (sink.status < 200 || sink.status >= 300) {
		cli_http_error_text(sink.status, sink.error.data, sink.error.len, err, sizeof(err));
		cli_errorx("%s", err);
		goto out;
	}
	rc = CLI_EXIT_OK;
out:
	if (sink.curl)
		curl_easy_cleanup(sink.curl);
	buf_free(&sink.error);
	return rc;
}

static int logs_exec(const struct cli_ctx *ctx)
{
	char *escaped, *path, *url;
	int rc;

	if (!*ctx->argv[0]) {
		cli_errorx("the task id must not be empty");
		return CLI_EXIT_FAIL;
	}
	escaped = cli_url_escape(ctx->argv[0]);
	path = xasprintf("/api/v1/runs/%s/log?stream=%s%s", escaped, opt_stream, opt_follow ? "&follow=1" : "");
	url = cli_url_join(cli_http_base(ctx->http), path);
	rc = stream_log(ctx, url);
	free(url);
	free(path);
	free(escaped);
	return rc;
}
