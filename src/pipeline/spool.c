/* spool — see spool.h. The record encoding is spool_record.c. */
#include "pipeline/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/log.h"
#include "model/event.h"
#include "pipeline/spool_record.h"

#define SPOOL_FILE "events.spool"
#define SPOOL_MAGIC 0x31505350u /* "PSP1" */
#define SPOOL_HEADER 12
/* One record is at most one event: MAX_EVENT_BYTES compressed and then
 * some; anything longer is damage. */
#define SPOOL_RECORD_MAX (64u << 20)

struct spool {
    int fd;
    size_t max_bytes;
    uint64_t end;       /* bytes of whole records in the file */
    uint64_t read_off;  /* the oldest record not consumed */
    uint64_t events;    /* records from read_off to end */
    uint64_t peek_next; /* offset after the last spool_peek's records */
    char path[PATH_MAX];
};

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int read_full(int fd, void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -errno;
        if (r == 0) return -ENODATA;
        done += (size_t)r;
    }
    return 0;
}

/* The record at off: 0 with its body (caller frees) and length, -ENODATA
 * at a clean end, -EBADMSG when torn or damaged. */
static int read_record(const struct spool *sp, uint64_t off, unsigned char **body, uint32_t *len)
{
    unsigned char h[SPOOL_HEADER];
    int rc = read_full(sp->fd, h, sizeof h, off);
    if (rc == -ENODATA && off == sp->end) return -ENODATA;
    if (rc < 0) return rc == -ENODATA ? -EBADMSG : rc;
    *len = get_u32(h + 4);
    if (get_u32(h) != SPOOL_MAGIC || *len > SPOOL_RECORD_MAX) return -EBADMSG;
    unsigned char *b = malloc(*len ? *len : 1);
    if (!b) return -ENOMEM;
    rc = read_full(sp->fd, b, *len, off + SPOOL_HEADER);
    if (rc == 0 && (uint32_t)crc32(0L, b, *len) != get_u32(h + 8)) rc = -EBADMSG;
    if (rc < 0) {
        free(b);
        return rc == -ENODATA ? -EBADMSG : rc;
    }
    *body = b;
    return 0;
}

/* Finds the end of the whole records; cuts a torn or damaged tail off. */
static int scan(struct spool *sp)
{
    struct stat st;
    if (fstat(sp->fd, &st) != 0) return -errno;
    sp->end = (uint64_t)st.st_size;
    uint64_t off = 0;
    for (;;) {
        unsigned char *body;
        uint32_t len;
        int rc = off < sp->end ? read_record(sp, off, &body, &len) : -ENODATA;
        if (rc == -ENODATA) break;
        if (rc == -EBADMSG) {
            log_warn("spool: torn or damaged tail cut off (never acknowledged in commit mode)",
                     "path=%s offset=%llu bytes=%llu", sp->path, (unsigned long long)off,
                     (unsigned long long)(sp->end - off));
            if (ftruncate(sp->fd, (off_t)off) != 0 || fsync(sp->fd) != 0) return -errno;
            break;
        }
        if (rc < 0) return rc;
        free(body);
        off += SPOOL_HEADER + len;
        sp->events++;
    }
    sp->end = off;
    return 0;
}

