/*
 * The HTTP/1.x parsers: the request line and header lines (strict where
 * laxness smuggles requests, lenient about bare LF and leading empty
 * lines, and indifferent to how the bytes are split between reads), the
 * URI normaliser, and the Connection and Accept-Encoding value parsers.
 *
 * Each test's bytes live in malloc()ed memory of exactly their length,
 * so that the sanitizer build catches a parser that reads outside them.
 */

#include <eg_unit.h>
#include <eg_http.h>


static eg_http_request_t   r;
static eg_buf_t            b;
static u_char             *mem;         /* the bytes under test */


typedef struct {
    eg_int_t               rc;
    size_t                 pos;         /* b.pos after the call */
    eg_uint_t              invalid;
    eg_uint_t              lowcase_index;
    u_char                 lowcase[32];
    eg_str_t               name;        /* in mem */
    eg_str_t               value;       /* in mem */
} eg_unit_header_t;


#define EG_UNIT_HEADERS  16


static void
eg_unit_http_setup(void)
{
    eg_memzero(&r, sizeof(eg_http_request_t));
    eg_memzero(&b, sizeof(eg_buf_t));
    mem = NULL;
}


static void
eg_unit_http_teardown(void)
{
    free(mem);
    mem = NULL;
}


/* a fresh request and a buffer over a copy of the bytes */
static void
eg_unit_load(const char *text, size_t len)
{
    free(mem);

    mem = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(mem);

    if (len) {
        eg_memcpy(mem, text, len);
    }

    eg_memzero(&r, sizeof(eg_http_request_t));

    b.start = mem;
    b.pos = mem;
    b.last = mem + len;
    b.end = mem + len;
}


static eg_int_t
eg_unit_line_n(const char *text, size_t len)
{
    eg_unit_load(text, len);

    return eg_http_parse_request_line(&r, &b);
}


static eg_int_t
eg_unit_line(const char *text)
{
    return eg_unit_line_n(text, strlen(text));
}


/* feeds what is between bb->pos and bb->last one more byte per call */
static eg_int_t
eg_unit_line_bytewise(eg_http_request_t *rq, eg_buf_t *bb)
{
    u_char    *end;
    eg_int_t   rc;

    end = bb->last;
    bb->last = bb->pos;
    rc = EG_AGAIN;

    while (rc == EG_AGAIN && bb->last < end) {
        bb->last++;
        rc = eg_http_parse_request_line(rq, bb);

        eg_unit_require(rc != EG_AGAIN || bb->pos == bb->last,
                        "EG_AGAIN left bytes unconsumed");
    }

    return rc;
}


static eg_int_t
eg_unit_header_n(const char *text, size_t len, eg_uint_t allow_underscores)
{
    eg_unit_load(text, len);

    return eg_http_parse_header_line(&r, &b, allow_underscores);
}


static eg_int_t
eg_unit_header(const char *text, eg_uint_t allow_underscores)
{
    return eg_unit_header_n(text, strlen(text), allow_underscores);
}


static eg_str_t
eg_unit_span(u_char *start, u_char *end)
{
    eg_str_t  s;

    if (start == NULL || end == NULL || end < start) {
        s.data = NULL;
        s.len = (size_t) -1;
        return s;
    }

    s.data = start;
    s.len = (size_t) (end - start);

    return s;
}


/* the header the parser just finished, as the caller would take it */
static void
eg_unit_take_header(eg_unit_header_t *h, eg_int_t rc)
{
    eg_memzero(h, sizeof(eg_unit_header_t));

    h->rc = rc;
    h->pos = (size_t) (b.pos - mem);

    if (rc != EG_OK) {
        return;
    }

    h->invalid = r.invalid_header;
    h->lowcase_index = r.lowcase_index;
    eg_memcpy(h->lowcase, r.lowcase_header, sizeof(h->lowcase));
    h->name = eg_unit_span(r.header_name_start, r.header_name_end);
    h->value = eg_unit_span(r.header_start, r.header_end);
}


/*
 * Parses header lines from the buffer until the end of the headers or
 * an error, fed whole or a byte at a time; returns how many were taken.
 */
static eg_uint_t
eg_unit_headers(eg_unit_header_t *h, eg_uint_t bytewise)
{
    u_char     *end;
    eg_int_t    rc;
    eg_uint_t   n;

    end = b.last;

    if (bytewise) {
        b.last = b.pos;
    }

    for (n = 0; n < EG_UNIT_HEADERS; n++) {

        for ( ;; ) {
            if (bytewise && b.last < end) {
                b.last++;
            }

            rc = eg_http_parse_header_line(&r, &b, 0);

            if (rc != EG_AGAIN || b.last == end) {
                break;
            }
        }

        eg_unit_take_header(&h[n], rc);

        if (rc != EG_OK) {
            return n + 1;
        }
    }

    return n;
}


static eg_int_t
eg_unit_normalize(const char *text)
{
    eg_unit_load(text, strlen(text));

    r.uri.data = mem;
    r.uri.len = strlen(text);

    return eg_http_normalize_uri(&r);
}


static eg_int_t
eg_unit_connection(const char *text)
{
    eg_str_t  v;

    v.data = (u_char *) text;
    v.len = strlen(text);

    return eg_http_parse_connection(&v);
}


static eg_uint_t
eg_unit_accepts(const char *text, const char *coding)
{
    eg_str_t  v;

    v.data = (u_char *) text;
    v.len = strlen(text);

    return eg_http_parse_accept_encoding(&v, coding);
}


/* the request line: methods */

START_TEST(known_methods_are_recognised)
{
    static const struct {
        const char  *line;
        eg_uint_t    method;
    } known[] = {
        { "GET / HTTP/1.1\r\n",     EG_HTTP_GET },
        { "HEAD / HTTP/1.1\r\n",    EG_HTTP_HEAD },
        { "POST / HTTP/1.1\r\n",    EG_HTTP_POST },
        { "PUT / HTTP/1.1\r\n",     EG_HTTP_PUT },
        { "DELETE / HTTP/1.1\r\n",  EG_HTTP_DELETE },
        { "OPTIONS / HTTP/1.1\r\n", EG_HTTP_OPTIONS },
        { "PATCH / HTTP/1.1\r\n",   EG_HTTP_PATCH },
        { "TRACE / HTTP/1.1\r\n",   EG_HTTP_TRACE },
        { "CONNECT / HTTP/1.1\r\n", EG_HTTP_CONNECT },
    };

    eg_uint_t  i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        ck_assert_int_eq(eg_unit_line(known[i].line), EG_OK);
        ck_assert_uint_eq(r.method, known[i].method);
        ck_assert_ptr_eq(r.request_start, mem);
        ck_assert_ptr_eq(r.method_end, (u_char *) strchr((char *) mem, ' '));
    }
}
END_TEST


