/*
 * The discovery HTTP client's parsers
 * (src/discovery/eg_discovery_http_parse.c):
 * the URL of a request, and the response, fed as a server may send it,
 * whole or a byte at a time.  The framing (Content-Length, chunked, the
 * end of the connection) decides when an answer is whole, and anything
 * that would let a server put words in our mouth or make the cluster
 * process grow without end (ambiguous lengths, folded lines, a body past
 * max_body, a header past its limit) is refused.
 *
 * Each response lives in malloc()ed memory of exactly its length, so that
 * the sanitizer build catches a parser that reads outside it.
 */

#include <eg_unit.h>

#if (EG_DISCOVERY_K8S || EG_DISCOVERY_AWS)

#include <eg_discovery_http_int.h>


static eg_log_t            eg_unit_dhttp_log;
static eg_pool_t          *pool;
static eg_dhttp_parser_t   p;


static void
eg_unit_dhttp_setup(void)
{
    eg_memzero(&eg_unit_dhttp_log, sizeof(eg_log_t));
    eg_unit_dhttp_log.log_level = EG_LOG_EMERG;

    pool = eg_create_pool(4096, &eg_unit_dhttp_log);
    ck_assert_ptr_nonnull(pool);
}


static void
eg_unit_dhttp_teardown(void)
{
    eg_destroy_pool(pool);
}


/* the bytes in memory of their own, fed in pieces of at most step bytes */
static eg_int_t
eg_unit_feed(eg_dhttp_parser_t *pp, const char *text, size_t len,
    size_t step)
{
    u_char    *mem;
    size_t     off, n;
    eg_int_t   rc;

    rc = EG_AGAIN;

    for (off = 0; off < len; off += n) {
        n = eg_min(step, len - off);

        mem = malloc(n);
        ck_assert_ptr_nonnull(mem);
        eg_memcpy(mem, text + off, n);

        rc = eg_dhttp__parse(pp, mem, n);

        free(mem);

        if (rc != EG_AGAIN) {
            break;
        }
    }

    return rc;
}


/* a response parsed from fresh state, whole; max_body 0 for the default */
static eg_int_t
eg_unit_parse_max(const char *text, size_t max_body)
{
    ck_assert_int_eq(eg_dhttp__parser_init(&p, pool, max_body, 0), EG_OK);

    return eg_unit_feed(&p, text, strlen(text), strlen(text) + 1);
}


static eg_int_t
eg_unit_parse(const char *text)
{
    return eg_unit_parse_max(text, 0);
}


/* the same, then the server closes the connection */
static eg_int_t
eg_unit_parse_eof(const char *text)
{
    eg_int_t  rc;

    rc = eg_unit_parse(text);

    if (rc != EG_AGAIN) {
        return rc;
    }

    return eg_dhttp__parse_eof(&p);
}


static eg_str_t *
eg_unit_header(const char *name)
{
    eg_uint_t     i;
    eg_keyval_t  *kv;

    kv = p.res.headers->elts;

    for (i = 0; i < p.res.headers->nelts; i++) {
        if (kv[i].key.len == strlen(name)
            && eg_memcmp(kv[i].key.data, name, kv[i].key.len) == 0)
        {
            return &kv[i].value;
        }
    }

    return NULL;
}


#define eg_unit_assert_err(needle)                                           \
    ck_assert_msg(strstr(p.err, needle) != NULL,                             \
                  "the error \"%s\" does not say \"%s\"", p.err, needle)


/* responses that come whole */

START_TEST(status_and_content_length_body_are_parsed)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Content-Type: application/json\r\n"
                                   "Content-Length: 11\r\n"
                                   "\r\n"
                                   "{\"a\": true}"), EG_OK);

    ck_assert_uint_eq(p.res.status, 200);
    eg_unit_assert_str_eq(&p.res.body, "{\"a\": true}");
    eg_unit_assert_str_eq(eg_unit_header("content-type"),
                          "application/json");
}
END_TEST


