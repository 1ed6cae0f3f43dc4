/* `gnomon backup DIR`: a consistent copy of the standalone server's data dir (POST /api/v1/backup streams it as a
 * ustar archive: api/gnomon_backup.h) unpacked into DIR, a new or empty directory, from which `gnomon server
 * --data-dir DIR` starts. Only DIR/gnomon.db and regular files in DIR/logs are written, whatever the archive
 * holds; the store is written as gnomon.db.part and renamed once the whole archive is in, so a copy cut short is
 * never taken for one. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_cmd.h"
#include "cli/cli_http.h"
#include "util/mkdirs.h"
#include "util/rmtree.h"
#include "util/tar.h"
#include "util/xmalloc.h"

#define ERR_MAX 1024
#define BACKUP_PATH "/api/v1/backup"
#define DB_NAME "gnomon.db"
#define DB_PART "gnomon.db.part"

struct unpack {
	const char *dir;
	unsigned char header[TAR_BLOCK];
	size_t have;        /* bytes of header read */
	int fd;             /* the file being written, -1 between files */
	bool is_db;
	char name[TAR_NAME_MAX + 160];
	uint64_t left;      /* its bytes still to come */
	size_t pad;         /* then the padding's */
	int zero_blocks;    /* two end the archive */
	bool has_db, made_logs;
	size_t files;
	uint64_t bytes;
	char err[ERR_MAX];
};

/* DIR must be missing (it is made) or an empty directory. Sets *made when it was made. */
static int prepare_dir(const char *dir, bool *made, char *err, size_t errlen)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int rc;

	*made = false;
	if (stat(dir, &st) < 0) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			return -1;
		}
		if ((rc = mkdirs(dir, 0711)) < 0) {
			snprintf(err, errlen, "cannot create %s: %s", dir, strerror(-rc));
			return -1;
		}
		*made = true;
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a directory", dir);
		return -1;
	}
	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			closedir(d);
			snprintf(err, errlen, "%s exists and is not empty: back up into a new or empty directory", dir);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

/* Where an archive member goes: gnomon.db (as gnomon.db.part), or logs/NAME with NAME a plain file name. */
static int member_path(struct unpack *u, const struct tar_entry *e)
{
	const char *base = e->name + strlen("logs/");

	if (e->type != '0' && e->type != '\0') {
		snprintf(u->err, sizeof(u->err), "the server's archive holds '%s', which is not a regular file", e->name);
		return -1;
	}
	if (strcmp(e->name, DB_NAME) == 0 && !u->has_db) {
		u->is_db = u->has_db = true;
		snprintf(u->name, sizeof(u->name), "%s/%s", u->dir, DB_PART);
		return 0;
	}
	if (strncmp(e->name, "logs/", 5) != 0 || *base == '\0' || *base == '.' || strchr(base, '/')) {
		snprintf(u->err, sizeof(u->err), "the server's archive holds '%s', which is not part of a data dir",
		    e->name);
		return -1;
	}
	if (!u->made_logs) {
		snprintf(u->name, sizeof(u->name), "%s/logs", u->dir);
		if (mkdir(u->name, 0750) < 0) {
			snprintf(u->err, sizeof(u->err), "cannot create %s: %s", u->name, strerror(errno));
			return -1;
		}
		u->made_logs = true;
	}
	u->is_db = false;
	snprintf(u->name, sizeof(u->name), "%s/%s", u->dir, e->name);
	return 0;
}

/* The current file is all written: sync the store, close. */
static int end_file(struct unpack *u)
{
	int rc = 0;

	if (u->is_db && fsync(u->fd) < 0)
		rc = -1;
	if (close(u->fd) < 0)
		rc = -1;
	u->fd = -1;
	if (rc < 0)
		snprintf(u->err, sizeof(u->err), "writing %s: %s", u->name, strerror(errno));
	u->files++;
	return rc;
}

/* A complete header block is in u->header. */
static int start_file(struct unpack *u)
{
	struct tar_entry e;
	char why[128];
	int rc = tar_parse(u->header, &e, why, sizeof(why));

	u->have = 0;
	if (rc < 0) {
		snprintf(u->err, sizeof(u->err), "the server's archive is damaged: %s", why);
		return -1;
	}
	if (rc == 0) {
		u->zero_blocks++;
		return 0;
	}
	if (u->zero_blocks > 0) {
		snprintf(u->err, sizeof(u->err), "the server's archive is damaged: a file after its end");
		return -1;
	}
	if (member_path(u, &e) < 0)
		return -1;
	if ((u->fd = open(u->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640)) < 0) {
		snprintf(u->err, sizeof(u->err), "cannot create %s: %s", u->name, strerror(errno));
		return -1;
	}
	u->left = e.size;
	u->pad = tar_padding(e.size);
	u->bytes += e.size;
	return u->left == 0 ? end_file(u) : 0;
}

