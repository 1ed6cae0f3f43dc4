#include "history/run_output_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "util/xmalloc.h"

struct files {
	struct run_output base;
	char *data_dir;
};

struct files_reader {
	struct run_output_reader base;
	int fd;     /* -1 until the file exists */
	char *path;
};

void run_output_files_path(const char *data_dir, const struct run_output_key *key, enum run_stream s, char *out,
    size_t len)
{
	char name[RUN_NAME_MAX];

	run_name(key->task_id, name);
	snprintf(out, len, "%s/logs/%s.%s", data_dir, name, run_stream_name(s));
}

static int files_open(struct run_output *o, const struct run_output_key *key, enum run_stream s,
    struct run_output_reader **out)
{
	struct files *f = (struct files *)o;
	struct files_reader *r;
	char path[PATH_MAX];
	int fd;

	run_output_files_path(f->data_dir, key, s, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0 && errno != ENOENT)
		return -errno;
	r = xcalloc(1, sizeof(*r));
	r->base.o = o;
	r->fd = fd;
	r->path = xstrdup(path);
	*out = &r->base;
	return 0;
}

static ssize_t files_read(struct run_output_reader *base, char *buf, size_t len)
{
	struct files_reader *r = (struct files_reader *)base;
	ssize_t n;

	/* A stream's file is created at its first byte: until then there is nothing to read. */
	if (r->fd < 0 && (r->fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return errno == ENOENT ? 0 : -errno;
	do
		n = read(r->fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static void files_close(struct run_output_reader *base)
{
	struct files_reader *r = (struct files_reader *)base;

	if (r->fd >= 0)
		close(r->fd);
	free(r->path);
	free(r);
}

static int files_tail(struct run_output *o, const struct run_output_key *key, enum run_stream s, char *buf,
    size_t max, size_t *len, int64_t *size)
{
	struct files *f = (struct files *)o;
	char path[PATH_MAX];
	struct stat st;
	ssize_t n;
	off_t off;
	int fd, rc = 0;

	*len = 0;
	*size = 0;
	run_output_files_path(f->data_dir, key, s, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	off = st.st_size > (off_t)max ? st.st_size - (off_t)max : 0;
	if ((n = pread(fd, buf, max, off)) < 0) {
		rc = -errno;
		goto out;
	}
	*len = (size_t)n;
	*size = st.st_size;
out:
	close(fd);
	return rc;
}

static void files_remove(struct run_output *o, const struct run_output_key *key)
{
	struct files *f = (struct files *)o;
	char path[PATH_MAX];

	for (int s = 0; s < RUN_NSTREAMS; s++) {
		run_output_files_path(f->data_dir, key, (enum run_stream)s, path, sizeof(path));
		unlink(path);
	}
}

static void files_free(struct run_output *o)
{
	struct files *f = (struct files *)o;

	free(f->data_dir);
	free(f);
}

static const struct run_output_ops files_ops = {
	.open = files_open,
	.read = files_read,
	.close = files_close,
	.tail = files_tail,
	.remove = files_remove,
	.free = files_free,
};

int run_output_files_new(const char *data_dir, struct run_output **out, char *err, size_t errlen)
{
	struct files *f;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/logs", data_dir);
	if (mkdir(path, 0750) < 0 && errno != EEXIST) {
		int rc = -errno;
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return rc;
	}
	f = xcalloc(1, sizeof(*f));
	f->base.ops = &files_ops;
	f->data_dir = xstrdup(data_dir);
	*out = &f->base;
	return 0;
}

/* Rename (or remove) one old file, logs/<id>.<stream>. Returns 1 when renamed, else 0. */
static int migrate_one(const char *dir, const char *name, int64_t id, enum run_stream s, run_legacy_fn task_id_of,
    void *ctx)
{
	char from[PATH_MAX], to[PATH_MAX], *task_id = NULL;
	int rc;

	snprintf(from, sizeof(from), "%s/logs/%s", dir, name);
	if ((rc = task_id_of(ctx, id, &task_id)) == -ENOENT) {
		if (unlink(from) < 0 && errno != ENOENT)
			log_warn("cannot remove %s, the output of a run no longer in the history", from);
		return 0;
	}
	if (rc < 0) {
		log_warnx("%s: the history cannot tell whose output this is (%s); it stays", from, strerror(-rc));
		return 0;
	}
	run_output_files_path(dir, &(struct run_output_key){task_id}, s, to, sizeof(to));
	rc = rename(from, to) == 0;
	if (!rc)
		log_warn("cannot rename %s to %s", from, to);
	free(task_id);
	return rc;
}

int run_output_files_migrate(const char *data_dir, run_legacy_fn task_id_of, void *ctx)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/logs", data_dir);
	if ((d = opendir(path)) == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) != NULL) {
		int64_t id;
		for (int s = 0; s < 2; s++) {
			char suffix[16];
			snprintf(suffix, sizeof(suffix), ".%s", run_stream_name((enum run_stream)s));
			if (run_name_legacy(de->d_name, suffix, &id))
				n += migrate_one(data_dir, de->d_name, id, (enum run_stream)s, task_id_of, ctx);
		}
	}
	closedir(d);
	if (n > 0)
		log_info("%d output file(s) in %s renamed from the run's row id to its task id's name", n, path);
	return n;
}