START_TEST(header_names_are_lowercased_and_values_trimmed)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "X-Mixed-Case: \t  value with spaces \t\r\n"
                                   "Content-Length: 0\r\n\r\n"), EG_OK);

    ck_assert_ptr_null(eg_unit_header("X-Mixed-Case"));
    eg_unit_assert_str_eq(eg_unit_header("x-mixed-case"),
                          "value with spaces");
}
END_TEST


START_TEST(empty_header_value_is_kept)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\nX-Empty:\r\n"
                                   "Content-Length: 0\r\n\r\n"), EG_OK);

    eg_unit_assert_str_eq(eg_unit_header("x-empty"), "");
}
END_TEST


START_TEST(bare_lf_ends_lines)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\n"
                                   "Content-Length: 2\n\nok"), EG_OK);

    eg_unit_assert_str_eq(&p.res.body, "ok");
}
END_TEST


START_TEST(status_line_without_reason_is_accepted)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 404\r\n"
                                   "Content-Length: 0\r\n\r\n"), EG_OK);

    ck_assert_uint_eq(p.res.status, 404);
}
END_TEST


START_TEST(http_1_0_answers_are_accepted)
{
    ck_assert_int_eq(eg_unit_parse_eof("HTTP/1.0 200 OK\r\n\r\nold"), EG_OK);

    ck_assert_uint_eq(p.res.status, 200);
    eg_unit_assert_str_eq(&p.res.body, "old");
}
END_TEST


START_TEST(error_statuses_are_answers_too)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 401 Unauthorized\r\n"
                                   "Content-Length: 5\r\n\r\nnope!"), EG_OK);

    ck_assert_uint_eq(p.res.status, 401);
    eg_unit_assert_str_eq(&p.res.body, "nope!");
}
END_TEST


START_TEST(body_is_nul_terminated)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Content-Length: 3\r\n\r\nabc"), EG_OK);

    ck_assert_int_eq(p.res.body.data[p.res.body.len], '\0');
}
END_TEST


START_TEST(empty_body_is_an_empty_string)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Content-Length: 0\r\n\r\n"), EG_OK);

    ck_assert_ptr_nonnull(p.res.body.data);
    ck_assert_uint_eq(p.res.body.len, 0);
}
END_TEST


START_TEST(bytes_after_the_response_are_ignored)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Content-Length: 2\r\n\r\n"
                                   "okHTTP/1.1 500 Oops\r\n\r\n"), EG_OK);

    ck_assert_uint_eq(p.res.status, 200);
    eg_unit_assert_str_eq(&p.res.body, "ok");
}
END_TEST


/* framing */

START_TEST(chunked_body_is_dechunked)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"
                                   "5\r\nhello\r\n"
                                   "1\r\n \r\n"
                                   "A\r\n0123456789\r\n"
                                   "0\r\n\r\n"), EG_OK);

    eg_unit_assert_str_eq(&p.res.body, "hello 0123456789");
}
END_TEST


START_TEST(chunk_sizes_are_hex_of_either_case)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"
                                   "b\r\n0123456789a\r\n"
                                   "B\r\n0123456789b\r\n"
                                   "0\r\n\r\n"), EG_OK);

    eg_unit_assert_str_eq(&p.res.body, "0123456789a0123456789b");
}
END_TEST


START_TEST(chunk_extensions_are_ignored)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"
                                   "3;name=value\r\nabc\r\n"
                                   "0 ;last\r\n\r\n"), EG_OK);

    eg_unit_assert_str_eq(&p.res.body, "abc");
}
END_TEST


START_TEST(trailer_fields_are_skipped)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"
                                   "2\r\nok\r\n0\r\n"
                                   "X-Checksum: 1234\r\n\r\n"), EG_OK);

    eg_unit_assert_str_eq(&p.res.body, "ok");
    ck_assert_ptr_null(eg_unit_header("x-checksum"));
}
END_TEST


START_TEST(chunked_needs_the_last_chunk)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"
                                   "2\r\nok\r\n"), EG_AGAIN);

    ck_assert_int_eq(eg_dhttp__parse_eof(&p), EG_ERROR);
    eg_unit_assert_err("chunked");
}
END_TEST