/* cli_http_write_fn: the archive as it arrives. */
static int unpack_write(const char *data, size_t len, void *arg)
{
	struct unpack *u = arg;

	while (len > 0 && u->zero_blocks < 2) {
		size_t n;
		if (u->fd >= 0) {
			ssize_t w = write(u->fd, data, u->left < len ? (size_t)u->left : len);
			if (w < 0) {
				snprintf(u->err, sizeof(u->err), "writing %s: %s", u->name, strerror(errno));
				return -1;
			}
			n = (size_t)w;
			if ((u->left -= n) == 0 && end_file(u) < 0)
				return -1;
		} else if (u->pad > 0) {
			n = u->pad < len ? u->pad : len;
			u->pad -= n;
		} else {
			n = TAR_BLOCK - u->have < len ? TAR_BLOCK - u->have : len;
			memcpy(u->header + u->have, data, n);
			if ((u->have += n) == TAR_BLOCK && start_file(u) < 0)
				return -1;
		}
		data += n;
		len -= n;
	}
	return 0;
}

/* Make the copy whole: the store under its own name, the directory synced. */
static int finish(struct unpack *u)
{
	char from[PATH_MAX], to[PATH_MAX];
	int dfd;

	if (u->zero_blocks < 2 || u->fd >= 0) {
		snprintf(u->err, sizeof(u->err), "the server's archive ended early: the backup is incomplete");
		return -1;
	}
	if (!u->has_db) {
		snprintf(u->err, sizeof(u->err), "the server's archive holds no %s", DB_NAME);
		return -1;
	}
	snprintf(from, sizeof(from), "%s/%s", u->dir, DB_PART);
	snprintf(to, sizeof(to), "%s/%s", u->dir, DB_NAME);
	if (rename(from, to) < 0) {
		snprintf(u->err, sizeof(u->err), "cannot rename " DB_PART " to " DB_NAME " in %.900s: %s", u->dir,
		    strerror(errno));
		return -1;
	}
	if ((dfd = open(u->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* Take back what a failed backup wrote into dir (empty or made before it began). */
static void undo(struct unpack *u, bool made)
{
	char path[PATH_MAX], err[256];

	if (u->fd >= 0)
		close(u->fd);
	snprintf(path, sizeof(path), "%s/%s", u->dir, DB_PART);
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/%s", u->dir, DB_NAME);
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/logs", u->dir);
	if (u->made_logs && rmtree_at(AT_FDCWD, path, err, sizeof(err)) < 0)
		cli_errorx("cannot remove %s: %s", path, err);
	if (made)
		(void)rmdir(u->dir);
}

static int backup_exec(const struct cli_ctx *ctx)
{
	struct unpack u = {.dir = ctx->argv[0], .fd = -1};
	struct cli_http_response resp;
	char err[ERR_MAX];
	bool made;
	int rc;

	if (prepare_dir(u.dir, &made, err, sizeof(err)) < 0) {
		cli_errorx("%s", err);
		return CLI_EXIT_FAIL;
	}
	/* The server copies its store before the first byte comes: no stall limit. */
	rc = cli_http_stream(ctx->http, "POST", BACKUP_PATH, CLI_HTTP_NO_STALL_TIMEOUT, unpack_write, &u, &resp, err,
	    sizeof(err));
	if (rc == 0) {
		if (resp.status < 200 || resp.status >= 300) {
			cli_http_error_text(resp.status, resp.body, resp.len, err, sizeof(err));
			rc = -1;
		}
		cli_http_response_free(&resp);
	}
	if (rc == -ECANCELED)
		snprintf(err, sizeof(err), "%s", u.err);
	if (rc == 0 && finish(&u) < 0) {
		snprintf(err, sizeof(err), "%s", u.err);
		rc = -1;
	}
	if (rc < 0) {
		undo(&u, made);
		cli_errorx("backup: %s", err);
		return CLI_EXIT_FAIL;
	}
	if (ctx->json) {
		json_t *o = json_pack("{s:s, s:I, s:I}", "dir", u.dir, "files", (json_int_t)u.files, "bytes",
		    (json_int_t)u.bytes);
		cli_print_json(o);
		json_decref(o);
	} else {
		printf("backed up %s into %s: %s and %zu output files, %llu bytes\n", cli_http_base(ctx->http), u.dir,
		    DB_NAME, u.files - 1, (unsigned long long)u.bytes);
	}
	return CLI_EXIT_OK;
}

static const struct cli_cmd_entry backup_entry[] = {
    {NULL, "DIR",
	"Copy the server's SQLite store and its runs' output into DIR (new or empty), a data dir a server starts "
	"from", 1, 1, backup_exec},
};

const struct cli_cmd_family cli_backup_family = {
    .name = "backup",
    .help = "Copy a standalone server's data dir (its store as of one moment, and the runs' output) into DIR",
    .entries = backup_entry,
    .n_entries = 1,
};
