/* GET /api/v1/runs/{taskId}/log?stream=both: a run's stdout and stderr as one text, each line tagged "1 " (stdout)
 * or "2 " (stderr), in the order the lines came when the run's order record says it (history/run_merge.h), with
 * the header Gnomon-Log-Order: arrival; else (a run of an older agent or executor) stdout's lines then stderr's,
 * with Gnomon-Log-Order: streams. Not streamed: a follower asks again (the web UI does, as the counts grow), with
 * follow=1 while the run goes on, which in a cluster takes the request to the leader (api/proxy.h), whose files
 * hold a running run's output; here follow changes nothing. */
#ifndef GNOMON_API_GNOMON_LOG_BOTH_H
#define GNOMON_API_GNOMON_LOG_BOTH_H

#include <stdbool.h>

#include "api/api.h"

#define LOG_BOTH_MAX ((size_t)64 << 20) /* bytes of a stream merged; a longer one is read alone */

/* Answer req with the run's merged output: from the durable copy when the run ended and there is one, else from
 * this server's own output store. */
void gnomon_log_both(struct api_env *env, struct http_request *req, const char *task_id, bool ended);

#endif