START_TEST(chunked_wins_over_content_length)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Content-Length: 100\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"
                                   "2\r\nok\r\n0\r\n\r\n"), EG_OK);

    eg_unit_assert_str_eq(&p.res.body, "ok");
}
END_TEST


START_TEST(transfer_codings_are_case_insensitive)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Transfer-Encoding: identity, Chunked\r\n"
                                   "\r\n2\r\nok\r\n0\r\n\r\n"), EG_OK);

    eg_unit_assert_str_eq(&p.res.body, "ok");
}
END_TEST


START_TEST(body_without_length_ends_with_the_connection)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n\r\n"
                                   "all of it"), EG_AGAIN);

    ck_assert_int_eq(eg_dhttp__parse_eof(&p), EG_OK);
    eg_unit_assert_str_eq(&p.res.body, "all of it");
}
END_TEST


START_TEST(interim_answers_are_skipped)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 100 Continue\r\n"
                                   "X-Interim: yes\r\n\r\n"
                                   "HTTP/1.1 103 Early Hints\r\n\r\n"
                                   "HTTP/1.1 201 Created\r\n"
                                   "Content-Length: 2\r\n\r\nok"), EG_OK);

    ck_assert_uint_eq(p.res.status, 201);
    ck_assert_ptr_null(eg_unit_header("x-interim"));
    eg_unit_assert_str_eq(&p.res.body, "ok");
}
END_TEST


START_TEST(no_content_and_not_modified_have_no_body)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 204 No Content\r\n\r\n"), EG_OK);
    ck_assert_uint_eq(p.res.body.len, 0);

    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 304 Not Modified\r\n"
                                   "Content-Length: 10\r\n\r\n"), EG_OK);
    ck_assert_uint_eq(p.res.body.len, 0);
}
END_TEST


START_TEST(answer_to_head_has_no_body)
{
    const char  *text = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";

    ck_assert_int_eq(eg_dhttp__parser_init(&p, pool, 0, 1), EG_OK);
    ck_assert_int_eq(eg_unit_feed(&p, text, strlen(text), 1000), EG_OK);
    ck_assert_uint_eq(p.res.body.len, 0);
}
END_TEST


START_TEST(equal_duplicate_content_lengths_are_accepted)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Content-Length: 2\r\n"
                                   "Content-Length: 2\r\n\r\nok"), EG_OK);

    eg_unit_assert_str_eq(&p.res.body, "ok");
}
END_TEST


/* the same answer whatever the reads */

static const char  *eg_unit_split_cases[] = {
    "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nX-A: b\r\n\r\nhello world!",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "6\r\nhello \r\n6;x=y\r\nworld!\r\n0\r\nT: 1\r\n\r\n",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
        "Content-Length: 12\r\n\r\nhello world!",
    "HTTP/1.1 200 OK\nContent-Length: 12\n\nhello world!",
};


START_TEST(response_split_anywhere_gives_the_same_answer)
{
    size_t       len, split;
    const char  *text;

    text = eg_unit_split_cases[_i];
    len = strlen(text);

    for (split = 1; split < len; split++) {
        ck_assert_int_eq(eg_dhttp__parser_init(&p, pool, 0, 0), EG_OK);

        eg_unit_require(eg_unit_feed(&p, text, split, split) == EG_AGAIN,
                        "case %d: complete after %lu bytes", _i,
                        (unsigned long) split);

        eg_unit_require(eg_unit_feed(&p, text + split, len - split, len)
                        == EG_OK,
                        "case %d split at %lu: %s", _i,
                        (unsigned long) split, p.err);

        eg_unit_require(p.res.status == 200 && p.res.body.len == 12
                        && memcmp(p.res.body.data, "hello world!", 12) == 0,
                        "case %d split at %lu: status %lu, body \"%.*s\"",
                        _i, (unsigned long) split,
                        (unsigned long) p.res.status, (int) p.res.body.len,
                        p.res.body.data);
    }
}
END_TEST


