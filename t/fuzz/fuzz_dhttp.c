/*
 * libFuzzer target: the discovery HTTP client's response parser
 * (src/discovery/eg_discovery_http_parse.c), which reads what API servers
 * and the EC2 metadata service send.  The first byte of the input chooses
 * max_body and how the rest is cut into reads; then the server "closes".
 * Whatever the input, nothing may crash or leak, and a complete answer
 * has a status of 100 to 599, a body no longer than max_body ending in a
 * NUL, and lowercase header names.
 * Run: make fuzz && objs/fuzz/fuzz_dhttp t/fuzz/corpus/dhttp
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_discovery.h>
#include <eg_discovery_http_int.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static eg_log_t  eg_fuzz_log;


static void
eg_fuzz_check(eg_dhttp_parser_t *p)
{
    size_t        j;
    eg_uint_t     i;
    eg_keyval_t  *kv;

    if (p->res.status < 100 || p->res.status > 599
        || p->res.body.len > p->max_body
        || p->res.body.data[p->res.body.len] != '\0')
    {
        abort();
    }

    kv = p->res.headers->elts;

    for (i = 0; i < p->res.headers->nelts; i++) {
        for (j = 0; j < kv[i].key.len; j++) {
            if (kv[i].key.data[j] >= 'A' && kv[i].key.data[j] <= 'Z') {
                abort();
            }
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char             *copy;
    size_t              step, max_body, off, n;
    eg_int_t            rc;
    eg_pool_t          *pool;
    eg_dhttp_parser_t   p;

    if (size < 1) {
        return 0;
    }

    /* low bits: the size of the reads; high bits: a small max_body */

    step = (size_t) (data[0] & 0x0f) + 1;
    max_body = (data[0] & 0x80) ? (size_t) (data[0] & 0x70) : 0;

    data++;
    size--;

    pool = eg_create_pool(4096, &eg_fuzz_log);
    if (pool == NULL) {
        return 0;
    }

    if (eg_dhttp__parser_init(&p, pool, max_body, 0) != EG_OK) {
        eg_destroy_pool(pool);
        return 0;
    }

    rc = EG_AGAIN;

    for (off = 0; off < size && rc == EG_AGAIN; off += n) {
        n = eg_min(step, size - off);

        /* each read in memory of its own, as recv() would fill */

        copy = malloc(n);
        if (copy == NULL) {
            break;
        }

        memcpy(copy, data + off, n);
        rc = eg_dhttp__parse(&p, copy, n);
        free(copy);
    }

    if (rc == EG_AGAIN) {
        rc = eg_dhttp__parse_eof(&p);
    }

    if (rc == EG_OK) {
        eg_fuzz_check(&p);
    }

    eg_destroy_pool(pool);

    return 0;
}
