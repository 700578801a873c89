/* graph.c: load and check a recording (graph.h, docs/design/record.md).
 *
 * Checks run in file order so that the message names the first bad field:
 * the header's fields, its CRC, the file's length, each record's fields,
 * then the records' CRC.  A flipped bit in a record that leaves every field
 * plausible is caught by the CRC, whose offset (56) is then named. */
#include "graph.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

void sim_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void sim_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint32_t sim_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t sim_get64(const uint8_t *p)
{
    return (uint64_t)sim_get32(p) | (uint64_t)sim_get32(p + 4) << 32;
}

static uint32_t sim_crc(const uint8_t *p, size_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (len > 0) { /* zlib takes uInt lengths */
        uInt step = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = crc32(crc, p, step);
        p += step;
        len -= step;
    }
    return (uint32_t)crc;
}

__attribute__((format(printf, 4, 5)))
static int sim_fail(char *err, size_t errlen, size_t offset, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "byte offset %zu: %s", offset, what);
    return SIM_EFORMAT;
}

/* The header's fields, CRC and the file's length; *units on success. */
static int sim_check_header(const uint8_t *b, size_t len, uint32_t *units, char *err, size_t el)
{
    if (len < SIM_HEADER_SIZE)
        return sim_fail(err, el, len, "truncated header: the file has %zu bytes, a header %d",
                        len, SIM_HEADER_SIZE);
    if (memcmp(b, "FGRECORD", 8) != 0)
        return sim_fail(err, el, 0, "not a forage recording (magic is not \"FGRECORD\")");
    if (sim_get32(b + 8) != SIM_VERSION)
        return sim_fail(err, el, 8, "format version %u, this forage-sim reads version %d",
                        sim_get32(b + 8), SIM_VERSION);
    if (sim_get32(b + 12) != SIM_HEADER_SIZE)
        return sim_fail(err, el, 12, "header size %u, want %d", sim_get32(b + 12), SIM_HEADER_SIZE);
    if (sim_get32(b + 16) != SIM_RECORD_SIZE)
        return sim_fail(err, el, 16, "record size %u, want %d", sim_get32(b + 16), SIM_RECORD_SIZE);
    if (sim_get32(b + 52) != 0)
        return sim_fail(err, el, 52, "reserved field is %u, want 0", sim_get32(b + 52));
    if (sim_get32(b + 60) != sim_crc(b, 60))
        return sim_fail(err, el, 60, "header CRC-32 is %08x, the header's bytes give %08x",
                        sim_get32(b + 60), sim_crc(b, 60));
    uint64_t n = sim_get64(b + 24), lost = sim_get64(b + 32);
    uint32_t flags = sim_get32(b + 48);
    if (lost != 0 || (flags & SIM_HEADER_PARTIAL))
        return sim_fail(err, el, lost != 0 ? 32 : 48,
                        "partial recording: %llu units were lost to overflow; record again "
                        "with a larger buffer", (unsigned long long)lost);
    if (flags & ~SIM_HEADER_PARTIAL)
        return sim_fail(err, el, 48, "unknown header flags %#x", flags);
    if (n == 0 || n >= SIM_NONE)
        return sim_fail(err, el, 24, "unit count %llu (want 1 to %u)", (unsigned long long)n,
                        SIM_NONE - 1);
    uint64_t want = SIM_HEADER_SIZE + n * SIM_RECORD_SIZE;
    if (len < want)
        return sim_fail(err, el, len, "truncated: %llu units need %llu bytes, the file has %zu "
                        "(record %llu is incomplete)", (unsigned long long)n,
                        (unsigned long long)want, len,
                        (unsigned long long)((len - SIM_HEADER_SIZE) / SIM_RECORD_SIZE));
    if (len > want)
        return sim_fail(err, el, want, "%zu bytes after the last of %llu records", len - want,
                        (unsigned long long)n);
    *units = (uint32_t)n;
    return 0;
}

