/* Private to the state's contract (contract_state*.c): helpers that write in one transaction and read the state
 * as text, over the fixture that the contracts share (contract_fixture.h). */
#ifndef GNOMON_TESTS_CONTRACT_STATE_H
#define GNOMON_TESTS_CONTRACT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contract_fixture.h"

/* Put job name with definition def in a transaction of its own, which must commit. */
void cs_put_job(struct fixture *f, const char *name, const char *def);
/* Claim r in a transaction of its own, which must commit. */
void cs_claim(struct fixture *f, struct run_record *r);
/* End r with status at end_ms (both set in r) in a transaction of its own, which must commit. */
void cs_end(struct fixture *f, struct run_record *r, enum run_status status, int64_t end_ms);

/* A progress and an outcome as text: "7 1000@2 R/...", "-" for no anchor or no schedule; "3/1/0 100 never
 * disabled". */
const char *cs_progress_text(const struct state_progress *p, char *buf, size_t size);
const char *cs_outcome_text(const struct state_outcome *o, char *buf, size_t size);

/* The reads as text, into out (returned): */
/* every job in order, "name[ p=<progress>][ o=<outcome>]|" (definitions left out: cs_definition has them) */
const char *cs_jobs(struct fixture *f, struct text *out);
/* every progress, "name p=<progress>|", in name order */
const char *cs_progress(struct fixture *f, struct text *out);
/* the open runs, oldest first, "task_id=status," (list: job's, newest first) */
const char *cs_open_runs(struct fixture *f, struct text *out);
const char *cs_list_open_runs(struct fixture *f, const char *job, struct text *out);
/* every round entry, "child<parent=task_id|", in that order */
const char *cs_rounds(struct fixture *f, struct text *out);
/* all of the above, and what the history says of the task ids given (NULL-terminated): "id=status|" or "id=-|" */
const char *cs_snapshot(struct fixture *f, const char *const *ended, struct text *out);
/* The definition of job name as stored (its length checked against strlen), or NULL when there is none; valid
 * until the next call. */
const char *cs_definition(struct fixture *f, const char *name);

/* contract_state_runs.c */
void test_state_claim_taken(void **state);
void test_state_claim_skipped(void **state);
void test_state_statuses_refused(void **state);
void test_state_put_run(void **state);
void test_state_end_run(void **state);
void test_state_open_run_order(void **state);
void test_state_rounds(void **state);
/* contract_state_faults.c */
void test_state_commit_failure(void **state);
void test_state_abort(void **state);
void test_state_completes_later(void **state);
void test_state_commit_now(void **state);
/* contract_state_tokens.c */
void test_state_tokens(void **state);
void test_state_audit(void **state);
/* contract_state_readers.c */
void test_state_concurrent_readers(void **state);

#endif
