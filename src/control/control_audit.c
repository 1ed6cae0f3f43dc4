/* The audit trail's entries of the commands (control.h's control_audit). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control/control_internal.h"
#include "state/state.h"
#include "util/clock.h"
#include "util/log.h"

int control_audit(const struct control *c, struct state_txn *t, const struct control_who *who, const char *action,
    const char *job, const char *before, const char *after)
{
	struct state_audit a = {.time_ms = clock_now(c->cfg.clock), .actor = who->actor ? who->actor : "anonymous",
		.actor_kind = who->kind ? who->kind : "anonymous", .address = who->address ? who->address : "",
		.action = action, .job = job, .before = before, .after = after};
	int rc = state_put_audit(t, &a);

	return rc == -EOPNOTSUPP ? 0 : rc; /* a backend without an audit trail (the simulator's): nothing to keep */
}

static void alone_done(void *ctx, int status)
{
	(void)ctx;
	if (status < 0)
		log_warnx_kv(LOG_FIELDS(.event = "store.error"), "an audit entry could not be saved (%s)", strerror(-status));
}

int control_audit_alone(struct control *c, const struct control_who *who, const char *action, const char *job,
    const char *before, const char *after)
{
	struct state_txn *t;
	int rc;

	if (c->cfg.engine == NULL)
		return -EAGAIN;
	/* as the engine's quiet writes (a kill request): beside its commit in flight, never waiting for it */
	if ((rc = state_begin(c->cfg.state, &t)) < 0)
		return rc;
	if ((rc = control_audit(c, t, who, action, job, before, after)) < 0) {
		state_abort(t);
		return rc;
	}
	state_commit(t, alone_done, NULL);
	return 0;
}