int spool_open(const char *dir, size_t max_bytes, struct spool **out, char *err, size_t errlen)
{
    struct spool *sp = calloc(1, sizeof *sp);
    if (!sp) {
        snprintf(err, errlen, "spool: out of memory");
        return -ENOMEM;
    }
    sp->fd = -1;
    sp->max_bytes = max_bytes;
    if ((size_t)snprintf(sp->path, sizeof sp->path, "%s/spool", dir) >= sizeof sp->path) {
        snprintf(err, errlen, "spool: DATA_DIR path too long");
        free(sp);
        return -ENAMETOOLONG;
    }
    if (mkdir(sp->path, 0700) != 0 && errno != EEXIST) goto fail;
    strncat(sp->path, "/" SPOOL_FILE, sizeof sp->path - strlen(sp->path) - 1);
    sp->fd = open(sp->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (sp->fd < 0) goto fail;
    int rc = scan(sp);
    if (rc < 0) {
        errno = -rc;
        goto fail;
    }
    if (sp->events)
        log_info("spool: events waiting from an earlier run, replayed when the database takes them",
                 "path=%s events=%llu bytes=%llu", sp->path, (unsigned long long)sp->events,
                 (unsigned long long)sp->end);
    *out = sp;
    return 0;
fail:;
    int e = errno;
    snprintf(err, errlen, "spool %s: %s", sp->path, strerror(e));
    if (sp->fd >= 0) close(sp->fd);
    free(sp);
    return -e;
}

void spool_close(struct spool *sp)
{
    if (!sp) return;
    if (sp->fd >= 0) close(sp->fd);
    free(sp);
}

uint64_t spool_bytes(const struct spool *sp)
{
    return sp->end - sp->read_off;
}

uint64_t spool_events(const struct spool *sp)
{
    return sp->events;
}

static int write_full(int fd, const void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t w = pwrite(fd, (const char *)buf + done, len - done, (off_t)(off + done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -errno;
        done += (size_t)w;
    }
    return 0;
}

int spool_append(struct spool *sp, struct grouped_event *const *evs, size_t n)
{
    struct spool_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        size_t start = b.len;
        if (spool_buf_reserve(&b, SPOOL_HEADER) < 0) goto oom;
        b.len += SPOOL_HEADER;
        if (spool_record_encode(&b, evs[i]) < 0) goto oom;
        size_t body = b.len - start - SPOOL_HEADER;
        put_u32(b.p + start, SPOOL_MAGIC);
        put_u32(b.p + start + 4, (uint32_t)body);
        put_u32(b.p + start + 8, (uint32_t)crc32(0L, b.p + start + SPOOL_HEADER, (uInt)body));
    }
    if (sp->end + b.len > sp->max_bytes) {
        free(b.p);
        return -ENOSPC;
    }
    int rc = write_full(sp->fd, b.p, b.len, sp->end);
    if (rc == 0 && fdatasync(sp->fd) != 0) rc = -errno;
    free(b.p);
    if (rc < 0) {
        /* Nothing of it counts: cut back so the next append starts clean. */
        if (ftruncate(sp->fd, (off_t)sp->end) != 0)
            log_error("spool: cannot cut back a failed append", "path=%s error=%s", sp->path,
                      strerror(errno));
        return rc;
    }
    sp->end += b.len;
    sp->events += n;
    return 0;
oom:
    free(b.p);
    return -ENOMEM;
}

int spool_peek(struct spool *sp, struct grouped_event **evs, size_t max, size_t *n)
{
    uint64_t off = sp->read_off;
    size_t k = 0;
    int rc = 0;
    while (k < max && off < sp->end) {
        unsigned char *body;
        uint32_t len;
        if ((rc = read_record(sp, off, &body, &len)) < 0) break;
        rc = spool_record_decode(body, len, &evs[k]);
        free(body);
        if (rc < 0) break;
        k++;
        off += SPOOL_HEADER + len;
    }
    if (rc < 0) {
        for (size_t i = 0; i < k; i++)
            grouped_event_free(evs[i]);
        k = 0;
        off = sp->read_off;
    }
    sp->peek_next = off;
    *n = k;
    return rc;
}

int spool_consume(struct spool *sp, size_t n)
{
    sp->read_off = sp->peek_next;
    sp->events -= n;
    if (sp->read_off < sp->end) return 0;
    if (ftruncate(sp->fd, 0) != 0 || fsync(sp->fd) != 0) return -errno;
    sp->end = sp->read_off = sp->peek_next = 0;
    sp->events = 0;
    return 0;
}