START_TEST(response_fed_bytewise_gives_the_same_answer)
{
    size_t       len;
    const char  *text;

    text = eg_unit_split_cases[_i];
    len = strlen(text);

    ck_assert_int_eq(eg_dhttp__parser_init(&p, pool, 0, 0), EG_OK);
    ck_assert_int_eq(eg_unit_feed(&p, text, len, 1), EG_OK);

    ck_assert_uint_eq(p.res.status, 200);
    eg_unit_assert_str_eq(&p.res.body, "hello world!");
}
END_TEST


/* answers cut short */

START_TEST(close_before_any_byte_is_an_error)
{
    ck_assert_int_eq(eg_dhttp__parser_init(&p, pool, 0, 0), EG_OK);
    ck_assert_int_eq(eg_dhttp__parse_eof(&p), EG_ERROR);
    eg_unit_assert_err("without answering");
}
END_TEST


START_TEST(close_in_the_header_is_an_error)
{
    ck_assert_int_eq(eg_unit_parse_eof("HTTP/1.1 200 OK\r\nContent-Le"),
                     EG_ERROR);
    eg_unit_assert_err("in the response header");

    ck_assert_int_eq(eg_unit_parse_eof("HTTP/1.1 2"), EG_ERROR);
    eg_unit_assert_err("in the response header");
}
END_TEST


START_TEST(close_before_content_length_bytes_is_an_error)
{
    ck_assert_int_eq(eg_unit_parse_eof("HTTP/1.1 200 OK\r\n"
                                       "Content-Length: 10\r\n\r\nabc"),
                     EG_ERROR);
    eg_unit_assert_err("after 3 of 10 body bytes");
}
END_TEST


/* what is refused */

static const char  *eg_unit_bad_status_lines[] = {
    "HTTP/2 200 OK",
    "HTTP/1.1 20 OK",
    "HTTP/1.1 2000 OK",
    "HTTP/1.1 600 Beyond",
    "HTTP/1.1 099 Before",
    "HTTP/1.1  200 OK",
    "HTTP/1.1 200OK",
    "http/1.1 200 OK",
    "ICY 200 OK",
    "",
};


START_TEST(invalid_status_lines_are_refused)
{
    char  text[64];

    (void) snprintf(text, sizeof(text), "%s\r\nContent-Length: 0\r\n\r\n",
                    eg_unit_bad_status_lines[_i]);

    ck_assert_msg(eg_unit_parse(text) == EG_ERROR,
                  "\"%s\" was taken", eg_unit_bad_status_lines[_i]);
    eg_unit_assert_err("invalid status line");
}
END_TEST


START_TEST(switching_protocols_is_refused)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 101 Switching Protocols\r\n"
                                   "Upgrade: h2c\r\n\r\n"), EG_ERROR);
    eg_unit_assert_err("switched protocols");
}
END_TEST


START_TEST(folded_header_line_is_refused)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\nX-A: one\r\n"
                                   " two\r\nContent-Length: 0\r\n\r\n"),
                     EG_ERROR);
    eg_unit_assert_err("folded");
}
END_TEST


START_TEST(header_without_colon_is_refused)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\nNo colon here\r\n"
                                   "\r\n"), EG_ERROR);
    eg_unit_assert_err("invalid header line");
}
END_TEST


START_TEST(whitespace_before_the_colon_is_refused)
{
    /* "Content-Length : 5" read loosely is how responses get smuggled */
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\nContent-Length : 5"
                                   "\r\n\r\nhello"), EG_ERROR);
    eg_unit_assert_err("invalid header line");
}
END_TEST


START_TEST(empty_header_name_is_refused)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n: value\r\n\r\n"),
                     EG_ERROR);
    eg_unit_assert_err("invalid header line");
}
END_TEST


START_TEST(control_character_in_a_value_is_refused)
{
    const char  text[] = "HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n";

    ck_assert_int_eq(eg_dhttp__parser_init(&p, pool, 0, 0), EG_OK);
    ck_assert_int_eq(eg_unit_feed(&p, text, sizeof(text) - 1, 100),
                     EG_ERROR);
    eg_unit_assert_err("control character");

    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n"),
                     EG_ERROR);
    eg_unit_assert_err("control character");
}
END_TEST


