/* bench/floor.c: the CPU floor for scripts/bench.  Parses saved list-records
 * pages (raw JSON bodies, as bench/fetch.py save_pages writes them) with
 * cJSON and walks every record's fields, the least work any cJSON-based
 * client must do per page.
 *
 * Build:
 *     gcc -O2 -Wall bench/floor.c $(pkg-config --cflags --libs libcjson zlib libdeflate) -o build/bench-floor
 * (or simply: gcc -O2 bench/floor.c -lcjson -lz -ldeflate -o build/bench-floor)
 * Run:
 *     build/bench-floor [-r REPEAT] [-z] PATH...
 * Each PATH is a page file or a directory whose regular files (sorted by
 * name, dot files skipped) are page files.  Every file is read into memory
 * first; then the whole set is parsed REPEAT times (default 1): for each page,
 * cJSON_ParseWithLength, visit records[*].fields and check each value's type
 * once, cJSON_Delete.  Prints one JSON line:
 *     {"pages": n, "bytes": b, "records": r, "fields": f, "repeat": R,
 *      "read_cpu_s": ..., "parse_cpu_s": ..., "parse_wall_s": ...}
 * pages/bytes/records/fields count one pass over the set (not times REPEAT);
 * parse_cpu_s is user+sys (getrusage RUSAGE_SELF) around the parse loop only,
 * for all REPEAT passes; read_cpu_s the same around the file reading.
 * With -z, each page is also gzip-compressed once (zlib level 6, as an HTTP
 * server sends it) and the line gains "gzip_bytes" and "inflate_cpu_s": the
 * CPU of inflating every compressed page REPEAT times (gzip wrapper, CRC
 * checked, as curl does for Content-Encoding: gzip), and "libdeflate_cpu_s":
 * the same with libdeflate, as the extension inflates.  That is work a
 * client fetching gzip must do on top of the parse floor.
 * Exits 1 if a page does not parse or has no "records" array.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>
#include <libdeflate.h>

struct page {
    char *path;
    char *data;
    size_t len;
    unsigned char *gz;    /* with -z: the page gzip-compressed */
    size_t gzlen;
};

static struct page *pages;
static size_t npages, cap;

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "bench-floor: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
         + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open %s", path);
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        die("cannot stat %s", path);
    size_t len = (size_t)st.st_size;
    char *data = malloc(len ? len : 1);
    if (!data || fread(data, 1, len, f) != len)
        die("cannot read %s", path);
    fclose(f);
    if (npages == cap) {
        cap = cap ? cap * 2 : 64;
        pages = realloc(pages, cap * sizeof *pages);
        if (!pages)
            die("out of memory%s", "");
    }
    pages[npages].path = strdup(path);
    pages[npages].data = data;
    pages[npages].len = len;
    npages++;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void read_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        die("cannot stat %s", path);
    if (!S_ISDIR(st.st_mode)) {
        read_file(path);
        return;
    }
    DIR *d = opendir(path);
    if (!d)
        die("cannot open directory %s", path);
    char **names = NULL;
    size_t n = 0, ncap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *full;
        if (asprintf(&full, "%s/%s", path, e->d_name) < 0)
            die("out of memory%s", "");
        struct stat fst;
        if (stat(full, &fst) != 0 || !S_ISREG(fst.st_mode)) {
            free(full);
            continue;
        }
        if (n == ncap) {
            ncap = ncap ? ncap * 2 : 64;
            names = realloc(names, ncap * sizeof *names);
            if (!names)
                die("out of memory%s", "");
        }
        names[n++] = full;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        read_file(names[i]);
        free(names[i]);
    }
    free(names);
}

/* One page: parse, visit every record's fields once, free.  Adds to *records
 * and *fields; returns a checksum of the value types so that the visit cannot
 * be optimised away. */
static unsigned long parse_page(const struct page *p, long *records, long *fields)
{
    cJSON *root = cJSON_ParseWithLength(p->data, p->len);
    if (!root)
        die("%s does not parse", p->path);
    cJSON *recs = cJSON_GetObjectItemCaseSensitive(root, "records");
    if (!cJSON_IsArray(recs))
        die("%s has no records array", p->path);
    unsigned long sum = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, recs) {
        (*records)++;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "id");
        if (cJSON_IsString(id))
            sum += (unsigned char)id->valuestring[0];
        const cJSON *fs = cJSON_GetObjectItemCaseSensitive(rec, "fields");
        const cJSON *v;
        cJSON_ArrayForEach(v, fs) {
            (*fields)++;
            sum += (unsigned long)(v->type & 0xff);
        }
    }
    cJSON_Delete(root);
    return sum;
}

