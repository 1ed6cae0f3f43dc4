/* What the agent keeps in its data directory (agent.h): its id, the highest epoch it has seen and the journal of
 * the tasks it holds. Every write goes through a temporary file that is flushed before it is renamed in place,
 * and the directory is flushed after: a crash leaves the old version or the new one. */
#include "agent/agent.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "history/run_name.h"
#include "runner/agent_wire.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define JOURNAL_DIR "tasks"
#define JOURNAL_SUFFIX ".json"
#define TMP_SUFFIX ".tmp"
#define JOURNAL_ENTRY_MAX ((size_t)64 << 20) /* bytes of one entry: an assignment's bounds (agent_wire.h) */

/* Write data to dir/name through dir/name.tmp: written, renamed (so that a reader finds the old or the new
 * whole), and with sync fsynced before the rename and the directory after it. 0 or -errno.
 *
 * The tasks' entries are not fsynced: they must outlive the agent's process (a kill -9, an upgrade), which the
 * page cache does; a crash of the machine also ends its tasks, and an entry lost with it leaves the task unknown
 * to the restarted agent, which the server then records lost, as it is. Two fsyncs per write cost more than the
 * task's spawn on a disk (the start lateness, bench/agents). The id and the epoch, written rarely, are synced. */
static int write_file(const char *dir, const char *name, const char *data, size_t len, bool sync)
{
	char tmp[PATH_MAX + 8], path[PATH_MAX];
	int fd, dfd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s%s", path, TMP_SUFFIX);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return -errno;
	for (size_t off = 0; off < len && rc == 0;) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno != EINTR)
			rc = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (rc == 0 && sync && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	if (!sync)
		return 0;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	if (fsync(dfd) < 0)
		rc = -errno;
	close(dfd);
	return rc;
}

/* The whole of a small file (at most max bytes), NUL-terminated, to free; NULL with errno set. */
static char *read_small(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rbe");
	char *text;
	size_t n;

	if (f == NULL)
		return NULL;
	text = xmalloc(max + 1);
	n = fread(text, 1, max + 1, f);
	if (ferror(f) || n > max) {
		int e = ferror(f) ? errno : EFBIG;
		fclose(f);
		free(text);
		errno = e;
		return NULL;
	}
	fclose(f);
	text[n] = '\0';
	if (len)
		*len = n;
	return text;
}

static void journal_dir(const char *data_dir, char *out, size_t len)
{
	snprintf(out, len, "%s/" JOURNAL_DIR, data_dir);
}

int agent_journal_write(const char *data_dir, const json_t *task, int64_t pid, int64_t start_ms, char *err,
    size_t errlen)
{
	const char *task_id = json_string_value(json_object_get(task, "taskId"));
	char dir[PATH_MAX], name[RUN_NAME_MAX + sizeof(JOURNAL_SUFFIX)], *text;
	json_t *entry;
	int rc;

	if (task_id == NULL) {
		snprintf(err, errlen, "journal: an assignment without a taskId");
		return -EINVAL;
	}
	journal_dir(data_dir, dir, sizeof(dir));
	run_name(task_id, name);
	strcat(name, JOURNAL_SUFFIX);
	entry = json_pack("{s:i, s:O, s:I, s:I}", "version", AGENT_PROTOCOL_VERSION, "task", task, "pid",
	    (json_int_t)pid, "startMs", (json_int_t)start_ms);
	text = entry ? json_dumps(entry, JSON_COMPACT) : NULL;
	json_decref(entry);
	if (text == NULL)
		abort(); /* out of memory: the assignment came decoded from JSON */
	if ((rc = write_file(dir, name, text, strlen(text), false)) < 0)
		snprintf(err, errlen, "cannot write the journal entry %s/%s of task %s: %s", dir, name, task_id,
		    strerror(-rc));
	free(text);
	return rc;
}

int agent_journal_remove(const char *data_dir, const char *task_id)
{
	char path[PATH_MAX], name[RUN_NAME_MAX];

	run_name(task_id, name);
	snprintf(path, sizeof(path), "%s/" JOURNAL_DIR "/%s" JOURNAL_SUFFIX, data_dir, name);
	return unlink(path) < 0 ? -errno : 0;
}

/* Decode one entry (text is its file's); 0, or -EINVAL with err. */
static int entry_parse(const char *text, size_t len, struct agent_journal_entry *e, char *err, size_t errlen)
{
	struct agent_assignment a;
	json_error_t jerr;
	json_t *j = json_loadb(text, len, 0, &jerr), *task;
	json_int_t pid = 0, start = 0;

	if (j == NULL) {
		snprintf(err, errlen, "not JSON: %s", jerr.text);
		return -EINVAL;
	}
	if (json_unpack_ex(j, &jerr, 0, "{s:o, s?I, s?I}", "task", &task, "pid", &pid, "startMs", &start) < 0) {
		snprintf(err, errlen, "%s", jerr.text);
		json_decref(j);
		return -EINVAL;
	}
	if (agent_wire_spec_from_json(task, "task.", &a, err, errlen) < 0) {
		agent_assignment_clear(&a);
		json_decref(j);
		return -EINVAL;
	}
	*e = (struct agent_journal_entry){xstrdup(a.spec.task_id), xstrdup(a.spec.job), json_incref(task), pid, start};
	agent_assignment_clear(&a);
	json_decref(j);
	return 0;
}