START_TEST(unknown_method_of_valid_characters_is_accepted_as_unknown)
{
    ck_assert_int_eq(eg_unit_line("M-SEARCH * HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);    /* '*' is OPTIONS' */
    ck_assert_int_eq(eg_unit_line("M-SEARCH / HTTP/1.1\r\n"), EG_OK);
    ck_assert_uint_eq(r.method, EG_HTTP_UNKNOWN);

    ck_assert_int_eq(eg_unit_line("BASELINE_CONTROL / HTTP/1.1\r\n"), EG_OK);
    ck_assert_uint_eq(r.method, EG_HTTP_UNKNOWN);

    /* a prefix or extension of a known method is not that method */
    ck_assert_int_eq(eg_unit_line("GE / HTTP/1.1\r\n"), EG_OK);
    ck_assert_uint_eq(r.method, EG_HTTP_UNKNOWN);
    ck_assert_int_eq(eg_unit_line("GETS / HTTP/1.1\r\n"), EG_OK);
    ck_assert_uint_eq(r.method, EG_HTTP_UNKNOWN);
}
END_TEST


START_TEST(method_must_start_with_an_upper_case_letter)
{
    ck_assert_int_eq(eg_unit_line("get / HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_METHOD);
    ck_assert_int_eq(eg_unit_line("1GET / HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_METHOD);
    ck_assert_int_eq(eg_unit_line("-GET / HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_METHOD);
    ck_assert_int_eq(eg_unit_line(" GET / HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_METHOD);
    ck_assert_int_eq(eg_unit_line_n("\0GET / HTTP/1.1\r\n", 17),
                     EG_HTTP_PARSE_INVALID_METHOD);
}
END_TEST


START_TEST(method_with_other_characters_is_refused)
{
    ck_assert_int_eq(eg_unit_line("Get / HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_METHOD);
    ck_assert_int_eq(eg_unit_line("G3T / HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_METHOD);
    ck_assert_int_eq(eg_unit_line("GE.T / HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_METHOD);
    ck_assert_int_eq(eg_unit_line("GET\t/ HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_METHOD);
    ck_assert_int_eq(eg_unit_line("GET\r\n"),
                     EG_HTTP_PARSE_INVALID_METHOD);
    ck_assert_int_eq(eg_unit_line("GET\x80 / HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_METHOD);
    ck_assert_int_eq(eg_unit_line_n("G\0T / HTTP/1.1\r\n", 16),
                     EG_HTTP_PARSE_INVALID_METHOD);
}
END_TEST


START_TEST(method_of_32_characters_is_accepted)
{
    ck_assert_int_eq(eg_unit_line("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF / "
                                  "HTTP/1.1\r\n"),
                     EG_OK);
    ck_assert_uint_eq(r.method, EG_HTTP_UNKNOWN);
    ck_assert_int_eq(r.method_end - r.request_start, 32);
}
END_TEST


START_TEST(method_longer_than_32_characters_is_refused)
{
    ck_assert_int_eq(eg_unit_line("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG / "
                                  "HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_METHOD);

    /* refused as soon as it is too long: no need to wait for the space */
    ck_assert_int_eq(eg_unit_line("GGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGG"
                                  "GGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGG"),
                     EG_HTTP_PARSE_INVALID_METHOD);
}
END_TEST


/* the request line: the request target */

START_TEST(origin_form_with_args_is_split_at_the_question_mark)
{
    ck_assert_int_eq(eg_unit_line("GET /status/members?format=json&x=1 "
                                  "HTTP/1.1\r\n"),
                     EG_OK);

    ck_assert_ptr_eq(r.uri_start, mem + 4);
    ck_assert_ptr_eq(r.uri_end, mem + 35);
    ck_assert_ptr_eq(r.args_start, mem + 20);
    ck_assert_int_eq(memcmp(r.args_start, "format=json&x=1", 15), 0);
    ck_assert_ptr_null(r.schema_start);
    ck_assert_ptr_null(r.host_start);
    ck_assert_ptr_eq(r.http_start, mem + 36);
    ck_assert_ptr_eq(r.request_end, mem + 44);
    ck_assert_ptr_eq(b.pos, b.last);
    ck_assert_uint_eq(r.http_major, 1);
    ck_assert_uint_eq(r.http_minor, 1);
    ck_assert_uint_eq(r.http_version, EG_HTTP_VERSION_11);
    ck_assert_uint_eq(r.state, 0);
}
END_TEST


START_TEST(only_the_first_question_mark_starts_the_args)
{
    ck_assert_int_eq(eg_unit_line("GET /a?b?c HTTP/1.0\r\n"), EG_OK);

    ck_assert_ptr_eq(r.args_start, mem + 7);
    ck_assert_uint_eq(r.http_version, EG_HTTP_VERSION_10);
}
END_TEST


START_TEST(absolute_form_with_a_path_gives_schema_host_and_uri)
{
    ck_assert_int_eq(eg_unit_line("GET http://example.com:8080/a/b?x=y "
                                  "HTTP/1.1\r\n"),
                     EG_OK);

    ck_assert_ptr_eq(r.schema_start, mem + 4);
    ck_assert_ptr_eq(r.schema_end, mem + 8);
    ck_assert_ptr_eq(r.host_start, mem + 11);
    ck_assert_ptr_eq(r.host_end, mem + 27);
    ck_assert_int_eq(memcmp(r.host_start, "example.com:8080", 16), 0);
    ck_assert_ptr_eq(r.uri_start, mem + 27);
    ck_assert_ptr_eq(r.uri_end, mem + 35);
    ck_assert_ptr_eq(r.args_start, mem + 32);
}
END_TEST


START_TEST(absolute_form_without_a_path_has_no_uri)
{
    ck_assert_int_eq(eg_unit_line("GET https://[::1]:443 HTTP/1.1\r\n"),
                     EG_OK);

    ck_assert_int_eq(memcmp(r.schema_start, "https", 5), 0);
    ck_assert_ptr_eq(r.schema_end, mem + 9);
    ck_assert_ptr_eq(r.host_start, mem + 12);
    ck_assert_ptr_eq(r.host_end, mem + 21);
    ck_assert_ptr_null(r.uri_start);
    ck_assert_ptr_null(r.uri_end);
    ck_assert_ptr_eq(r.http_start, mem + 22);
    ck_assert_uint_eq(r.http_version, EG_HTTP_VERSION_11);
}
END_TEST


START_TEST(schema_may_hold_digits_plus_minus_and_dot)
{
    ck_assert_int_eq(eg_unit_line("GET coap+tcp-1.0://h/ HTTP/1.1\r\n"),
                     EG_OK);
    ck_assert_ptr_eq(r.schema_end, mem + 16);
}
END_TEST


START_TEST(asterisk_form_is_accepted_for_options)
{
    ck_assert_int_eq(eg_unit_line("OPTIONS * HTTP/1.1\r\n"), EG_OK);

    ck_assert_uint_eq(r.method, EG_HTTP_OPTIONS);
    ck_assert_ptr_eq(r.uri_start, mem + 8);
    ck_assert_ptr_eq(r.uri_end, mem + 9);
}
END_TEST


START_TEST(asterisk_form_is_refused_for_other_methods)
{
    ck_assert_int_eq(eg_unit_line("GET * HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("OPTION * HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
}
END_TEST


START_TEST(request_target_must_start_with_slash_letter_or_asterisk)
{
    ck_assert_int_eq(eg_unit_line("GET ?a HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET .. HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET 1http://h/ HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET \\a HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET \r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
}
END_TEST


START_TEST(one_space_only_separates_method_and_target)
{
    ck_assert_int_eq(eg_unit_line("GET  / HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET\t/ HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_METHOD);
}
END_TEST


START_TEST(control_characters_in_the_uri_are_refused)
{
    ck_assert_int_eq(eg_unit_line("GET /a\tb HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET /a\x01 HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET /a\x1f HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line_n("GET /a\0b HTTP/1.1\r\n", 19),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET /a?x=\x7f HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
}
END_TEST


START_TEST(del_in_the_uri_is_refused)
{
    ck_assert_int_eq(eg_unit_line("GET /a\x7f HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
}
END_TEST


START_TEST(space_inside_the_uri_is_refused)
{
    ck_assert_int_eq(eg_unit_line("GET /a b HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET /a?x=1 2 HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
}
END_TEST


START_TEST(line_end_inside_the_uri_is_refused)
{
    /* HTTP/0.9 "GET /" is not served */
    ck_assert_int_eq(eg_unit_line("GET /\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET /\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
}
END_TEST


START_TEST(utf8_bytes_in_the_uri_are_accepted)
{
    ck_assert_int_eq(eg_unit_line("GET /caf\xc3\xa9 HTTP/1.1\r\n"), EG_OK);
    ck_assert_ptr_eq(r.uri_end, mem + 10);
}
END_TEST


START_TEST(bad_schema_in_the_absolute_form_is_refused)
{
    ck_assert_int_eq(eg_unit_line("GET ht_tp://h/ HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET http//h/ HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET http:h/ HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET http:/h/ HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET http HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
}
END_TEST


START_TEST(bad_host_in_the_absolute_form_is_refused)
{
    ck_assert_int_eq(eg_unit_line("GET http://a<b/ HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET http://a@b/ HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET http://a\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET http://a b/ HTTP/1.1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
}
END_TEST


/* the request line: flags */

START_TEST(plain_path_sets_no_flags)
{
    ck_assert_int_eq(eg_unit_line("GET /status/members-1_x~ HTTP/1.1\r\n"),
                     EG_OK);
    ck_assert_uint_eq(r.complex_uri, 0);
    ck_assert_uint_eq(r.quoted_uri, 0);
}
END_TEST


START_TEST(percent_in_the_path_sets_quoted_uri)
{
    ck_assert_int_eq(eg_unit_line("GET /a%20b HTTP/1.1\r\n"), EG_OK);
    ck_assert_uint_eq(r.quoted_uri, 1);
    ck_assert_uint_eq(r.complex_uri, 0);
}
END_TEST


START_TEST(dot_hash_backslash_and_double_slash_set_complex_uri)
{
    static const char  *lines[] = {
        "GET /a/./b HTTP/1.1\r\n",
        "GET /a/../b HTTP/1.1\r\n",
        "GET /index.html HTTP/1.1\r\n",
        "GET /a#frag HTTP/1.1\r\n",
        "GET /a\\b HTTP/1.1\r\n",
        "GET /a//b HTTP/1.1\r\n",
        "GET //a HTTP/1.1\r\n",
        "GET http://h//a HTTP/1.1\r\n",
    };

    eg_uint_t  i;

    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        ck_assert_int_eq(eg_unit_line(lines[i]), EG_OK);
        ck_assert_msg(r.complex_uri, "complex_uri not set by \"%s\"",
                      lines[i]);
        ck_assert_uint_eq(r.quoted_uri, 0);
    }
}
END_TEST


START_TEST(characters_in_the_args_set_no_flags)
{
    ck_assert_int_eq(eg_unit_line("GET /a?b=../c%20//d\\#e HTTP/1.1\r\n"),
                     EG_OK);
    ck_assert_uint_eq(r.complex_uri, 0);
    ck_assert_uint_eq(r.quoted_uri, 0);
}
END_TEST


START_TEST(single_slash_after_the_host_is_not_complex)
{
    ck_assert_int_eq(eg_unit_line("GET http://h/a HTTP/1.1\r\n"), EG_OK);
    ck_assert_uint_eq(r.complex_uri, 0);
}
END_TEST


/* the request line: the version */

START_TEST(http_1_0_and_1_1_are_accepted)
{
    ck_assert_int_eq(eg_unit_line("GET / HTTP/1.0\r\n"), EG_OK);
    ck_assert_uint_eq(r.http_version, EG_HTTP_VERSION_10);

    ck_assert_int_eq(eg_unit_line("GET / HTTP/1.1\r\n"), EG_OK);
    ck_assert_uint_eq(r.http_version, EG_HTTP_VERSION_11);
}
END_TEST


START_TEST(later_minor_version_of_http_1_is_accepted)
{
    ck_assert_int_eq(eg_unit_line("GET / HTTP/1.23\r\n"), EG_OK);
    ck_assert_uint_eq(r.http_minor, 23);
    ck_assert_uint_eq(r.http_version, 1023);
}
END_TEST


START_TEST(major_version_above_1_is_an_invalid_version)
{
    ck_assert_int_eq(eg_unit_line("GET / HTTP/2.0\r\n"),
                     EG_HTTP_PARSE_INVALID_VERSION);
    ck_assert_uint_eq(r.http_major, 2);
    ck_assert_ptr_eq(b.pos, b.last);

    ck_assert_int_eq(eg_unit_line("GET / HTTP/3.0\n"),
                     EG_HTTP_PARSE_INVALID_VERSION);
    ck_assert_int_eq(eg_unit_line("GET / HTTP/10.1\r\n"),
                     EG_HTTP_PARSE_INVALID_VERSION);
    ck_assert_uint_eq(r.http_major, 10);
    ck_assert_int_eq(eg_unit_line("GET / HTTP/99.9\r\n"),
                     EG_HTTP_PARSE_INVALID_VERSION);
}
END_TEST


START_TEST(malformed_http_name_is_refused)
{
    static const char  *lines[] = {
        "GET / http/1.1\r\n",
        "GET / XTTP/1.1\r\n",
        "GET / HXTP/1.1\r\n",
        "GET / HTXP/1.1\r\n",
        "GET / HTTX/1.1\r\n",
        "GET / HTTP 1.1\r\n",
        "GET / HTTP\\1.1\r\n",
        "GET / HTTP\r\n",
    };

    eg_uint_t  i;

    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        ck_assert_msg(eg_unit_line(lines[i]) == EG_HTTP_PARSE_INVALID_REQUEST,
                      "\"%s\" was not refused", lines[i]);
    }
}
END_TEST


START_TEST(malformed_version_numbers_are_refused)
{
    static const char  *lines[] = {
        "GET / HTTP/\r\n",
        "GET / HTTP/0.9\r\n",
        "GET / HTTP/01.1\r\n",
        "GET / HTTP/1\r\n",
        "GET / HTTP/1\n",
        "GET / HTTP/1.\r\n",
        "GET / HTTP/1.\n",
        "GET / HTTP/1.x\r\n",
        "GET / HTTP/x.1\r\n",
        "GET / HTTP/1,1\r\n",
        "GET / HTTP/1.1x\r\n",
        "GET / HTTP/-1.1\r\n",
        "GET / HTTP/100.0\r\n",
        "GET / HTTP/1.1000\r\n",
        "GET / HTTP/1 .1\r\n",
        "GET / HTTP/1. 1\r\n",
    };

    eg_uint_t  i;

    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        ck_assert_msg(eg_unit_line(lines[i]) == EG_HTTP_PARSE_INVALID_REQUEST,
                      "\"%s\" was not refused", lines[i]);
    }
}
END_TEST


START_TEST(spaces_around_the_version_are_tolerated)
{
    ck_assert_int_eq(eg_unit_line("GET /a   HTTP/1.1  \r\n"), EG_OK);
    ck_assert_ptr_eq(r.uri_end, mem + 6);
    ck_assert_ptr_eq(r.http_start, mem + 9);
    ck_assert_uint_eq(r.http_version, EG_HTTP_VERSION_11);
    ck_assert_ptr_eq(r.request_end, mem + 19);
}
END_TEST


START_TEST(characters_after_the_version_and_spaces_are_refused)
{
    /* not "HTTP/1.11" */
    ck_assert_int_eq(eg_unit_line("GET / HTTP/1.1 1\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET / HTTP/1.0 0\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET / HTTP/1.1 x\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
}
END_TEST


/* the request line: line ends */

START_TEST(cr_not_followed_by_lf_is_refused)
{
    ck_assert_int_eq(eg_unit_line("GET / HTTP/1.1\rX"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET / HTTP/1.1\r\r\n"),
                     EG_HTTP_PARSE_INVALID_REQUEST);
    ck_assert_int_eq(eg_unit_line("GET / HTTP/1.1 \r "),
                     EG_HTTP_PARSE_INVALID_REQUEST);
}
END_TEST


START_TEST(bare_lf_ends_the_request_line)
{
    ck_assert_int_eq(eg_unit_line("GET /a HTTP/1.1\nHost: h\n"), EG_OK);

    ck_assert_ptr_eq(r.request_end, mem + 15);
    ck_assert_ptr_eq(b.pos, mem + 16);
    ck_assert_uint_eq(r.http_version, EG_HTTP_VERSION_11);
}
END_TEST


START_TEST(crlf_ends_the_request_line_at_the_cr)
{
    ck_assert_int_eq(eg_unit_line("GET /a HTTP/1.1\r\nHost: h\r\n"), EG_OK);

    ck_assert_ptr_eq(r.request_end, mem + 15);
    ck_assert_ptr_eq(b.pos, mem + 17);
}
END_TEST


START_TEST(leading_empty_lines_are_skipped)
{
    ck_assert_int_eq(eg_unit_line("\r\n\n\r\nGET / HTTP/1.1\r\n"), EG_OK);

    ck_assert_ptr_eq(r.request_start, mem + 5);
    ck_assert_uint_eq(r.method, EG_HTTP_GET);
    ck_assert_ptr_eq(b.pos, b.last);
}
END_TEST


START_TEST(empty_lines_alone_need_more_bytes)
{
    ck_assert_int_eq(eg_unit_line("\r\n\r\n"), EG_AGAIN);
    ck_assert_ptr_eq(b.pos, b.last);
    ck_assert_ptr_null(r.request_start);
}
END_TEST


START_TEST(incomplete_line_needs_more_bytes)
{
    ck_assert_int_eq(eg_unit_line("GET /a HTTP/1.1\r"), EG_AGAIN);
    ck_assert_ptr_eq(b.pos, b.last);
    ck_assert_uint_ne(r.state, 0);

    b.last = b.end;     /* nothing more: still incomplete */
    ck_assert_int_eq(eg_http_parse_request_line(&r, &b), EG_AGAIN);
}
END_TEST


START_TEST(request_line_stops_after_its_lf)
{
    ck_assert_int_eq(eg_unit_line("GET / HTTP/1.1\r\nGET /b HTTP/1.1\r\n"),
                     EG_OK);
    ck_assert_ptr_eq(b.pos, mem + 16);

    /* a pipelined second request parses from there */
    eg_memzero(&r, sizeof(eg_http_request_t));
    ck_assert_int_eq(eg_http_parse_request_line(&r, &b), EG_OK);
    ck_assert_ptr_eq(r.uri_start, mem + 20);
    ck_assert_ptr_eq(b.pos, b.last);
}
END_TEST


/* the request line: incremental */

static const char  *eg_unit_lines[] = {
    "GET /status/members?format=json HTTP/1.1\r\n",
    "GET http://example.com:8080/a//b/../c%41?x#y HTTP/1.1\r\n",
    "GET http://example.com HTTP/1.0\r\n",
    "OPTIONS * HTTP/1.1\r\n",
    "\r\n\n\r\nHEAD /a\\b  HTTP/1.1   \r\n",
    "DELETE /x HTTP/1.1\n",
    "GET / HTTP/2.0\r\n",
    "GET /a\x7f HTTP/1.1\r\n",
    "GET / HTTP/1.1\rX",
    "get / HTTP/1.1\r\n",
    "GET / HTTP/1.1 1\r\n",
};


START_TEST(bytewise_request_line_gives_the_same_result)
{
    const char         *text;
    eg_int_t            whole, bytewise;
    eg_buf_t            b2;
    eg_http_request_t   r2;

    text = eg_unit_lines[_i];

    whole = eg_unit_line(text);

    eg_memzero(&r2, sizeof(eg_http_request_t));
    b2.start = mem;
    b2.pos = mem;
    b2.last = mem + strlen(text);
    b2.end = b2.last;

    bytewise = eg_unit_line_bytewise(&r2, &b2);

    ck_assert_int_eq(bytewise, whole);

    if (whole != EG_OK && whole != EG_HTTP_PARSE_INVALID_VERSION) {
        return;     /* an error leaves the state where it stopped */
    }

    ck_assert_ptr_eq(b2.pos, b.pos);
    ck_assert_uint_eq(r2.state, r.state);
    ck_assert_uint_eq(r2.method, r.method);
    ck_assert_uint_eq(r2.http_major, r.http_major);
    ck_assert_uint_eq(r2.http_minor, r.http_minor);
    ck_assert_uint_eq(r2.http_version, r.http_version);
    ck_assert_ptr_eq(r2.request_start, r.request_start);
    ck_assert_ptr_eq(r2.request_end, r.request_end);
    ck_assert_ptr_eq(r2.method_end, r.method_end);
    ck_assert_ptr_eq(r2.schema_start, r.schema_start);
    ck_assert_ptr_eq(r2.schema_end, r.schema_end);
    ck_assert_ptr_eq(r2.host_start, r.host_start);
    ck_assert_ptr_eq(r2.host_end, r.host_end);
    ck_assert_ptr_eq(r2.uri_start, r.uri_start);
    ck_assert_ptr_eq(r2.uri_end, r.uri_end);
    ck_assert_ptr_eq(r2.args_start, r.args_start);
    ck_assert_ptr_eq(r2.http_start, r.http_start);
    ck_assert_uint_eq(r2.complex_uri, r.complex_uri);
    ck_assert_uint_eq(r2.quoted_uri, r.quoted_uri);
}
END_TEST


START_TEST(request_line_split_anywhere_gives_the_same_result)
{
    const char         *text;
    size_t              len, split;
    eg_int_t            whole, rc;
    eg_buf_t            b2;
    eg_http_request_t   r2;

    text = "GET http://h:1/a/./b%20c?q=1 HTTP/1.1\r\n";
    len = strlen(text);

    whole = eg_unit_line(text);
    ck_assert_int_eq(whole, EG_OK);

    for (split = 0; split <= len; split++) {
        eg_memzero(&r2, sizeof(eg_http_request_t));
        b2.start = mem;
        b2.pos = mem;
        b2.last = mem + split;
        b2.end = mem + len;

        rc = eg_http_parse_request_line(&r2, &b2);

        if (rc == EG_AGAIN) {
            b2.last = b2.end;
            rc = eg_http_parse_request_line(&r2, &b2);
        }

        eg_unit_require(rc == EG_OK, "split at %zu: rc %d", split, (int) rc);
        eg_unit_require(b2.pos == b.pos && r2.uri_start == r.uri_start
                        && r2.uri_end == r.uri_end
                        && r2.args_start == r.args_start
                        && r2.host_end == r.host_end
                        && r2.request_end == r.request_end
                        && r2.complex_uri == r.complex_uri
                        && r2.quoted_uri == r.quoted_uri
                        && r2.http_version == r.http_version,
                        "split at %zu differs", split);
    }
}
END_TEST


/* header lines */

START_TEST(header_name_and_value_are_extracted)
{
    ck_assert_int_eq(eg_unit_header("Host: example.com\r\n", 0), EG_OK);

    ck_assert_ptr_eq(r.header_name_start, mem);
    ck_assert_ptr_eq(r.header_name_end, mem + 4);
    ck_assert_ptr_eq(r.header_start, mem + 6);
    ck_assert_ptr_eq(r.header_end, mem + 17);
    ck_assert_uint_eq(r.invalid_header, 0);
    ck_assert_ptr_eq(b.pos, b.last);
    ck_assert_uint_eq(r.state, 0);
}
END_TEST


START_TEST(whitespace_around_the_value_is_trimmed)
{
    eg_unit_header_t  h;

    ck_assert_int_eq(eg_unit_header("X-A: \t  a b\tc \t \r\n", 0), EG_OK);
    eg_unit_take_header(&h, EG_OK);

    eg_unit_assert_str_eq(&h.name, "X-A");
    eg_unit_assert_str_eq(&h.value, "a b\tc");
}
END_TEST


START_TEST(value_without_whitespace_after_the_colon_is_extracted)
{
    eg_unit_header_t  h;

    ck_assert_int_eq(eg_unit_header("Host:h:8080\r\n", 0), EG_OK);
    eg_unit_take_header(&h, EG_OK);

    eg_unit_assert_str_eq(&h.name, "Host");
    eg_unit_assert_str_eq(&h.value, "h:8080");
}
END_TEST


START_TEST(name_is_lower_cased_with_its_length)
{
    ck_assert_int_eq(eg_unit_header("X-Forwarded-FOR: 1.2.3.4\r\n", 0),
                     EG_OK);

    ck_assert_uint_eq(r.lowcase_index, 15);
    ck_assert_int_eq(memcmp(r.lowcase_header, "x-forwarded-for", 15), 0);
}
END_TEST


START_TEST(name_of_32_characters_keeps_its_lowcase_form)
{
    ck_assert_int_eq(eg_unit_header("ABCDEFGHIJKLMNOPQRSTUVWXYZ-ABCDE: v\r\n",
                                    0),
                     EG_OK);

    ck_assert_uint_eq(r.lowcase_index, 32);
    ck_assert_int_eq(memcmp(r.lowcase_header,
                            "abcdefghijklmnopqrstuvwxyz-abcde", 32), 0);
}
END_TEST


START_TEST(name_longer_than_32_characters_has_no_lowcase_form)
{
    ck_assert_int_eq(eg_unit_header("ABCDEFGHIJKLMNOPQRSTUVWXYZ-ABCDEF: v\r\n",
                                    0),
                     EG_OK);

    ck_assert_uint_eq(r.lowcase_index, 0);
    ck_assert_uint_eq(r.invalid_header, 0);
    ck_assert_ptr_eq(r.header_name_end, mem + 33);
}
END_TEST


START_TEST(empty_value_is_accepted)
{
    eg_unit_header_t  h;

    ck_assert_int_eq(eg_unit_header("X-Empty:\r\n", 0), EG_OK);
    eg_unit_take_header(&h, EG_OK);
    eg_unit_assert_str_eq(&h.name, "X-Empty");
    eg_unit_assert_str_eq(&h.value, "");

    ck_assert_int_eq(eg_unit_header("X-Empty: \t \r\n", 0), EG_OK);
    eg_unit_take_header(&h, EG_OK);
    eg_unit_assert_str_eq(&h.value, "");

    ck_assert_int_eq(eg_unit_header("X-Empty:\n", 0), EG_OK);
    eg_unit_take_header(&h, EG_OK);
    eg_unit_assert_str_eq(&h.value, "");
}
END_TEST


START_TEST(bare_lf_ends_a_header_line)
{
    eg_unit_header_t  h;

    ck_assert_int_eq(eg_unit_header("Host: h \nX: y\n", 0), EG_OK);
    eg_unit_take_header(&h, EG_OK);

    eg_unit_assert_str_eq(&h.value, "h");
    ck_assert_ptr_eq(b.pos, mem + 9);
}
END_TEST


START_TEST(obs_fold_is_refused)
{
    static const char  block[] = "X-A: a\r\n b\r\n\r\n";

    eg_uint_t         n;
    eg_unit_header_t  h[EG_UNIT_HEADERS];

    eg_unit_load(block, sizeof(block) - 1);
    n = eg_unit_headers(h, 0);

    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(h[0].rc, EG_OK);
    ck_assert_int_eq(h[1].rc, EG_HTTP_PARSE_INVALID_HEADER);

    ck_assert_int_eq(eg_unit_header("\tb\r\n", 0),
                     EG_HTTP_PARSE_INVALID_HEADER);
}
END_TEST


START_TEST(whitespace_before_the_colon_is_refused)
{
    ck_assert_int_eq(eg_unit_header("Host : h\r\n", 0),
                     EG_HTTP_PARSE_INVALID_HEADER);
    ck_assert_int_eq(eg_unit_header("Host\t: h\r\n", 0),
                     EG_HTTP_PARSE_INVALID_HEADER);
    ck_assert_int_eq(eg_unit_header("Ho st: h\r\n", 0),
                     EG_HTTP_PARSE_INVALID_HEADER);
}
END_TEST


START_TEST(control_characters_in_the_name_are_refused)
{
    ck_assert_int_eq(eg_unit_header("Ho\x01st: h\r\n", 0),
                     EG_HTTP_PARSE_INVALID_HEADER);
    ck_assert_int_eq(eg_unit_header("Host\x7f: h\r\n", 0),
                     EG_HTTP_PARSE_INVALID_HEADER);
    ck_assert_int_eq(eg_unit_header("\x7fHost: h\r\n", 0),
                     EG_HTTP_PARSE_INVALID_HEADER);
    ck_assert_int_eq(eg_unit_header_n("Ho\0st: h\r\n", 10, 0),
                     EG_HTTP_PARSE_INVALID_HEADER);
    ck_assert_int_eq(eg_unit_header_n("\0Host: h\r\n", 10, 0),
                     EG_HTTP_PARSE_INVALID_HEADER);
    ck_assert_int_eq(eg_unit_header("Host\r\n", 0),
                     EG_HTTP_PARSE_INVALID_HEADER);
}
END_TEST


START_TEST(empty_name_is_refused)
{
    ck_assert_int_eq(eg_unit_header(": h\r\n", 0),
                     EG_HTTP_PARSE_INVALID_HEADER);
}
END_TEST


START_TEST(nul_in_the_value_is_refused)
{
    ck_assert_int_eq(eg_unit_header_n("X: a\0b\r\n", 8, 0),
                     EG_HTTP_PARSE_INVALID_HEADER);
    ck_assert_int_eq(eg_unit_header_n("X: \0\r\n", 6, 0),
                     EG_HTTP_PARSE_INVALID_HEADER);
    ck_assert_int_eq(eg_unit_header_n("X: a \0\r\n", 8, 0),
                     EG_HTTP_PARSE_INVALID_HEADER);
}
END_TEST


START_TEST(cr_not_followed_by_lf_in_a_header_is_refused)
{
    ck_assert_int_eq(eg_unit_header("X: a\rb\r\n", 0),
                     EG_HTTP_PARSE_INVALID_HEADER);
    ck_assert_int_eq(eg_unit_header("X:\rb\r\n", 0),
                     EG_HTTP_PARSE_INVALID_HEADER);
    ck_assert_int_eq(eg_unit_header("X: a \r \r\n", 0),
                     EG_HTTP_PARSE_INVALID_HEADER);
    ck_assert_int_eq(eg_unit_header("\rX: a\r\n", 0),
                     EG_HTTP_PARSE_INVALID_HEADER);
}
END_TEST


START_TEST(underscore_in_the_name_is_flagged_invalid)
{
    ck_assert_int_eq(eg_unit_header("X_Real_IP: 1.2.3.4\r\n", 0), EG_OK);
    ck_assert_uint_eq(r.invalid_header, 1);

    ck_assert_int_eq(eg_unit_header("_X: 1\r\n", 0), EG_OK);
    ck_assert_uint_eq(r.invalid_header, 1);
}
END_TEST


START_TEST(underscore_in_the_name_is_accepted_when_allowed)
{
    ck_assert_int_eq(eg_unit_header("X_Real_IP: 1.2.3.4\r\n", 1), EG_OK);

    ck_assert_uint_eq(r.invalid_header, 0);
    ck_assert_uint_eq(r.lowcase_index, 9);
    ck_assert_int_eq(memcmp(r.lowcase_header, "x_real_ip", 9), 0);

    ck_assert_int_eq(eg_unit_header("_X: 1\r\n", 1), EG_OK);
    ck_assert_uint_eq(r.invalid_header, 0);
}
END_TEST


START_TEST(other_non_token_characters_in_the_name_are_flagged_invalid)
{
    ck_assert_int_eq(eg_unit_header("X@Y: 1\r\n", 0), EG_OK);
    ck_assert_uint_eq(r.invalid_header, 1);

    ck_assert_int_eq(eg_unit_header("(X): 1\r\n", 0), EG_OK);
    ck_assert_uint_eq(r.invalid_header, 1);

    ck_assert_int_eq(eg_unit_header("X\xc3\xa9: 1\r\n", 0), EG_OK);
    ck_assert_uint_eq(r.invalid_header, 1);
}
END_TEST


START_TEST(invalid_flag_does_not_stick_to_the_next_header)
{
    static const char  block[] = "X_Y: 1\r\nX-Y: 2\r\n\r\n";

    eg_uint_t         n;
    eg_unit_header_t  h[EG_UNIT_HEADERS];

    eg_unit_load(block, sizeof(block) - 1);
    n = eg_unit_headers(h, 0);

    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(h[0].invalid, 1);
    ck_assert_uint_eq(h[1].invalid, 0);
    ck_assert_int_eq(h[2].rc, EG_HTTP_PARSE_HEADER_DONE);
}
END_TEST


START_TEST(crlf_alone_ends_the_headers)
{
    ck_assert_int_eq(eg_unit_header("\r\nbody", 0),
                     EG_HTTP_PARSE_HEADER_DONE);
    ck_assert_ptr_eq(b.pos, mem + 2);
    ck_assert_ptr_eq(r.header_end, mem);
    ck_assert_uint_eq(r.state, 0);
}
END_TEST


START_TEST(bare_lf_alone_ends_the_headers)
{
    ck_assert_int_eq(eg_unit_header("\nbody", 0), EG_HTTP_PARSE_HEADER_DONE);
    ck_assert_ptr_eq(b.pos, mem + 1);
    ck_assert_ptr_eq(r.header_end, mem);
}
END_TEST


START_TEST(incomplete_header_needs_more_bytes)
{
    ck_assert_int_eq(eg_unit_header("Host: exam", 0), EG_AGAIN);
    ck_assert_ptr_eq(b.pos, b.last);
    ck_assert_uint_ne(r.state, 0);

    ck_assert_int_eq(eg_unit_header("\r", 0), EG_AGAIN);
}
END_TEST


static const char  eg_unit_block[] =
    "Host:  example.com:8080 \r\n"
    "X-Forwarded-For:1.2.3.4, 5.6.7.8\r\n"
    "X_Bad: underscore\r\n"
    "Accept-Encoding: gzip;q=0.5 ,  br\n"
    "X-Empty:   \r\n"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ-ABCDEFGH: long name\r\n"
    "\r\n";


static void
eg_unit_check_block(eg_unit_header_t *h, eg_uint_t n)
{
    ck_assert_uint_eq(n, 7);

    ck_assert_int_eq(h[0].rc, EG_OK);
    eg_unit_assert_str_eq(&h[0].name, "Host");
    eg_unit_assert_str_eq(&h[0].value, "example.com:8080");
    ck_assert_uint_eq(h[0].lowcase_index, 4);
    ck_assert_int_eq(memcmp(h[0].lowcase, "host", 4), 0);

    eg_unit_assert_str_eq(&h[1].name, "X-Forwarded-For");
    eg_unit_assert_str_eq(&h[1].value, "1.2.3.4, 5.6.7.8");
    ck_assert_int_eq(memcmp(h[1].lowcase, "x-forwarded-for", 15), 0);

    ck_assert_uint_eq(h[2].invalid, 1);

    eg_unit_assert_str_eq(&h[3].name, "Accept-Encoding");
    eg_unit_assert_str_eq(&h[3].value, "gzip;q=0.5 ,  br");

    eg_unit_assert_str_eq(&h[4].name, "X-Empty");
    eg_unit_assert_str_eq(&h[4].value, "");

    eg_unit_assert_str_eq(&h[5].value, "long name");
    ck_assert_uint_eq(h[5].lowcase_index, 0);

    ck_assert_int_eq(h[6].rc, EG_HTTP_PARSE_HEADER_DONE);
    ck_assert_uint_eq(h[6].pos, sizeof(eg_unit_block) - 1);
}


START_TEST(header_block_fed_whole_is_parsed)
{
    eg_unit_header_t  h[EG_UNIT_HEADERS];

    eg_unit_load(eg_unit_block, sizeof(eg_unit_block) - 1);

    eg_unit_check_block(h, eg_unit_headers(h, 0));
}
END_TEST


START_TEST(header_block_fed_bytewise_gives_the_same_headers)
{
    eg_uint_t         n, i;
    eg_unit_header_t  whole[EG_UNIT_HEADERS], bytewise[EG_UNIT_HEADERS];

    eg_unit_load(eg_unit_block, sizeof(eg_unit_block) - 1);
    n = eg_unit_headers(whole, 0);

    eg_memzero(&r, sizeof(eg_http_request_t));
    b.pos = mem;
    b.last = b.end;

    ck_assert_uint_eq(eg_unit_headers(bytewise, 1), n);
    eg_unit_check_block(bytewise, n);

    for (i = 0; i < n; i++) {
        ck_assert_int_eq(bytewise[i].rc, whole[i].rc);
        ck_assert_uint_eq(bytewise[i].pos, whole[i].pos);
        ck_assert_uint_eq(bytewise[i].invalid, whole[i].invalid);
        ck_assert_uint_eq(bytewise[i].lowcase_index, whole[i].lowcase_index);
        ck_assert_int_eq(memcmp(bytewise[i].lowcase, whole[i].lowcase,
                                whole[i].lowcase_index), 0);
        ck_assert_ptr_eq(bytewise[i].name.data, whole[i].name.data);
        ck_assert_uint_eq(bytewise[i].name.len, whole[i].name.len);
        ck_assert_ptr_eq(bytewise[i].value.data, whole[i].value.data);
        ck_assert_uint_eq(bytewise[i].value.len, whole[i].value.len);
    }
}
END_TEST


START_TEST(bytewise_header_errors_are_the_same)
{
    static const char  block[] = "X: 1\r\nY : 2\r\n\r\n";

    eg_uint_t         n;
    eg_unit_header_t  whole[EG_UNIT_HEADERS], bytewise[EG_UNIT_HEADERS];

    eg_unit_load(block, sizeof(block) - 1);
    n = eg_unit_headers(whole, 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(whole[1].rc, EG_HTTP_PARSE_INVALID_HEADER);

    eg_memzero(&r, sizeof(eg_http_request_t));
    b.pos = mem;
    b.last = b.end;

    ck_assert_uint_eq(eg_unit_headers(bytewise, 1), n);
    ck_assert_int_eq(bytewise[1].rc, EG_HTTP_PARSE_INVALID_HEADER);
}
END_TEST


START_TEST(request_line_then_headers_parse_from_one_buffer)
{
    eg_uint_t         n;
    eg_unit_header_t  h[EG_UNIT_HEADERS];

    ck_assert_int_eq(eg_unit_line("GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
                     EG_OK);

    n = eg_unit_headers(h, 0);

    ck_assert_uint_eq(n, 2);
    eg_unit_assert_str_eq(&h[0].value, "h");
    ck_assert_int_eq(h[1].rc, EG_HTTP_PARSE_HEADER_DONE);
}
END_TEST


/* the URI normaliser */

START_TEST(plain_path_is_kept)
{
    ck_assert_int_eq(eg_unit_normalize("/status/members"), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/status/members");

    ck_assert_int_eq(eg_unit_normalize("/"), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/");
}
END_TEST


START_TEST(percent_escapes_are_decoded)
{
    ck_assert_int_eq(eg_unit_normalize("/a%20b%2Fc%7e%41"), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/a b/c~A");

    ck_assert_int_eq(eg_unit_normalize("/%c3%A9"), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/\xc3\xa9");
}
END_TEST


START_TEST(encoded_nul_is_refused)
{
    ck_assert_int_eq(eg_unit_normalize("/a%00b"), EG_ERROR);
    ck_assert_int_eq(eg_unit_normalize("/%00"), EG_ERROR);
}
END_TEST


START_TEST(bad_percent_escapes_are_refused)
{
    ck_assert_int_eq(eg_unit_normalize("/a%zz"), EG_ERROR);
    ck_assert_int_eq(eg_unit_normalize("/a%2g"), EG_ERROR);
    ck_assert_int_eq(eg_unit_normalize("/a%g2"), EG_ERROR);
    ck_assert_int_eq(eg_unit_normalize("/a% 2"), EG_ERROR);
    ck_assert_int_eq(eg_unit_normalize("/a%2"), EG_ERROR);
    ck_assert_int_eq(eg_unit_normalize("/a%"), EG_ERROR);
}
END_TEST


START_TEST(double_slashes_are_merged)
{
    ck_assert_int_eq(eg_unit_normalize("//a///b//"), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/a/b/");
}
END_TEST


START_TEST(dot_segments_are_removed)
{
    ck_assert_int_eq(eg_unit_normalize("/./a/./././b/."), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/a/b/");
}
END_TEST


START_TEST(dot_dot_segments_remove_the_previous_segment)
{
    ck_assert_int_eq(eg_unit_normalize("/a/b/../c"), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/a/c");

    ck_assert_int_eq(eg_unit_normalize("/a/b/c/../../d"), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/a/d");

    ck_assert_int_eq(eg_unit_normalize("/a/../b"), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/b");

    ck_assert_int_eq(eg_unit_normalize("/a//..//b"), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/b");
}
END_TEST


START_TEST(trailing_dot_segments_are_resolved)
{
    ck_assert_int_eq(eg_unit_normalize("/a/b/."), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/a/b/");

    ck_assert_int_eq(eg_unit_normalize("/a/b/.."), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/a/");

    ck_assert_int_eq(eg_unit_normalize("/a/.."), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/");

    ck_assert_int_eq(eg_unit_normalize("/."), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/");
}
END_TEST


START_TEST(dots_inside_a_segment_are_kept)
{
    ck_assert_int_eq(eg_unit_normalize("/a./..b/c../.../x.y"), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/a./..b/c../.../x.y");
}
END_TEST


START_TEST(encoded_dot_segments_are_resolved)
{
    ck_assert_int_eq(eg_unit_normalize("/a/%2e%2E/b/%2e"), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/b/");
}
END_TEST


START_TEST(going_above_the_root_is_refused)
{
    ck_assert_int_eq(eg_unit_normalize("/../a"), EG_ERROR);
    ck_assert_int_eq(eg_unit_normalize("/.."), EG_ERROR);
    ck_assert_int_eq(eg_unit_normalize("/a/../../b"), EG_ERROR);
    ck_assert_int_eq(eg_unit_normalize("/a/../.."), EG_ERROR);
    ck_assert_int_eq(eg_unit_normalize("/./../a"), EG_ERROR);
    ck_assert_int_eq(eg_unit_normalize("/%2e%2e/etc/passwd"), EG_ERROR);
    ck_assert_int_eq(eg_unit_normalize("/a/..%2f..%2fb"), EG_ERROR);
}
END_TEST


START_TEST(backslash_is_a_slash)
{
    ck_assert_int_eq(eg_unit_normalize("/a\\b\\..\\c"), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/a/c");

    ck_assert_int_eq(eg_unit_normalize("/a\\..\\..\\b"), EG_ERROR);
}
END_TEST


START_TEST(fragment_is_cut)
{
    ck_assert_int_eq(eg_unit_normalize("/a/b#c/../../.."), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/a/b");

    ck_assert_int_eq(eg_unit_normalize("/a/#"), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/a/");

    ck_assert_int_eq(eg_unit_normalize("/a/.#x"), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/a/");
}
END_TEST


START_TEST(encoded_hash_is_part_of_the_path)
{
    ck_assert_int_eq(eg_unit_normalize("/a%23b"), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/a#b");

    ck_assert_int_eq(eg_unit_normalize("/a%23/../b"), EG_OK);
    eg_unit_assert_str_eq(&r.uri, "/b");
}
END_TEST


START_TEST(path_not_starting_with_a_slash_is_refused)
{
    ck_assert_int_eq(eg_unit_normalize("a/b"), EG_ERROR);
    ck_assert_int_eq(eg_unit_normalize("ab/../c"), EG_ERROR);
    ck_assert_int_eq(eg_unit_normalize("a/.."), EG_ERROR);
    ck_assert_int_eq(eg_unit_normalize("*"), EG_ERROR);
    ck_assert_int_eq(eg_unit_normalize(""), EG_ERROR);
    ck_assert_int_eq(eg_unit_normalize("#/a"), EG_ERROR);
}
END_TEST


START_TEST(normalised_path_is_never_longer)
{
    static const char  *paths[] = {
        "/a%2F%2F%2Fb", "/////", "/%41%42%43", "/a/./b/../c/.", "/x%23y#z",
    };

    size_t     len;
    eg_uint_t  i;

    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        len = strlen(paths[i]);
        ck_assert_int_eq(eg_unit_normalize(paths[i]), EG_OK);
        ck_assert_uint_le(r.uri.len, len);
        ck_assert_ptr_eq(r.uri.data, mem);
    }
}
END_TEST


/* Connection */

START_TEST(connection_close_is_1)
{
    ck_assert_int_eq(eg_unit_connection("close"), 1);
}
END_TEST


START_TEST(connection_keep_alive_is_2)
{
    ck_assert_int_eq(eg_unit_connection("keep-alive"), 2);
}
END_TEST


START_TEST(connection_tokens_are_case_insensitive)
{
    ck_assert_int_eq(eg_unit_connection("Close"), 1);
    ck_assert_int_eq(eg_unit_connection("CLOSE"), 1);
    ck_assert_int_eq(eg_unit_connection("Keep-Alive"), 2);
    ck_assert_int_eq(eg_unit_connection("KEEP-ALIVE"), 2);
}
END_TEST


START_TEST(connection_close_wins_over_keep_alive)
{
    ck_assert_int_eq(eg_unit_connection("keep-alive, close"), 1);
    ck_assert_int_eq(eg_unit_connection("close, keep-alive"), 1);
    ck_assert_int_eq(eg_unit_connection("Keep-Alive,Upgrade,Close"), 1);
}
END_TEST


START_TEST(connection_list_is_searched_for_its_tokens)
{
    ck_assert_int_eq(eg_unit_connection("Upgrade, keep-alive"), 2);
    ck_assert_int_eq(eg_unit_connection(" ,\tkeep-alive ,, TE "), 2);
    ck_assert_int_eq(eg_unit_connection("TE,\tclose"), 1);
}
END_TEST


START_TEST(connection_without_known_tokens_is_0)
{
    ck_assert_int_eq(eg_unit_connection(""), 0);
    ck_assert_int_eq(eg_unit_connection(" , ,"), 0);
    ck_assert_int_eq(eg_unit_connection("Upgrade"), 0);
    ck_assert_int_eq(eg_unit_connection("closed"), 0);
    ck_assert_int_eq(eg_unit_connection("clos"), 0);
    ck_assert_int_eq(eg_unit_connection("keep-alives"), 0);
    ck_assert_int_eq(eg_unit_connection("keep alive"), 0);
}
END_TEST


/* Accept-Encoding */

START_TEST(listed_coding_is_accepted)
{
    ck_assert_uint_eq(eg_unit_accepts("gzip", "gzip"), 1);
    ck_assert_uint_eq(eg_unit_accepts("deflate, gzip, br", "gzip"), 1);
    ck_assert_uint_eq(eg_unit_accepts("gzip;q=1.0", "gzip"), 1);
}
END_TEST


START_TEST(unlisted_coding_is_refused)
{
    ck_assert_uint_eq(eg_unit_accepts("", "gzip"), 0);
    ck_assert_uint_eq(eg_unit_accepts("deflate, br", "gzip"), 0);
    ck_assert_uint_eq(eg_unit_accepts("x-gzip", "gzip"), 0);
    ck_assert_uint_eq(eg_unit_accepts("gzipped", "gzip"), 0);
    ck_assert_uint_eq(eg_unit_accepts("identity", "gzip"), 0);
}
END_TEST


START_TEST(coding_with_q_zero_is_refused)
{
    ck_assert_uint_eq(eg_unit_accepts("gzip;q=0", "gzip"), 0);
    ck_assert_uint_eq(eg_unit_accepts("gzip;q=0.0", "gzip"), 0);
    ck_assert_uint_eq(eg_unit_accepts("gzip;q=0.000", "gzip"), 0);
    ck_assert_uint_eq(eg_unit_accepts("br, gzip;q=0, deflate", "gzip"), 0);
}
END_TEST


START_TEST(coding_with_nonzero_q_is_accepted)
{
    ck_assert_uint_eq(eg_unit_accepts("gzip;q=0.5", "gzip"), 1);
    ck_assert_uint_eq(eg_unit_accepts("gzip;q=0.001", "gzip"), 1);
    ck_assert_uint_eq(eg_unit_accepts("gzip;q=1", "gzip"), 1);
    ck_assert_uint_eq(eg_unit_accepts("br;q=0, gzip;q=0.5", "gzip"), 1);
}
END_TEST


START_TEST(asterisk_accepts_any_coding)
{
    ck_assert_uint_eq(eg_unit_accepts("*", "gzip"), 1);
    ck_assert_uint_eq(eg_unit_accepts("br, *;q=0.1", "gzip"), 1);
}
END_TEST


START_TEST(asterisk_with_q_zero_accepts_nothing)
{
    ck_assert_uint_eq(eg_unit_accepts("*;q=0", "gzip"), 0);
    ck_assert_uint_eq(eg_unit_accepts("br, *;q=0", "gzip"), 0);
}
END_TEST


START_TEST(listed_coding_overrides_the_asterisk)
{
    ck_assert_uint_eq(eg_unit_accepts("*;q=0, gzip", "gzip"), 1);
    ck_assert_uint_eq(eg_unit_accepts("gzip;q=0, *", "gzip"), 0);
    ck_assert_uint_eq(eg_unit_accepts("*, gzip;q=0", "gzip"), 0);
}
END_TEST


START_TEST(coding_names_are_case_insensitive)
{
    ck_assert_uint_eq(eg_unit_accepts("GZIP", "gzip"), 1);
    ck_assert_uint_eq(eg_unit_accepts("GZip;Q=0", "gzip"), 0);
}
END_TEST


START_TEST(whitespace_around_codings_and_parameters_is_ignored)
{
    ck_assert_uint_eq(eg_unit_accepts("  br ,\tgzip  ", "gzip"), 1);
    ck_assert_uint_eq(eg_unit_accepts("gzip ; q = 0", "gzip"), 0);
    ck_assert_uint_eq(eg_unit_accepts("gzip ;\tq=0.5 , br", "gzip"), 1);
    ck_assert_uint_eq(eg_unit_accepts("br ;q=0,gzip", "gzip"), 1);
}
END_TEST


START_TEST(other_parameters_do_not_count_as_q)
{
    ck_assert_uint_eq(eg_unit_accepts("gzip;level=0", "gzip"), 1);
    ck_assert_uint_eq(eg_unit_accepts("gzip;x=1;q=0", "gzip"), 0);
}
END_TEST


Suite *
eg_unit_http_parse_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("http_parse");

    tc = tcase_create("method");
    tcase_add_checked_fixture(tc, eg_unit_http_setup, eg_unit_http_teardown);
    tcase_add_test(tc, known_methods_are_recognised);
    tcase_add_test(tc,
                   unknown_method_of_valid_characters_is_accepted_as_unknown);
    tcase_add_test(tc, method_must_start_with_an_upper_case_letter);
    tcase_add_test(tc, method_with_other_characters_is_refused);
    tcase_add_test(tc, method_of_32_characters_is_accepted);
    tcase_add_test(tc, method_longer_than_32_characters_is_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("target");
    tcase_add_checked_fixture(tc, eg_unit_http_setup, eg_unit_http_teardown);
    tcase_add_test(tc, origin_form_with_args_is_split_at_the_question_mark);
    tcase_add_test(tc, only_the_first_question_mark_starts_the_args);
    tcase_add_test(tc, absolute_form_with_a_path_gives_schema_host_and_uri);
    tcase_add_test(tc, absolute_form_without_a_path_has_no_uri);
    tcase_add_test(tc, schema_may_hold_digits_plus_minus_and_dot);
    tcase_add_test(tc, asterisk_form_is_accepted_for_options);
    tcase_add_test(tc, asterisk_form_is_refused_for_other_methods);
    tcase_add_test(tc, request_target_must_start_with_slash_letter_or_asterisk);
    tcase_add_test(tc, one_space_only_separates_method_and_target);
    tcase_add_test(tc, control_characters_in_the_uri_are_refused);
    tcase_add_test(tc, del_in_the_uri_is_refused);
    tcase_add_test(tc, space_inside_the_uri_is_refused);
    tcase_add_test(tc, line_end_inside_the_uri_is_refused);
    tcase_add_test(tc, utf8_bytes_in_the_uri_are_accepted);
    tcase_add_test(tc, bad_schema_in_the_absolute_form_is_refused);
    tcase_add_test(tc, bad_host_in_the_absolute_form_is_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("flags");
    tcase_add_checked_fixture(tc, eg_unit_http_setup, eg_unit_http_teardown);
    tcase_add_test(tc, plain_path_sets_no_flags);
    tcase_add_test(tc, percent_in_the_path_sets_quoted_uri);
    tcase_add_test(tc, dot_hash_backslash_and_double_slash_set_complex_uri);
    tcase_add_test(tc, characters_in_the_args_set_no_flags);
    tcase_add_test(tc, single_slash_after_the_host_is_not_complex);
    suite_add_tcase(s, tc);

    tc = tcase_create("version");
    tcase_add_checked_fixture(tc, eg_unit_http_setup, eg_unit_http_teardown);
    tcase_add_test(tc, http_1_0_and_1_1_are_accepted);
    tcase_add_test(tc, later_minor_version_of_http_1_is_accepted);
    tcase_add_test(tc, major_version_above_1_is_an_invalid_version);
    tcase_add_test(tc, malformed_http_name_is_refused);
    tcase_add_test(tc, malformed_version_numbers_are_refused);
    tcase_add_test(tc, spaces_around_the_version_are_tolerated);
    tcase_add_test(tc, characters_after_the_version_and_spaces_are_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("line_end");
    tcase_add_checked_fixture(tc, eg_unit_http_setup, eg_unit_http_teardown);
    tcase_add_test(tc, cr_not_followed_by_lf_is_refused);
    tcase_add_test(tc, bare_lf_ends_the_request_line);
    tcase_add_test(tc, crlf_ends_the_request_line_at_the_cr);
    tcase_add_test(tc, leading_empty_lines_are_skipped);
    tcase_add_test(tc, empty_lines_alone_need_more_bytes);
    tcase_add_test(tc, incomplete_line_needs_more_bytes);
    tcase_add_test(tc, request_line_stops_after_its_lf);
    suite_add_tcase(s, tc);

    tc = tcase_create("incremental");
    tcase_add_checked_fixture(tc, eg_unit_http_setup, eg_unit_http_teardown);
    tcase_add_loop_test(tc, bytewise_request_line_gives_the_same_result, 0,
                        (int) (sizeof(eg_unit_lines)
                               / sizeof(eg_unit_lines[0])));
    tcase_add_test(tc, request_line_split_anywhere_gives_the_same_result);
    suite_add_tcase(s, tc);

    tc = tcase_create("header");
    tcase_add_checked_fixture(tc, eg_unit_http_setup, eg_unit_http_teardown);
    tcase_add_test(tc, header_name_and_value_are_extracted);
    tcase_add_test(tc, whitespace_around_the_value_is_trimmed);
    tcase_add_test(tc, value_without_whitespace_after_the_colon_is_extracted);
    tcase_add_test(tc, name_is_lower_cased_with_its_length);
    tcase_add_test(tc, name_of_32_characters_keeps_its_lowcase_form);
    tcase_add_test(tc, name_longer_than_32_characters_has_no_lowcase_form);
    tcase_add_test(tc, empty_value_is_accepted);
    tcase_add_test(tc, bare_lf_ends_a_header_line);
    tcase_add_test(tc, obs_fold_is_refused);
    tcase_add_test(tc, whitespace_before_the_colon_is_refused);
    tcase_add_test(tc, control_characters_in_the_name_are_refused);
    tcase_add_test(tc, empty_name_is_refused);
    tcase_add_test(tc, nul_in_the_value_is_refused);
    tcase_add_test(tc, cr_not_followed_by_lf_in_a_header_is_refused);
    tcase_add_test(tc, underscore_in_the_name_is_flagged_invalid);
    tcase_add_test(tc, underscore_in_the_name_is_accepted_when_allowed);
    tcase_add_test(tc,
                   other_non_token_characters_in_the_name_are_flagged_invalid);
    tcase_add_test(tc, invalid_flag_does_not_stick_to_the_next_header);
    tcase_add_test(tc, crlf_alone_ends_the_headers);
    tcase_add_test(tc, bare_lf_alone_ends_the_headers);
    tcase_add_test(tc, incomplete_header_needs_more_bytes);
    tcase_add_test(tc, header_block_fed_whole_is_parsed);
    tcase_add_test(tc, header_block_fed_bytewise_gives_the_same_headers);
    tcase_add_test(tc, bytewise_header_errors_are_the_same);
    tcase_add_test(tc, request_line_then_headers_parse_from_one_buffer);
    suite_add_tcase(s, tc);

    tc = tcase_create("normalize");
    tcase_add_checked_fixture(tc, eg_unit_http_setup, eg_unit_http_teardown);
    tcase_add_test(tc, plain_path_is_kept);
    tcase_add_test(tc, percent_escapes_are_decoded);
    tcase_add_test(tc, encoded_nul_is_refused);
    tcase_add_test(tc, bad_percent_escapes_are_refused);
    tcase_add_test(tc, double_slashes_are_merged);
    tcase_add_test(tc, dot_segments_are_removed);
    tcase_add_test(tc, dot_dot_segments_remove_the_previous_segment);
    tcase_add_test(tc, trailing_dot_segments_are_resolved);
    tcase_add_test(tc, dots_inside_a_segment_are_kept);
    tcase_add_test(tc, encoded_dot_segments_are_resolved);
    tcase_add_test(tc, going_above_the_root_is_refused);
    tcase_add_test(tc, backslash_is_a_slash);
    tcase_add_test(tc, fragment_is_cut);
    tcase_add_test(tc, encoded_hash_is_part_of_the_path);
    tcase_add_test(tc, path_not_starting_with_a_slash_is_refused);
    tcase_add_test(tc, normalised_path_is_never_longer);
    suite_add_tcase(s, tc);

    tc = tcase_create("connection");
    tcase_add_test(tc, connection_close_is_1);
    tcase_add_test(tc, connection_keep_alive_is_2);
    tcase_add_test(tc, connection_tokens_are_case_insensitive);
    tcase_add_test(tc, connection_close_wins_over_keep_alive);
    tcase_add_test(tc, connection_list_is_searched_for_its_tokens);
    tcase_add_test(tc, connection_without_known_tokens_is_0);
    suite_add_tcase(s, tc);

    tc = tcase_create("accept_encoding");
    tcase_add_test(tc, listed_coding_is_accepted);
    tcase_add_test(tc, unlisted_coding_is_refused);
    tcase_add_test(tc, coding_with_q_zero_is_refused);
    tcase_add_test(tc, coding_with_nonzero_q_is_accepted);
    tcase_add_test(tc, asterisk_accepts_any_coding);
    tcase_add_test(tc, asterisk_with_q_zero_accepts_nothing);
    tcase_add_test(tc, listed_coding_overrides_the_asterisk);
    tcase_add_test(tc, coding_names_are_case_insensitive);
    tcase_add_test(tc, whitespace_around_codings_and_parameters_is_ignored);
    tcase_add_test(tc, other_parameters_do_not_count_as_q);
    suite_add_tcase(s, tc);

    return s;
}
