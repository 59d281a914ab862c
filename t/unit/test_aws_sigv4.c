/*
 * AWS Signature Version 4: the canonical request, the string to sign and
 * the Authorization header of engram's signer are botocore's, byte for
 * byte, for every request of t/unit/test_aws_sigv4_vectors.h (GET with
 * queries that need encoding, repeated keys, POST form bodies, session
 * tokens, other regions and services, odd paths and headers).  The
 * vectors come from botocore's SigV4Auth through
 * t/unit/aws_sigv4_vectors.py; run it again to add a case.
 */

#include <eg_unit.h>

#if (EG_DISCOVERY_AWS)

#include <eg_aws_sigv4.h>


typedef struct {
    const char          *key;
    const char          *value;
} eg_unit_sigv4_pair_t;


typedef struct {
    const char          *name;
    const char          *method;
    const char          *host;
    const char          *path;
    eg_unit_sigv4_pair_t query[12];     /* NULL-terminated */
    eg_unit_sigv4_pair_t headers[8];    /* NULL-terminated */
    const char          *body;
    size_t               body_len;
    const char          *region;
    const char          *service;
    time_t               now;
    const char          *access_key;
    const char          *secret_key;
    const char          *token;         /* NULL: none */
    const char          *canonical;     /* what botocore made */
    const char          *string_to_sign;
    const char          *authorization;
} eg_unit_sigv4_case_t;


#include <test_aws_sigv4_vectors.h>


#define EG_UNIT_SIGV4_CASES                                                  \
    (int) (sizeof(eg_unit_sigv4_cases) / sizeof(eg_unit_sigv4_cases[0]))


static eg_log_t    eg_unit_quiet_log;
static eg_pool_t  *pool;


static void
eg_unit_sigv4_setup(void)
{
    eg_memzero(&eg_unit_quiet_log, sizeof(eg_log_t));
    eg_unit_quiet_log.log_level = EG_LOG_EMERG;

    pool = eg_create_pool(4096, &eg_unit_quiet_log);
    ck_assert_ptr_nonnull(pool);
}


static void
eg_unit_sigv4_teardown(void)
{
    eg_destroy_pool(pool);
    pool = NULL;
}


static void
eg_unit_str(eg_str_t *s, const char *text)
{
    s->len = text ? strlen(text) : 0;
    s->data = (u_char *) text;
}


static eg_array_t *
eg_unit_pairs(const eg_unit_sigv4_pair_t *pairs)
{
    eg_array_t   *a;
    eg_keyval_t  *kv;

    a = eg_array_create(pool, 4, sizeof(eg_keyval_t));
    ck_assert_ptr_nonnull(a);

    for ( /* void */ ; pairs->key; pairs++) {
        kv = eg_array_push(a);
        ck_assert_ptr_nonnull(kv);

        eg_unit_str(&kv->key, pairs->key);
        eg_unit_str(&kv->value, pairs->value);
    }

    return a;
}


/* signs a case of the vectors */
static void
eg_unit_sign(const eg_unit_sigv4_case_t *c, eg_aws_signed_t *out)
{
    eg_aws_creds_t    creds;
    eg_aws_request_t  req;

    eg_memzero(&req, sizeof(eg_aws_request_t));
    eg_memzero(&creds, sizeof(eg_aws_creds_t));

    eg_unit_str(&req.method, c->method);
    eg_unit_str(&req.host, c->host);
    eg_unit_str(&req.path, c->path);
    req.query = eg_unit_pairs(c->query);
    req.headers = eg_unit_pairs(c->headers);
    req.body.data = (u_char *) c->body;
    req.body.len = c->body_len;
    eg_unit_str(&req.region, c->region);
    eg_unit_str(&req.service, c->service);
    req.now = c->now;

    eg_unit_str(&creds.access_key, c->access_key);
    eg_unit_str(&creds.secret_key, c->secret_key);
    eg_unit_str(&creds.token, c->token);

    ck_assert_int_eq(eg_aws_sigv4_sign(pool, &req, &creds, out), EG_OK);
}


/* the header of that name among those to send, or NULL */
static eg_str_t *
eg_unit_header(eg_aws_signed_t *out, const char *name)
{
    eg_uint_t     i;
    eg_keyval_t  *kv;

    kv = out->headers->elts;

    for (i = 0; i < out->headers->nelts; i++) {
        if (kv[i].key.len == strlen(name)
            && memcmp(kv[i].key.data, name, kv[i].key.len) == 0)
        {
            return &kv[i].value;
        }
    }

    return NULL;
}