START_TEST(invalid_content_length_is_refused)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Content-Length: -1\r\n\r\n"), EG_ERROR);
    eg_unit_assert_err("invalid Content-Length");

    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Content-Length: 1, 1\r\n\r\nx"),
                     EG_ERROR);
    eg_unit_assert_err("invalid Content-Length");

    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\nContent-Length: "
                                   "99999999999999999999999\r\n\r\n"),
                     EG_ERROR);
    eg_unit_assert_err("invalid Content-Length");
}
END_TEST


START_TEST(two_different_content_lengths_are_refused)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Content-Length: 2\r\n"
                                   "Content-Length: 3\r\n\r\nabc"), EG_ERROR);
    eg_unit_assert_err("two different Content-Length");
}
END_TEST


START_TEST(unsupported_transfer_coding_is_refused)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Transfer-Encoding: gzip, chunked\r\n"
                                   "\r\n"), EG_ERROR);
    eg_unit_assert_err("unsupported Transfer-Encoding");

    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Transfer-Encoding: chunked, chunked\r\n"
                                   "\r\n"), EG_ERROR);
    eg_unit_assert_err("unsupported Transfer-Encoding");
}
END_TEST


START_TEST(invalid_chunk_sizes_are_refused)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"
                                   "zz\r\n"), EG_ERROR);
    eg_unit_assert_err("invalid chunk size");

    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"
                                   "\r\n"), EG_ERROR);
    eg_unit_assert_err("empty chunk size");

    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"
                                   "-1\r\n"), EG_ERROR);
    eg_unit_assert_err("invalid chunk size");
}
END_TEST


START_TEST(huge_chunk_size_is_refused_before_any_data)
{
    /* sixteen f's would wrap a 64-bit size: refused, not wrapped */
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"
                                   "1ffffffffffffffff\r\n"), EG_ERROR);
    eg_unit_assert_err("longer than");
}
END_TEST


START_TEST(missing_line_end_after_a_chunk_is_refused)
{
    ck_assert_int_eq(eg_unit_parse("HTTP/1.1 200 OK\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"
                                   "2\r\nokX\r\n0\r\n\r\n"), EG_ERROR);
    eg_unit_assert_err("no line end after a chunk");
}
END_TEST


START_TEST(long_chunk_size_line_is_refused)
{
    char  text[8192];

    (void) snprintf(text, sizeof(text), "HTTP/1.1 200 OK\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n1;%05000d", 0);

    ck_assert_int_eq(eg_unit_parse(text), EG_ERROR);
    eg_unit_assert_err("chunk size line longer");
}
END_TEST


/* limits */

START_TEST(body_of_max_body_bytes_is_accepted)
{
    ck_assert_int_eq(eg_unit_parse_max("HTTP/1.1 200 OK\r\n"
                                       "Content-Length: 4\r\n\r\nabcd", 4),
                     EG_OK);
    eg_unit_assert_str_eq(&p.res.body, "abcd");

    ck_assert_int_eq(eg_unit_parse_max("HTTP/1.1 200 OK\r\n"
                                       "Transfer-Encoding: chunked\r\n\r\n"
                                       "2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n", 4),
                     EG_OK);
    eg_unit_assert_str_eq(&p.res.body, "abcd");
}
END_TEST


START_TEST(content_length_over_max_body_is_refused_at_once)
{
    ck_assert_int_eq(eg_unit_parse_max("HTTP/1.1 200 OK\r\n"
                                       "Content-Length: 5\r\n\r\n", 4),
                     EG_ERROR);
    eg_unit_assert_err("longer than 4");
}
END_TEST


START_TEST(chunks_over_max_body_are_refused)
{
    ck_assert_int_eq(eg_unit_parse_max("HTTP/1.1 200 OK\r\n"
                                       "Transfer-Encoding: chunked\r\n\r\n"
                                       "3\r\nabc\r\n2\r\n", 4),
                     EG_ERROR);
    eg_unit_assert_err("longer than 4");
}
END_TEST


