/* crc32.c: CRC-32 (IEEE), byte-wise with a 256-entry table built on first
 * use.  Recordings are checksummed once, at pool destroy, so speed does not
 * matter; the table is built before any thread can race on it only if a
 * caller asks first, hence the explicit once. */
#include "crc32.h"

#include <pthread.h>

static uint32_t fg__crc32_table[256];
static pthread_once_t fg__crc32_once = PTHREAD_ONCE_INIT;

static void fg__crc32_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        fg__crc32_table[i] = c;
    }
}

uint32_t fg__crc32(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&fg__crc32_once, fg__crc32_init);
    const unsigned char *p = data;
    crc = ~crc;
    while (len-- > 0)
        crc = fg__crc32_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}