START_TEST(canonical_request_is_botocores)
{
    eg_aws_signed_t              out;
    const eg_unit_sigv4_case_t  *c = &eg_unit_sigv4_cases[_i];

    eg_unit_sign(c, &out);

    ck_assert_msg(out.canonical.len == strlen(c->canonical)
                  && memcmp(out.canonical.data, c->canonical,
                            out.canonical.len) == 0,
                  "%s: canonical request\n%.*s\nis not botocore's\n%s",
                  c->name, (int) out.canonical.len, out.canonical.data,
                  c->canonical);
}
END_TEST


START_TEST(string_to_sign_is_botocores)
{
    eg_aws_signed_t              out;
    const eg_unit_sigv4_case_t  *c = &eg_unit_sigv4_cases[_i];

    eg_unit_sign(c, &out);

    ck_assert_msg(out.string_to_sign.len == strlen(c->string_to_sign)
                  && memcmp(out.string_to_sign.data, c->string_to_sign,
                            out.string_to_sign.len) == 0,
                  "%s: string to sign\n%.*s\nis not botocore's\n%s",
                  c->name, (int) out.string_to_sign.len,
                  out.string_to_sign.data, c->string_to_sign);
}
END_TEST


START_TEST(authorization_is_botocores)
{
    eg_aws_signed_t              out;
    const eg_unit_sigv4_case_t  *c = &eg_unit_sigv4_cases[_i];

    eg_unit_sign(c, &out);

    ck_assert_msg(out.authorization.len == strlen(c->authorization)
                  && memcmp(out.authorization.data, c->authorization,
                            out.authorization.len) == 0,
                  "%s: Authorization\n%.*s\nis not botocore's\n%s",
                  c->name, (int) out.authorization.len,
                  out.authorization.data, c->authorization);
}
END_TEST


START_TEST(headers_to_send_are_date_then_authorization)
{
    eg_str_t         *v;
    eg_aws_signed_t   out;
    eg_keyval_t      *kv;

    eg_unit_sign(&eg_unit_sigv4_cases[0], &out);

    ck_assert_uint_eq(out.headers->nelts, 2);

    kv = out.headers->elts;
    eg_unit_assert_str_eq(&kv[0].key, "X-Amz-Date");
    eg_unit_assert_str_eq(&kv[0].value, "20240102T030405Z");
    eg_unit_assert_str_eq(&kv[1].key, "Authorization");

    v = eg_unit_header(&out, "Authorization");
    ck_assert_ptr_nonnull(v);
    ck_assert(v->data == out.authorization.data);
    ck_assert_ptr_null(eg_unit_header(&out, "X-Amz-Security-Token"));
}
END_TEST


START_TEST(a_session_token_is_sent_and_signed)
{
    int                i;
    eg_str_t          *v;
    eg_aws_signed_t    out;
    eg_keyval_t       *kv;

    for (i = 0; i < EG_UNIT_SIGV4_CASES; i++) {
        if (eg_unit_sigv4_cases[i].token) {
            break;
        }
    }

    ck_assert_int_lt(i, EG_UNIT_SIGV4_CASES);

    eg_unit_sign(&eg_unit_sigv4_cases[i], &out);

    ck_assert_uint_eq(out.headers->nelts, 3);
    kv = out.headers->elts;
    eg_unit_assert_str_eq(&kv[1].key, "X-Amz-Security-Token");

    v = eg_unit_header(&out, "X-Amz-Security-Token");
    ck_assert_ptr_nonnull(v);
    eg_unit_assert_str_eq(v, eg_unit_sigv4_cases[i].token);

    ck_assert_ptr_nonnull(eg_strnstr(out.authorization.data,
                                     "x-amz-security-token",
                                     out.authorization.len));
}
END_TEST


START_TEST(another_secret_gives_another_signature)
{
    eg_aws_signed_t       a, b;
    eg_unit_sigv4_case_t  c;

    c = eg_unit_sigv4_cases[0];
    eg_unit_sign(&c, &a);

    c.secret_key = "another secret";
    eg_unit_sign(&c, &b);

    ck_assert_uint_eq(a.authorization.len, b.authorization.len);
    ck_assert(memcmp(a.authorization.data, b.authorization.data,
                     a.authorization.len) != 0);
    /* only the signature differs: the scope has no secret in it */
    ck_assert(memcmp(a.authorization.data, b.authorization.data,
                     a.authorization.len - 64) == 0);
}
END_TEST