START_TEST(body_to_the_close_over_max_body_is_refused)
{
    ck_assert_int_eq(eg_unit_parse_max("HTTP/1.1 200 OK\r\n\r\nabcde", 4),
                     EG_ERROR);
    eg_unit_assert_err("longer than 4");
}
END_TEST


START_TEST(large_body_grows_its_buffer)
{
    char    *text, *q;
    size_t   i, n;

    /* a close-delimited body of 200k: many doublings, nothing lost */

    n = 200000;
    text = malloc(64 + n + 1);
    ck_assert_ptr_nonnull(text);

    q = text + sprintf(text, "HTTP/1.1 200 OK\r\n\r\n");

    for (i = 0; i < n; i++) {
        *q++ = (char) ('a' + i % 26);
    }

    *q = '\0';

    ck_assert_int_eq(eg_dhttp__parser_init(&p, pool, 0, 0), EG_OK);
    ck_assert_int_eq(eg_unit_feed(&p, text, strlen(text), 1000), EG_AGAIN);
    ck_assert_int_eq(eg_dhttp__parse_eof(&p), EG_OK);

    ck_assert_uint_eq(p.res.body.len, n);

    for (i = 0; i < n; i++) {
        eg_unit_require(p.res.body.data[i] == 'a' + i % 26,
                        "byte %lu is wrong", (unsigned long) i);
    }

    free(text);
}
END_TEST


START_TEST(header_over_its_limit_is_refused)
{
    char    *text;
    size_t   n;

    n = EG_DHTTP_MAX_HEADER + 100;
    text = malloc(n + 1);
    ck_assert_ptr_nonnull(text);

    eg_memset(text, 'a', n);
    eg_memcpy(text, "HTTP/1.1 200 OK\r\nX-Big: ", 24);
    text[n] = '\0';

    ck_assert_int_eq(eg_unit_parse(text), EG_ERROR);
    eg_unit_assert_err("header is longer than");

    free(text);
}
END_TEST


START_TEST(too_many_header_lines_are_refused)
{
    char      text[8192], *q;
    eg_uint_t  i;

    q = text + sprintf(text, "HTTP/1.1 200 OK\r\n");

    for (i = 0; i <= EG_DHTTP_MAX_HEADERS; i++) {
        q += sprintf(q, "X-%lu: v\r\n", (unsigned long) i);
    }

    (void) sprintf(q, "\r\n");

    ck_assert_int_eq(eg_unit_parse(text), EG_ERROR);
    eg_unit_assert_err("header lines");
}
END_TEST


/* URLs */

static eg_dhttp_url_t  u;


static eg_int_t
eg_unit_url(const char *text, const char **err)
{
    eg_str_t  s;

    s.len = strlen(text);
    s.data = eg_pnalloc(pool, s.len + 1);
    ck_assert_ptr_nonnull(s.data);
    eg_memcpy(s.data, text, s.len + 1);

    *err = NULL;

    return eg_dhttp__parse_url(pool, &s, &u, err);
}


START_TEST(https_url_gives_its_parts)
{
    const char  *err;

    ck_assert_int_eq(eg_unit_url("https://10.0.0.1:6443/api/v1/pods?l=a%3Db",
                                 &err), EG_OK);

    ck_assert_uint_eq(u.ssl, 1);
    eg_unit_assert_str_eq(&u.host, "10.0.0.1");
    ck_assert_uint_eq(u.port, 6443);
    eg_unit_assert_str_eq(&u.path, "/api/v1/pods?l=a%3Db");
    eg_unit_assert_str_eq(&u.host_header, "10.0.0.1:6443");
    eg_unit_assert_str_eq(&u.authority, "10.0.0.1:6443");
    ck_assert_uint_eq(u.literal, 1);
    ck_assert_int_eq(u.addr.sa.sockaddr.sa_family, AF_INET);
    ck_assert_uint_eq(eg_inet_get_port(&u.addr.sa.sockaddr), 6443);
}
END_TEST


