#include "fail_vfs.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* The VFS is process-wide in SQLite, so its switch is too. */
static sqlite3_vfs *base_vfs;
static sqlite3_vfs fail_vfs;
static atomic_bool armed;
static atomic_uint_fast64_t failures;

/* Each file carries its own method table (the real file's with this VFS's functions in it): a table shared by all
 * would be rewritten at every open, which threads opening files at once (a checkpointer, a reader) race on. */
struct fail_file {
	sqlite3_file base;
	sqlite3_io_methods io;
	bool wal;
	sqlite3_file *real; /* follows this struct in the same allocation */
};

static int fail_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	struct fail_file *ff = (struct fail_file *)f;
	bool on = true;
	if (ff->wal && atomic_compare_exchange_strong(&armed, &on, false)) {
		atomic_fetch_add(&failures, 1);
		return SQLITE_FULL;
	}
	return ff->real->pMethods->xWrite(ff->real, buf, n, off);
}

#define FORWARD(name, ...) (((struct fail_file *)f)->real->pMethods->name(((struct fail_file *)f)->real, __VA_ARGS__))

static int fail_close(sqlite3_file *f)
{
	struct fail_file *ff = (struct fail_file *)f;
	return ff->real->pMethods ? ff->real->pMethods->xClose(ff->real) : SQLITE_OK;
}
static int fail_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o) { return FORWARD(xRead, b, n, o); }
static int fail_truncate(sqlite3_file *f, sqlite3_int64 size) { return FORWARD(xTruncate, size); }
static int fail_sync(sqlite3_file *f, int flags) { return FORWARD(xSync, flags); }
static int fail_size(sqlite3_file *f, sqlite3_int64 *size) { return FORWARD(xFileSize, size); }
static int fail_lock(sqlite3_file *f, int l) { return FORWARD(xLock, l); }
static int fail_unlock(sqlite3_file *f, int l) { return FORWARD(xUnlock, l); }
static int fail_check(sqlite3_file *f, int *out) { return FORWARD(xCheckReservedLock, out); }
static int fail_fcntl(sqlite3_file *f, int op, void *arg) { return FORWARD(xFileControl, op, arg); }
static int fail_sector(sqlite3_file *f)
{
	struct fail_file *ff = (struct fail_file *)f;
	return ff->real->pMethods->xSectorSize(ff->real);
}
static int fail_dev(sqlite3_file *f)
{
	struct fail_file *ff = (struct fail_file *)f;
	return ff->real->pMethods->xDeviceCharacteristics(ff->real);
}
static int fail_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
	return FORWARD(xShmMap, pg, pgsz, extend, pp);
}
static int fail_shm_lock(sqlite3_file *f, int off, int n, int flags) { return FORWARD(xShmLock, off, n, flags); }
static void fail_shm_barrier(sqlite3_file *f)
{
	struct fail_file *ff = (struct fail_file *)f;
	ff->real->pMethods->xShmBarrier(ff->real);
}
static int fail_shm_unmap(sqlite3_file *f, int del) { return FORWARD(xShmUnmap, del); }
static int fail_fetch(sqlite3_file *f, sqlite3_int64 o, int n, void **pp) { return FORWARD(xFetch, o, n, pp); }
static int fail_unfetch(sqlite3_file *f, sqlite3_int64 o, void *p) { return FORWARD(xUnfetch, o, p); }

static int fail_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
	struct fail_file *ff = (struct fail_file *)f;
	int rc;
	(void)vfs;
	memset(ff, 0, sizeof(*ff));
	ff->real = (sqlite3_file *)(ff + 1);
	ff->wal = (flags & SQLITE_OPEN_WAL) != 0;
	rc = base_vfs->xOpen(base_vfs, name, ff->real, flags, out_flags);
	if (rc != SQLITE_OK) {
		ff->real->pMethods = NULL;
		return rc;
	}
	ff->io = *ff->real->pMethods;
	ff->io.xClose = fail_close;
	ff->io.xRead = fail_read;
	ff->io.xWrite = fail_write;
	ff->io.xTruncate = fail_truncate;
	ff->io.xSync = fail_sync;
	ff->io.xFileSize = fail_size;
	ff->io.xLock = fail_lock;
	ff->io.xUnlock = fail_unlock;
	ff->io.xCheckReservedLock = fail_check;
	ff->io.xFileControl = fail_fcntl;
	ff->io.xSectorSize = fail_sector;
	ff->io.xDeviceCharacteristics = fail_dev;
	ff->io.xShmMap = fail_shm_map;
	ff->io.xShmLock = fail_shm_lock;
	ff->io.xShmBarrier = fail_shm_barrier;
	ff->io.xShmUnmap = fail_shm_unmap;
	ff->io.xFetch = fail_fetch;
	ff->io.xUnfetch = fail_unfetch;
	f->pMethods = &ff->io;
	return SQLITE_OK;
}

int fail_vfs_install(void)
{
	if (base_vfs)
		return 0;
	base_vfs = sqlite3_vfs_find(NULL);
	if (base_vfs == NULL)
		return -1;
	fail_vfs = *base_vfs;
	fail_vfs.zName = "gnomon-fail";
	fail_vfs.szOsFile = (int)sizeof(struct fail_file) + base_vfs->szOsFile;
	fail_vfs.xOpen = fail_open;
	return sqlite3_vfs_register(&fail_vfs, 1) == SQLITE_OK ? 0 : -1;
}

void fail_vfs_arm(bool on)
{
	atomic_store(&armed, on);
}

uint64_t fail_vfs_failures(void)
{
	return atomic_load(&failures);
}
