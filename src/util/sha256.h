/* SHA-256 (FIPS 180-4) of a byte string: the hash in the names of runs' files (history/run_name.h). */
#ifndef GNOMON_UTIL_SHA256_H
#define GNOMON_UTIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

/* The digest of len bytes at data into out. */
void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);

#endif