START_TEST(scheme_default_port_is_left_out_of_host)
{
    const char  *err;

    ck_assert_int_eq(eg_unit_url("http://ec2.example.com/", &err), EG_OK);

    ck_assert_uint_eq(u.ssl, 0);
    ck_assert_uint_eq(u.port, 80);
    ck_assert_uint_eq(u.literal, 0);
    eg_unit_assert_str_eq(&u.host_header, "ec2.example.com");
    eg_unit_assert_str_eq(&u.authority, "ec2.example.com:80");

    ck_assert_int_eq(eg_unit_url("HTTPS://api.example.com:443", &err),
                     EG_OK);
    ck_assert_uint_eq(u.ssl, 1);
    eg_unit_assert_str_eq(&u.host_header, "api.example.com");
}
END_TEST


START_TEST(ipv6_host_is_bracketed_in_host_header)
{
    const char  *err;

    ck_assert_int_eq(eg_unit_url("https://[fd00::1]:8443/x", &err), EG_OK);

    eg_unit_assert_str_eq(&u.host, "fd00::1");
    eg_unit_assert_str_eq(&u.host_header, "[fd00::1]:8443");
    ck_assert_int_eq(u.addr.sa.sockaddr.sa_family, AF_INET6);

    ck_assert_int_eq(eg_unit_url("http://[::1]/", &err), EG_OK);
    eg_unit_assert_str_eq(&u.host_header, "[::1]");
}
END_TEST


START_TEST(missing_path_is_a_slash)
{
    const char  *err;

    ck_assert_int_eq(eg_unit_url("http://169.254.169.254", &err), EG_OK);
    eg_unit_assert_str_eq(&u.path, "/");

    ck_assert_int_eq(eg_unit_url("http://h.example?a=b", &err), EG_OK);
    eg_unit_assert_str_eq(&u.path, "/?a=b");
}
END_TEST


START_TEST(fragment_is_not_sent)
{
    const char  *err;

    ck_assert_int_eq(eg_unit_url("http://h.example/p?q#frag", &err), EG_OK);
    eg_unit_assert_str_eq(&u.path, "/p?q");
}
END_TEST


static const char  *eg_unit_bad_urls[] = {
    "ftp://h.example/",
    "h.example/",
    "https://",
    "https:///path",
    "https://user:pw@h.example/",
    "https://h.example:0/",
    "https://h.example:70000/",
    "https://h.example/with space",
    "https://h ex/",
    "https://[::1/",
    "https://*/",
};


START_TEST(invalid_urls_are_refused_with_a_reason)
{
    const char  *err;

    ck_assert_msg(eg_unit_url(eg_unit_bad_urls[_i], &err) == EG_ERROR,
                  "\"%s\" was taken", eg_unit_bad_urls[_i]);
    ck_assert_ptr_nonnull(err);
}
END_TEST


