#include "sim_vfs.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* The VFS is process-wide in SQLite, so its switch is too: the simulation is its only user. */
static sqlite3_vfs *base_vfs;
static sqlite3_vfs sim_vfs;
static atomic_bool armed;
static atomic_uint_fast64_t failures;

struct sim_file {
	sqlite3_file base;
	bool wal;
	sqlite3_file *real; /* follows this struct in the same allocation */
};

static sqlite3_io_methods sim_io;

static int sim_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	struct sim_file *sf = (struct sim_file *)f;
	bool on = true;
	if (sf->wal && atomic_compare_exchange_strong(&armed, &on, false)) {
		atomic_fetch_add(&failures, 1);
		return SQLITE_FULL;
	}
	return sf->real->pMethods->xWrite(sf->real, buf, n, off);
}

#define FORWARD(name, ...) (((struct sim_file *)f)->real->pMethods->name(((struct sim_file *)f)->real, __VA_ARGS__))

static int sim_close(sqlite3_file *f)
{
	struct sim_file *sf = (struct sim_file *)f;
	return sf->real->pMethods ? sf->real->pMethods->xClose(sf->real) : SQLITE_OK;
}
static int sim_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o) { return FORWARD(xRead, b, n, o); }
static int sim_truncate(sqlite3_file *f, sqlite3_int64 size) { return FORWARD(xTruncate, size); }
static int sim_sync(sqlite3_file *f, int flags) { return FORWARD(xSync, flags); }
static int sim_size(sqlite3_file *f, sqlite3_int64 *size) { return FORWARD(xFileSize, size); }
static int sim_lock(sqlite3_file *f, int l) { return FORWARD(xLock, l); }
static int sim_unlock(sqlite3_file *f, int l) { return FORWARD(xUnlock, l); }
static int sim_check(sqlite3_file *f, int *out) { return FORWARD(xCheckReservedLock, out); }
static int sim_fcntl(sqlite3_file *f, int op, void *arg) { return FORWARD(xFileControl, op, arg); }
static int sim_sector(sqlite3_file *f)
{
	struct sim_file *sf = (struct sim_file *)f;
	return sf->real->pMethods->xSectorSize(sf->real);
}
static int sim_dev(sqlite3_file *f)
{
	struct sim_file *sf = (struct sim_file *)f;
	return sf->real->pMethods->xDeviceCharacteristics(sf->real);
}
static int sim_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
	return FORWARD(xShmMap, pg, pgsz, extend, pp);
}
static int sim_shm_lock(sqlite3_file *f, int off, int n, int flags) { return FORWARD(xShmLock, off, n, flags); }
static void sim_shm_barrier(sqlite3_file *f)
{
	struct sim_file *sf = (struct sim_file *)f;
	sf->real->pMethods->xShmBarrier(sf->real);
}
static int sim_shm_unmap(sqlite3_file *f, int del) { return FORWARD(xShmUnmap, del); }
static int sim_fetch(sqlite3_file *f, sqlite3_int64 o, int n, void **pp) { return FORWARD(xFetch, o, n, pp); }
static int sim_unfetch(sqlite3_file *f, sqlite3_int64 o, void *p) { return FORWARD(xUnfetch, o, p); }

static int sim_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
	struct sim_file *sf = (struct sim_file *)f;
	int rc;
	(void)vfs;
	memset(sf, 0, sizeof(*sf));
	sf->real = (sqlite3_file *)(sf + 1);
	sf->wal = (flags & SQLITE_OPEN_WAL) != 0;
	rc = base_vfs->xOpen(base_vfs, name, sf->real, flags, out_flags);
	if (rc != SQLITE_OK) {
		sf->real->pMethods = NULL;
		return rc;
	}
	sim_io = *sf->real->pMethods;
	sim_io.xClose = sim_close;
	sim_io.xRead = sim_read;
	sim_io.xWrite = sim_write;
	sim_io.xTruncate = sim_truncate;
	sim_io.xSync = sim_sync;
	sim_io.xFileSize = sim_size;
	sim_io.xLock = sim_lock;
	sim_io.xUnlock = sim_unlock;
	sim_io.xCheckReservedLock = sim_check;
	sim_io.xFileControl = sim_fcntl;
	sim_io.xSectorSize = sim_sector;
	sim_io.xDeviceCharacteristics = sim_dev;
	sim_io.xShmMap = sim_shm_map;
	sim_io.xShmLock = sim_shm_lock;
	sim_io.xShmBarrier = sim_shm_barrier;
	sim_io.xShmUnmap = sim_shm_unmap;
	sim_io.xFetch = sim_fetch;
	sim_io.xUnfetch = sim_unfetch;
	f->pMethods = &sim_io;
	return SQLITE_OK;
}

int sim_vfs_install(void)
{
	if (base_vfs)
		return 0;
	base_vfs = sqlite3_vfs_find(NULL);
	if (base_vfs == NULL)
		return -1;
	sim_vfs = *base_vfs;
	sim_vfs.zName = "gnomon-sim";
	sim_vfs.szOsFile = (int)sizeof(struct sim_file) + base_vfs->szOsFile;
	sim_vfs.xOpen = sim_open;
	return sqlite3_vfs_register(&sim_vfs, 1) == SQLITE_OK ? 0 : -1;
}

void sim_vfs_arm(bool on)
{
	atomic_store(&armed, on);
}

uint64_t sim_vfs_failures(void)
{
	return atomic_load(&failures);
}