/* Record i's fields; its parent (< i) is already loaded. */
static int sim_check_record(sim_graph *g, const uint8_t *r, uint32_t i, uint32_t *last_kid,
                            char *err, size_t el)
{
    size_t o = SIM_HEADER_SIZE + (size_t)i * SIM_RECORD_SIZE;
    sim_unit *u = &g->units[i];
    u->parent = sim_get32(r);
    u->kind = r[4];
    u->flags = r[5];
    u->work = sim_get64(r + 8);
    u->spawn_at = sim_get64(r + 16);
    u->sync_at = sim_get64(r + 24);
    if (u->parent != SIM_NONE && u->parent >= i)
        return sim_fail(err, el, o, "record %u: parent %u is not an earlier record", i, u->parent);
    if (u->kind > 7)
        return sim_fail(err, el, o + 4, "record %u: unknown kind %u", i, u->kind);
    if (u->flags & ~(SIM_FLAG_CALL | SIM_FLAG_STOLEN))
        return sim_fail(err, el, o + 5, "record %u: unknown flags %#x", i, u->flags);
    if (r[6] != 0 || r[7] != 0)
        return sim_fail(err, el, o + 6, "record %u: reserved bytes are not 0", i);
    if (u->work > SIM_WORK_MAX)
        return sim_fail(err, el, o + 8, "record %u: work %llu ns is beyond the limit %llu", i,
                        (unsigned long long)u->work, (unsigned long long)SIM_WORK_MAX);
    if (u->parent == SIM_NONE)
        return 0;
    const sim_unit *p = &g->units[u->parent];
    if (u->spawn_at > u->sync_at)
        return sim_fail(err, el, o + 16, "record %u: spawn_at %llu is after sync_at %llu", i,
                        (unsigned long long)u->spawn_at, (unsigned long long)u->sync_at);
    if (u->sync_at > p->work)
        return sim_fail(err, el, o + 24, "record %u: sync_at %llu is past its parent's work %llu",
                        i, (unsigned long long)u->sync_at, (unsigned long long)p->work);
    uint32_t prev = last_kid[u->parent];
    if (prev != SIM_NONE && g->units[prev].spawn_at > u->spawn_at)
        return sim_fail(err, el, o + 16, "record %u: spawn_at %llu is before its elder sibling's "
                        "(record %u, %llu)", i, (unsigned long long)u->spawn_at, prev,
                        (unsigned long long)g->units[prev].spawn_at);
    last_kid[u->parent] = i;
    return 0;
}

/* kids: counting sort of the children by parent (file order kept);
 * syncs: each parent's children stably sorted by sync_at. */
static void sim_index_children(sim_graph *g)
{
    for (uint32_t i = 0; i < g->n; i++)
        if (g->units[i].parent != SIM_NONE)
            g->units[g->units[i].parent].nkids++;
    uint32_t at = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        g->units[i].first = at;
        at += g->units[i].nkids;
        g->units[i].nkids = 0;
    }
    g->nroots = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        sim_unit *u = &g->units[i];
        if (u->parent == SIM_NONE) {
            g->roots[g->nroots++] = i;
            continue;
        }
        sim_unit *p = &g->units[u->parent];
        g->kids[p->first + p->nkids++] = i;
    }
    uint32_t *roots = realloc(g->roots, sizeof *roots * g->nroots); /* shrink: few roots */
    if (roots != NULL)
        g->roots = roots;
    memcpy(g->syncs, g->kids, sizeof *g->kids * at);
    for (uint32_t i = 0; i < g->n; i++) { /* insertion sort: usually sorted already */
        uint32_t *s = g->syncs + g->units[i].first;
        for (uint32_t a = 1; a < g->units[i].nkids; a++)
            for (uint32_t b = a; b > 0 && g->units[s[b - 1]].sync_at > g->units[s[b]].sync_at; b--) {
                uint32_t x = s[b];
                s[b] = s[b - 1];
                s[b - 1] = x;
            }
    }
}

