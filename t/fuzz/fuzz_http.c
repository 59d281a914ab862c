/*
 * libFuzzer target: the HTTP request-line and header parsers, fed the
 * input in two pieces (at a split point taken from the first byte) to
 * exercise resumption, then the URI normaliser on what was parsed.
 * Run: make fuzz && objs/fuzz/fuzz_http t/fuzz/corpus/http
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_http.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static eg_int_t
eg_fuzz_parse(eg_http_request_t *r, eg_buf_t *b, eg_uint_t line)
{
    eg_int_t  rc;

    for ( ;; ) {
        rc = line ? eg_http_parse_request_line(r, b)
                  : eg_http_parse_header_line(r, b, 0);

        if (rc != EG_OK || line) {
            return rc;
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char             *copy;
    size_t              split;
    eg_int_t            rc;
    eg_buf_t            b;
    eg_uint_t           line;
    eg_http_request_t   r;

    if (size < 1) {
        return 0;
    }

    split = data[0] % (size);
    data++;
    size--;

    copy = malloc(size + 1);
    if (copy == NULL) {
        return 0;
    }

    memcpy(copy, data, size);

    eg_memzero(&r, sizeof(eg_http_request_t));

    b.start = copy;
    b.pos = copy;
    b.last = copy + eg_min(split, size);
    b.end = copy + size;

    line = 1;

    for ( ;; ) {
        rc = eg_fuzz_parse(&r, &b, line);

        if (rc == EG_AGAIN) {
            if (b.last == b.end) {
                break;
            }

            b.last = b.end;
            continue;
        }

        if (line && rc == EG_OK) {
            line = 0;
            continue;
        }

        break;
    }

    if (r.uri_start && r.uri_end && r.uri_end >= r.uri_start) {
        r.uri.len = (size_t) (r.uri_end - r.uri_start);
        r.uri.data = malloc(r.uri.len + 1);

        if (r.uri.data) {
            memcpy(r.uri.data, r.uri_start, r.uri.len);
            (void) eg_http_normalize_uri(&r);
            free(r.uri.data);
        }
    }

    free(copy);

    return 0;
}
