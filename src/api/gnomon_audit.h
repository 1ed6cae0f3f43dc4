/* The audit trail (README, "Audit"): GET /api/v1/audit?job=NAME&since=ISO8601&limit=N&before=CURSOR answers
 * {"entries": [{time, actor, actorKind, address, action, job, before, after}], "next": cursor or null}, newest
 * first; 400 naming the parameter for a bad since, limit or before. The role admin: actors and addresses are not
 * for every viewer. */
#ifndef GNOMON_API_GNOMON_AUDIT_H
#define GNOMON_API_GNOMON_AUDIT_H

#include <stdint.h>

#include "api/api.h"

void gnomon_list_audit(struct api_env *env, struct http_request *req, const char *const *args);

/* Pure: parse an ISO 8601 time, "YYYY-MM-DD" (UTC midnight) or "YYYY-MM-DDTHH:MM[:SS[.fff]]" followed by "Z" or
 * an offset "+HH:MM", "+HHMM", "+HH" (none: UTC), into *ms (UTC epoch ms): 0 or -EINVAL. */
int gnomon_audit_parse_time(const char *s, int64_t *ms) __attribute__((warn_unused_result));

#endif