/* Compress p->data into p->gz with a gzip wrapper. */
static void gzip_page(struct page *p)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        die("deflateInit2 failed%s", "");
    p->gzlen = deflateBound(&z, p->len) + 32;
    p->gz = malloc(p->gzlen);
    if (!p->gz)
        die("out of memory%s", "");
    z.next_in = (unsigned char *)p->data;
    z.avail_in = (uInt)p->len;
    z.next_out = p->gz;
    z.avail_out = (uInt)p->gzlen;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        die("deflate of %s failed", p->path);
    p->gzlen = z.total_out;
    deflateEnd(&z);
}

/* Inflate one compressed page into out (p->len bytes), checking it. */
static void inflate_page(const struct page *p, unsigned char *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        die("inflateInit2 failed%s", "");
    z.next_in = p->gz;
    z.avail_in = (uInt)p->gzlen;
    z.next_out = out;
    z.avail_out = (uInt)p->len;
    if (inflate(&z, Z_FINISH) != Z_STREAM_END || z.total_out != p->len)
        die("inflate of %s failed", p->path);
    inflateEnd(&z);
}

int main(int argc, char **argv)
{
    long repeat = 1;
    int gz = 0;
    int i = 1;
    for (;;) {
        if (i + 1 < argc && strcmp(argv[i], "-r") == 0) {
            char *end;
            repeat = strtol(argv[i + 1], &end, 10);
            if (*end || repeat < 1)
                die("bad repeat count %s", argv[i + 1]);
            i += 2;
        } else if (i < argc && strcmp(argv[i], "-z") == 0) {
            gz = 1;
            i++;
        } else {
            break;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "usage: bench-floor [-r REPEAT] [-z] PATH...\n");
        return 2;
    }

    double r0 = cpu_now();
    for (; i < argc; i++)
        read_path(argv[i]);
    double read_cpu = cpu_now() - r0;
    if (npages == 0)
        die("no page files%s", "");

    size_t bytes = 0;
    for (size_t k = 0; k < npages; k++)
        bytes += pages[k].len;

    long records = 0, fields = 0;
    volatile unsigned long sink = 0;
    double w0 = wall_now(), c0 = cpu_now();
    for (long r = 0; r < repeat; r++)
        for (size_t k = 0; k < npages; k++)
            sink += parse_page(&pages[k], &records, &fields);
    double parse_cpu = cpu_now() - c0, parse_wall = wall_now() - w0;
    (void)sink;

    printf("{\"pages\": %zu, \"bytes\": %zu, \"records\": %ld, \"fields\": %ld, \"repeat\": %ld, "
           "\"read_cpu_s\": %.6f, \"parse_cpu_s\": %.6f, \"parse_wall_s\": %.6f",
           npages, bytes, records / repeat, fields / repeat, repeat,
           read_cpu, parse_cpu, parse_wall);
    if (gz) {
        size_t gzbytes = 0, maxlen = 0;
        for (size_t k = 0; k < npages; k++) {
            gzip_page(&pages[k]);
            gzbytes += pages[k].gzlen;
            if (pages[k].len > maxlen)
                maxlen = pages[k].len;
        }
        unsigned char *out = malloc(maxlen ? maxlen : 1);
        if (!out)
            die("out of memory%s", "");
        double z0 = cpu_now();
        for (long r = 0; r < repeat; r++)
            for (size_t k = 0; k < npages; k++)
                inflate_page(&pages[k], out);
        double inflate_cpu = cpu_now() - z0;
        struct libdeflate_decompressor *dc = libdeflate_alloc_decompressor();
        if (!dc)
            die("out of memory%s", "");
        double d0 = cpu_now();
        for (long r = 0; r < repeat; r++)
            for (size_t k = 0; k < npages; k++) {
                size_t got = 0;
                if (libdeflate_gzip_decompress(dc, pages[k].gz, pages[k].gzlen, out,
                                               pages[k].len, &got) != LIBDEFLATE_SUCCESS
                    || got != pages[k].len)
                    die("libdeflate of %s failed", pages[k].path);
            }
        double libdeflate_cpu = cpu_now() - d0;
        libdeflate_free_decompressor(dc);
        free(out);
        printf(", \"gzip_bytes\": %zu, \"inflate_cpu_s\": %.6f, \"libdeflate_cpu_s\": %.6f",
               gzbytes, inflate_cpu, libdeflate_cpu);
    }
    printf("}\n");

    for (size_t k = 0; k < npages; k++) {
        free(pages[k].path);
        free(pages[k].data);
        free(pages[k].gz);
    }
    free(pages);
    return 0;
}