START_TEST(query_is_the_canonical_one_to_put_in_the_url)
{
    eg_aws_signed_t  out;

    eg_unit_sign(&eg_unit_sigv4_cases[1], &out);

    eg_unit_assert_str_eq(&out.query,
                          "Action=DescribeInstances&Empty=&"
                          "Filter.1.Name=tag%3AEngram%20Cluster%2FName&"
                          "Filter.1.Value.1=a%20b%2Bc%3Dd%26e%2Ff%3Fg%23h%25i&"
                          "Filter.1.Value.2=caf%C3%A9%20%E2%98%83&"
                          "Marker=~unreserved-_.~&Version=2016-11-15");
}
END_TEST


START_TEST(query_encode_of_nothing_is_empty)
{
    eg_str_t     out;
    eg_array_t  *a;

    ck_assert_int_eq(eg_aws_query_encode(pool, NULL, &out), EG_OK);
    ck_assert_uint_eq(out.len, 0);

    a = eg_array_create(pool, 1, sizeof(eg_keyval_t));
    ck_assert_int_eq(eg_aws_query_encode(pool, a, &out), EG_OK);
    ck_assert_uint_eq(out.len, 0);
}
END_TEST


START_TEST(query_encode_writes_space_as_percent_20_never_plus)
{
    eg_str_t              out;
    eg_unit_sigv4_pair_t  p[] = {
        { "k", "a b+c" }, { NULL, NULL }
    };

    ck_assert_int_eq(eg_aws_query_encode(pool, eg_unit_pairs(p), &out),
                     EG_OK);
    eg_unit_assert_str_eq(&out, "k=a%20b%2Bc");
}
END_TEST


START_TEST(query_encode_sorts_a_prefix_first_and_equal_keys_by_value)
{
    eg_str_t              out;
    eg_unit_sigv4_pair_t  p[] = {
        { "ab", "1" }, { "a", "2" }, { "a", "1" }, { "B", "" },
        { NULL, NULL }
    };

    ck_assert_int_eq(eg_aws_query_encode(pool, eg_unit_pairs(p), &out),
                     EG_OK);
    eg_unit_assert_str_eq(&out, "B=&a=1&a=2&ab=1");
}
END_TEST


START_TEST(date_is_utc_basic_format)
{
    u_char  buf[EG_AWS_DATE_LEN + 1];

    buf[EG_AWS_DATE_LEN] = '#';

    eg_aws_date(buf, 0);
    ck_assert(memcmp(buf, "19700101T000000Z", EG_AWS_DATE_LEN) == 0);

    eg_aws_date(buf, 1709164799);
    ck_assert(memcmp(buf, "20240228T235959Z", EG_AWS_DATE_LEN) == 0);

    ck_assert_int_eq(buf[EG_AWS_DATE_LEN], '#');
}
END_TEST


Suite *
eg_unit_aws_sigv4_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("aws_sigv4");

    tc = tcase_create("botocore");
    tcase_add_checked_fixture(tc, eg_unit_sigv4_setup,
                              eg_unit_sigv4_teardown);
    tcase_add_loop_test(tc, canonical_request_is_botocores, 0,
                        EG_UNIT_SIGV4_CASES);
    tcase_add_loop_test(tc, string_to_sign_is_botocores, 0,
                        EG_UNIT_SIGV4_CASES);
    tcase_add_loop_test(tc, authorization_is_botocores, 0,
                        EG_UNIT_SIGV4_CASES);
    suite_add_tcase(s, tc);

    tc = tcase_create("headers");
    tcase_add_checked_fixture(tc, eg_unit_sigv4_setup,
                              eg_unit_sigv4_teardown);
    tcase_add_test(tc, headers_to_send_are_date_then_authorization);
    tcase_add_test(tc, a_session_token_is_sent_and_signed);
    tcase_add_test(tc, another_secret_gives_another_signature);
    suite_add_tcase(s, tc);

    tc = tcase_create("encoding");
    tcase_add_checked_fixture(tc, eg_unit_sigv4_setup,
                              eg_unit_sigv4_teardown);
    tcase_add_test(tc, query_is_the_canonical_one_to_put_in_the_url);
    tcase_add_test(tc, query_encode_of_nothing_is_empty);
    tcase_add_test(tc, query_encode_writes_space_as_percent_20_never_plus);
    tcase_add_test(tc,
                   query_encode_sorts_a_prefix_first_and_equal_keys_by_value);
    tcase_add_test(tc, date_is_utc_basic_format);
    suite_add_tcase(s, tc);

    return s;
}

#else

/* built without the aws method: nothing to test */

Suite *
eg_unit_aws_sigv4_suite(void)
{
    return suite_create("aws_sigv4");
}

#endif