Suite *
eg_unit_dhttp_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("dhttp");

    tc = tcase_create("response");
    tcase_add_checked_fixture(tc, eg_unit_dhttp_setup,
                              eg_unit_dhttp_teardown);
    tcase_add_test(tc, status_and_content_length_body_are_parsed);
    tcase_add_test(tc, header_names_are_lowercased_and_values_trimmed);
    tcase_add_test(tc, empty_header_value_is_kept);
    tcase_add_test(tc, bare_lf_ends_lines);
    tcase_add_test(tc, status_line_without_reason_is_accepted);
    tcase_add_test(tc, http_1_0_answers_are_accepted);
    tcase_add_test(tc, error_statuses_are_answers_too);
    tcase_add_test(tc, body_is_nul_terminated);
    tcase_add_test(tc, empty_body_is_an_empty_string);
    tcase_add_test(tc, bytes_after_the_response_are_ignored);
    suite_add_tcase(s, tc);

    tc = tcase_create("framing");
    tcase_add_checked_fixture(tc, eg_unit_dhttp_setup,
                              eg_unit_dhttp_teardown);
    tcase_add_test(tc, chunked_body_is_dechunked);
    tcase_add_test(tc, chunk_sizes_are_hex_of_either_case);
    tcase_add_test(tc, chunk_extensions_are_ignored);
    tcase_add_test(tc, trailer_fields_are_skipped);
    tcase_add_test(tc, chunked_needs_the_last_chunk);
    tcase_add_test(tc, chunked_wins_over_content_length);
    tcase_add_test(tc, transfer_codings_are_case_insensitive);
    tcase_add_test(tc, body_without_length_ends_with_the_connection);
    tcase_add_test(tc, interim_answers_are_skipped);
    tcase_add_test(tc, no_content_and_not_modified_have_no_body);
    tcase_add_test(tc, answer_to_head_has_no_body);
    tcase_add_test(tc, equal_duplicate_content_lengths_are_accepted);
    tcase_add_loop_test(tc, response_split_anywhere_gives_the_same_answer,
                        0, (int) eg_nelems(eg_unit_split_cases));
    tcase_add_loop_test(tc, response_fed_bytewise_gives_the_same_answer,
                        0, (int) eg_nelems(eg_unit_split_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("cut short");
    tcase_add_checked_fixture(tc, eg_unit_dhttp_setup,
                              eg_unit_dhttp_teardown);
    tcase_add_test(tc, close_before_any_byte_is_an_error);
    tcase_add_test(tc, close_in_the_header_is_an_error);
    tcase_add_test(tc, close_before_content_length_bytes_is_an_error);
    suite_add_tcase(s, tc);

    tc = tcase_create("refused");
    tcase_add_checked_fixture(tc, eg_unit_dhttp_setup,
                              eg_unit_dhttp_teardown);
    tcase_add_loop_test(tc, invalid_status_lines_are_refused, 0,
                        (int) eg_nelems(eg_unit_bad_status_lines));
    tcase_add_test(tc, switching_protocols_is_refused);
    tcase_add_test(tc, folded_header_line_is_refused);
    tcase_add_test(tc, header_without_colon_is_refused);
    tcase_add_test(tc, whitespace_before_the_colon_is_refused);
    tcase_add_test(tc, empty_header_name_is_refused);
    tcase_add_test(tc, control_character_in_a_value_is_refused);
    tcase_add_test(tc, invalid_content_length_is_refused);
    tcase_add_test(tc, two_different_content_lengths_are_refused);
    tcase_add_test(tc, unsupported_transfer_coding_is_refused);
    tcase_add_test(tc, invalid_chunk_sizes_are_refused);
    tcase_add_test(tc, huge_chunk_size_is_refused_before_any_data);
    tcase_add_test(tc, missing_line_end_after_a_chunk_is_refused);
    tcase_add_test(tc, long_chunk_size_line_is_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_checked_fixture(tc, eg_unit_dhttp_setup,
                              eg_unit_dhttp_teardown);
    tcase_add_test(tc, body_of_max_body_bytes_is_accepted);
    tcase_add_test(tc, content_length_over_max_body_is_refused_at_once);
    tcase_add_test(tc, chunks_over_max_body_are_refused);
    tcase_add_test(tc, body_to_the_close_over_max_body_is_refused);
    tcase_add_test(tc, large_body_grows_its_buffer);
    tcase_add_test(tc, header_over_its_limit_is_refused);
    tcase_add_test(tc, too_many_header_lines_are_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("url");
    tcase_add_checked_fixture(tc, eg_unit_dhttp_setup,
                              eg_unit_dhttp_teardown);
    tcase_add_test(tc, https_url_gives_its_parts);
    tcase_add_test(tc, scheme_default_port_is_left_out_of_host);
    tcase_add_test(tc, ipv6_host_is_bracketed_in_host_header);
    tcase_add_test(tc, missing_path_is_a_slash);
    tcase_add_test(tc, fragment_is_not_sent);
    tcase_add_loop_test(tc, invalid_urls_are_refused_with_a_reason, 0,
                        (int) eg_nelems(eg_unit_bad_urls));
    suite_add_tcase(s, tc);

    return s;
}

#else

/* built without an API discovery method: no HTTP client to test */

Suite *
eg_unit_dhttp_suite(void)
{
    return suite_create("dhttp");
}

#endif
