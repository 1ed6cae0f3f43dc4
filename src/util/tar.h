/* The ustar archive format (POSIX.1-1988, with GNU's base-256 sizes past 8 GiB), as far as `gnomon backup`
 * needs it: regular files only, names under 100 bytes. Pure: no I/O. */
#ifndef GNOMON_UTIL_TAR_H
#define GNOMON_UTIL_TAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TAR_BLOCK 512
#define TAR_NAME_MAX 100 /* a name's bytes, its terminating NUL included */

/* Fill out with the header of a regular file: name (shorter than TAR_NAME_MAX), permission bits, size and
 * modification time (seconds since the epoch). -ENAMETOOLONG for a longer name, else 0. */
int tar_header(unsigned char out[TAR_BLOCK], const char *name, unsigned mode, uint64_t size, int64_t mtime)
    __attribute__((warn_unused_result));

/* Bytes of zeros that follow a file of size bytes up to the next block. */
size_t tar_padding(uint64_t size);

/* What tar_parse() read from a header block. */
struct tar_entry {
	char name[TAR_NAME_MAX + 155 + 1]; /* prefix "/" name, when the header has a prefix */
	char type;                         /* '0' a regular file, '5' a directory, ... as in the header */
	unsigned mode;
	uint64_t size;
};

/* Read a header block: 1 with e filled, 0 for a block of zeros (the archive's end is two of them), or -EINVAL
 * with a message in err (not a ustar header, a bad checksum, a field that is not a number). */
int tar_parse(const unsigned char in[TAR_BLOCK], struct tar_entry *e, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