int sim_graph_parse(sim_graph *g, const uint8_t *b, size_t len, char *err, size_t el)
{
    memset(g, 0, sizeof *g);
    uint32_t n = 0;
    int rc = sim_check_header(b, len, &n, err, el);
    if (rc < 0)
        return rc;
    g->n = n;
    g->workers = sim_get32(b + 20);
    g->wall_ns = sim_get64(b + 40);
    g->units = calloc(n, sizeof *g->units);
    g->kids = malloc(sizeof *g->kids * n);
    g->syncs = malloc(sizeof *g->syncs * n);
    g->roots = malloc(sizeof *g->roots * n);
    uint32_t *last_kid = malloc(sizeof *last_kid * n);
    if (!g->units || !g->kids || !g->syncs || !g->roots || !last_kid) {
        free(last_kid);
        sim_graph_free(g);
        snprintf(err, el, "out of memory for %u units", n);
        return SIM_ENOMEM;
    }
    memset(last_kid, 0xFF, sizeof *last_kid * n);
    for (uint32_t i = 0; i < n && rc == 0; i++)
        rc = sim_check_record(g, b + SIM_HEADER_SIZE + (size_t)i * SIM_RECORD_SIZE, i, last_kid,
                              err, el);
    free(last_kid);
    if (rc == 0 && sim_get32(b + 56) != sim_crc(b + SIM_HEADER_SIZE, len - SIM_HEADER_SIZE))
        rc = sim_fail(err, el, 56, "records CRC-32 is %08x, the records give %08x: the file is "
                      "corrupt", sim_get32(b + 56), sim_crc(b + SIM_HEADER_SIZE, len - SIM_HEADER_SIZE));
    if (rc < 0) {
        sim_graph_free(g);
        return rc;
    }
    sim_index_children(g);
    return 0;
}

int sim_graph_load(sim_graph *g, const char *path, char *err, size_t el)
{
    memset(g, 0, sizeof *g);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, el, "cannot open %s", path);
        return SIM_EIO;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    for (size_t got = 1; buf != NULL && got > 0;) {
        if (len == cap) {
            uint8_t *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    }
    int bad = ferror(f);
    fclose(f);
    if (buf == NULL || bad) {
        free(buf);
        snprintf(err, el, buf == NULL ? "out of memory reading %s" : "cannot read %s", path);
        return buf == NULL ? SIM_ENOMEM : SIM_EIO;
    }
    int rc = sim_graph_parse(g, buf, len, err, el);
    free(buf);
    return rc;
}

void sim_graph_free(sim_graph *g)
{
    free(g->units);
    free(g->kids);
    free(g->syncs);
    free(g->roots);
    memset(g, 0, sizeof *g);
}

size_t sim_graph_bytes(const sim_graph *g)
{
    return (size_t)g->n * (sizeof *g->units + sizeof *g->kids + sizeof *g->syncs) +
           (size_t)g->nroots * sizeof *g->roots;
}

/* ---------------------------------------------------------------- builder */

void sim_builder_init(sim_builder *b, uint32_t workers, uint64_t wall_ns)
{
    memset(b, 0, sizeof *b);
    b->cap = 1024;
    b->buf = calloc(1, b->cap);
    b->failed = b->buf == NULL;
    if (b->failed)
        return;
    memcpy(b->buf, "FGRECORD", 8);
    sim_put32(b->buf + 8, SIM_VERSION);
    sim_put32(b->buf + 12, SIM_HEADER_SIZE);
    sim_put32(b->buf + 16, SIM_RECORD_SIZE);
    sim_put32(b->buf + 20, workers);
    sim_put64(b->buf + 40, wall_ns);
    b->len = SIM_HEADER_SIZE;
}

uint32_t sim_builder_add(sim_builder *b, uint32_t parent, int kind, int flags, uint64_t work,
                         uint64_t spawn_at, uint64_t sync_at)
{
    if (b->failed)
        return SIM_NONE;
    if (b->len + SIM_RECORD_SIZE > b->cap) {
        uint8_t *bigger = realloc(b->buf, b->cap * 2);
        if (bigger == NULL) {
            b->failed = 1;
            return SIM_NONE;
        }
        b->buf = bigger;
        b->cap *= 2;
    }
    uint8_t *r = b->buf + b->len;
    memset(r, 0, SIM_RECORD_SIZE);
    sim_put32(r, parent);
    r[4] = (uint8_t)kind;
    r[5] = (uint8_t)flags;
    sim_put64(r + 8, work);
    sim_put64(r + 16, spawn_at);
    sim_put64(r + 24, sync_at);
    b->len += SIM_RECORD_SIZE;
    return b->n++;
}

int sim_builder_finish(sim_builder *b)
{
    if (b->failed)
        return SIM_ENOMEM;
    sim_put64(b->buf + 24, b->n);
    sim_put32(b->buf + 56, sim_crc(b->buf + SIM_HEADER_SIZE, b->len - SIM_HEADER_SIZE));
    sim_put32(b->buf + 60, sim_crc(b->buf, 60));
    return 0;
}

void sim_builder_free(sim_builder *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}