int agent_journal_load(const char *data_dir, struct agent_journal_entry **out, size_t *n, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	struct dirent *de;
	size_t cap = 0;
	DIR *d;

	*out = NULL;
	*n = 0;
	journal_dir(data_dir, dir, sizeof(dir));
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int rc = -errno;
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return rc;
	}
	if ((d = opendir(dir)) == NULL) {
		int rc = -errno;
		snprintf(err, errlen, "cannot read %s: %s", dir, strerror(errno));
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		size_t nlen = strlen(de->d_name), len = 0;
		char path[PATH_MAX + 256], msg[512], *text;
		struct agent_journal_entry e;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (nlen > strlen(TMP_SUFFIX) && strcmp(de->d_name + nlen - strlen(TMP_SUFFIX), TMP_SUFFIX) == 0) {
			unlink(path); /* a write that a crash interrupted: its entry was not there yet */
			continue;
		}
		if (de->d_name[0] == '.' || nlen <= strlen(JOURNAL_SUFFIX) ||
		    strcmp(de->d_name + nlen - strlen(JOURNAL_SUFFIX), JOURNAL_SUFFIX) != 0)
			continue;
		if ((text = read_small(path, JOURNAL_ENTRY_MAX, &len)) == NULL)
			snprintf(msg, sizeof(msg), "%s", strerror(errno));
		if (text == NULL || entry_parse(text, len, &e, msg, sizeof(msg)) < 0) {
			char bad[sizeof(path) + 8];
			snprintf(bad, sizeof(bad), "%s.bad", path);
			log_warnx("journal: cannot read %s (%s): moved aside to %s", path, msg, bad);
			if (rename(path, bad) < 0)
				log_warn("journal: cannot rename %s", path);
			free(text);
			continue;
		}
		free(text);
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[(*n)++] = e;
	}
	closedir(d);
	return 0;
}

void agent_journal_entries_free(struct agent_journal_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].task_id);
		free(e[i].job);
		json_decref(e[i].task);
	}
	free(e);
}

int agent_id_load(const char *data_dir, char out[AGENT_ID_LEN + 1], char *err, size_t errlen)
{
	static const char hex[] = "0123456789abcdef";
	char path[PATH_MAX], *text;
	unsigned char raw[AGENT_ID_LEN / 2];
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "%s/agent-id", data_dir);
	if ((text = read_small(path, 4096, &len)) != NULL) {
		while (len > 0 && isspace((unsigned char)text[len - 1]))
			text[--len] = '\0';
		rc = len == AGENT_ID_LEN && strspn(text, hex) == AGENT_ID_LEN ? 0 : -EINVAL;
		if (rc == 0)
			memcpy(out, text, AGENT_ID_LEN + 1);
		else
			snprintf(err, errlen, "%s holds no agent id (%d lowercase hex digits); remove it to make a new one",
			    path, AGENT_ID_LEN);
		free(text);
		return rc;
	}
	if (errno != ENOENT) {
		rc = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return rc;
	}
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		rc = -errno;
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return rc;
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[AGENT_ID_LEN] = '\n';
	rc = write_file(data_dir, "agent-id", out, AGENT_ID_LEN + 1, true);
	out[AGENT_ID_LEN] = '\0';
	if (rc < 0)
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
	return rc;
}

int agent_epoch_load(const char *data_dir, uint64_t *out, char *err, size_t errlen)
{
	char path[PATH_MAX], *text, *end;
	int rc;

	*out = 0;
	snprintf(path, sizeof(path), "%s/epoch", data_dir);
	if ((text = read_small(path, 64, NULL)) == NULL) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return rc;
	}
	errno = 0;
	*out = strtoull(text, &end, 10);
	rc = errno || end == text || (*end && *end != '\n') || text[0] == '-' ? -EINVAL : 0;
	if (rc < 0)
		snprintf(err, errlen, "%s holds no epoch (a decimal number)", path);
	free(text);
	return rc;
}

int agent_epoch_store(const char *data_dir, uint64_t epoch, char *err, size_t errlen)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%" PRIu64 "\n", epoch), rc;

	if ((rc = write_file(data_dir, "epoch", text, (size_t)n, true)) < 0)
		snprintf(err, errlen, "cannot write %s/epoch: %s", data_dir, strerror(-rc));
	return rc;
}

int agent_servers_load(const char *data_dir, char **out, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s/servers", data_dir);
	if ((*out = read_small(path, 64 << 10, NULL)) == NULL) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return rc;
	}
	return 0;
}

int agent_servers_store(const char *data_dir, const char *text, char *err, size_t errlen)
{
	int rc;

	if ((rc = write_file(data_dir, "servers", text, strlen(text), true)) < 0)
		snprintf(err, errlen, "cannot write %s/servers: %s", data_dir, strerror(-rc));
	return rc;
}
