/* crc32.h: CRC-32 (IEEE 802.3, reflected, as zlib's crc32()), for the
 * checksums of recordings (docs/design/record.md).  No state, no pool:
 * tools may compile crc32.c on its own. */
#ifndef FG_CRC32_H
#define FG_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* The CRC of `len` bytes at `data`, continuing from `crc` (0 to start):
 * fg__crc32(fg__crc32(0, a, n), b, m) is the CRC of a then b. */
uint32_t fg__crc32(uint32_t crc, const void *data, size_t len);

#endif
