/*
 * AWS Signature Version 4 (see eg_aws_sigv4.h for the recipe).
 *
 * Every text is rendered twice by the same function, through an
 * eg_writer_t: once to measure, once into memory of that size, so that
 * no length is guessed.  The canonical forms follow botocore's SigV4Auth
 * byte for byte (t/unit/test_aws_sigv4.c holds us to it): the path loses
 * its dot segments and empty segments and is URI-encoded once more (AWS
 * wants a non-S3 path encoded twice: the request line holds it encoded
 * once), header values lose their outer blanks and runs of blanks inside
 * become one space, and header names and query pairs are sorted bytewise
 * after encoding.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_aws_sigv4.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>


#define EG_AWS_ALGORITHM     "AWS4-HMAC-SHA256"
#define EG_AWS_SHA256_LEN    32


/* a header to sign, its name lowercased and its value trimmed */
typedef struct {
    eg_str_t             name;
    eg_str_t             value;         /* as given; trimmed on output */
} eg_aws_header_t;


typedef struct {
    eg_aws_request_t    *req;
    eg_aws_creds_t      *creds;
    eg_str_t             path;          /* normalized, not encoded */
    eg_str_t             query;         /* canonical */
    eg_aws_header_t     *headers;       /* sorted by name */
    eg_uint_t            nheaders;
    u_char               date[EG_AWS_DATE_LEN];
    u_char               payload[2 * EG_AWS_SHA256_LEN];
} eg_aws_sign_ctx_t;


typedef void (*eg_aws_render_pt)(eg_writer_t *w, void *data);


static eg_int_t eg_aws_render(eg_pool_t *pool, eg_aws_render_pt render,
    void *data, eg_str_t *out);
static void eg_aws_render_query(eg_writer_t *w, void *data);
static void eg_aws_render_canonical(eg_writer_t *w, void *data);
static eg_int_t eg_aws_normalize_path(eg_pool_t *pool, eg_str_t *path,
    eg_str_t *out);
static void eg_aws_render_signed(eg_writer_t *w, eg_aws_sign_ctx_t *ctx);
static void eg_aws_uri_encode(eg_writer_t *w, u_char *p, size_t len,
    eg_uint_t slash);
static void eg_aws_trim_value(eg_writer_t *w, eg_str_t *value);
static eg_uint_t eg_aws_blank(u_char c);
static eg_int_t eg_aws_headers(eg_pool_t *pool, eg_aws_sign_ctx_t *ctx);
static int eg_aws_str_order(eg_str_t *a, eg_str_t *b);
static void eg_aws_hex(u_char *dst, u_char *src, size_t len);
static eg_int_t eg_aws_hmac(u_char *key, size_t key_len, u_char *data,
    size_t len, u_char *out);
static eg_int_t eg_aws_sha256_hex(u_char *data, size_t len, u_char *out);
static eg_int_t eg_aws_push_header(eg_array_t *a, const char *name,
    u_char *value, size_t len);


eg_int_t
eg_aws_sigv4_sign(eg_pool_t *pool, eg_aws_request_t *req,
    eg_aws_creds_t *creds, eg_aws_signed_t *out)
{
    u_char             *p, *key, *last;
    u_char              k[EG_AWS_SHA256_LEN], sig[EG_AWS_SHA256_LEN];
    u_char              hex[2 * EG_AWS_SHA256_LEN];
    u_char              hash[2 * EG_AWS_SHA256_LEN];
    size_t              len;
    eg_str_t            signed_headers, *scope;
    eg_str_t            scope_text;
    eg_writer_t         w;
    eg_aws_sign_ctx_t   ctx;

    eg_memzero(out, sizeof(eg_aws_signed_t));
    eg_memzero(&ctx, sizeof(eg_aws_sign_ctx_t));

    ctx.req = req;
    ctx.creds = creds;

    eg_aws_date(ctx.date, req->now);

    if (eg_aws_query_encode(pool, req->query, &ctx.query) != EG_OK) {
        return EG_ERROR;
    }

    if (eg_aws_normalize_path(pool, &req->path, &ctx.path) != EG_OK) {
        return EG_ERROR;
    }

    if (eg_aws_headers(pool, &ctx) != EG_OK) {
        return EG_ERROR;
    }

    if (eg_aws_sha256_hex(req->body.data, req->body.len, ctx.payload)
        != EG_OK)
    {
        return EG_ERROR;
    }

    if (eg_aws_render(pool, eg_aws_render_canonical, &ctx, &out->canonical)
        != EG_OK)
    {
        return EG_ERROR;
    }

    /* the scope: date/region/service/aws4_request */

    len = 8 + 1 + req->region.len + 1 + req->service.len
          + sizeof("/aws4_request") - 1;

    scope_text.data = eg_pnalloc(pool, len);
    if (scope_text.data == NULL) {
        return EG_ERROR;
    }

    p = eg_cpymem(scope_text.data, ctx.date, 8);
    *p++ = '/';
    p = eg_cpymem(p, req->region.data, req->region.len);
    *p++ = '/';
    p = eg_cpymem(p, req->service.data, req->service.len);
    p = eg_cpymem(p, "/aws4_request", sizeof("/aws4_request") - 1);
    scope_text.len = (size_t) (p - scope_text.data);
    scope = &scope_text;

    /* the string to sign */

    if (eg_aws_sha256_hex(out->canonical.data, out->canonical.len, hash)
        != EG_OK)
    {
        return EG_ERROR;
    }

    len = sizeof(EG_AWS_ALGORITHM "\n") - 1 + EG_AWS_DATE_LEN + 1
          + scope->len + 1 + sizeof(hash);

    out->string_to_sign.data = eg_pnalloc(pool, len);
    if (out->string_to_sign.data == NULL) {
        return EG_ERROR;
    }

    p = eg_cpymem(out->string_to_sign.data, EG_AWS_ALGORITHM "\n",
                  sizeof(EG_AWS_ALGORITHM "\n") - 1);
    p = eg_cpymem(p, ctx.date, EG_AWS_DATE_LEN);
    *p++ = '\n';
    p = eg_cpymem(p, scope->data, scope->len);
    *p++ = '\n';
    p = eg_cpymem(p, hash, sizeof(hash));
    out->string_to_sign.len = (size_t) (p - out->string_to_sign.data);

    /* the signing key: the secret, narrowed to a day, region and service */

    len = 4 + creds->secret_key.len;

    key = eg_pnalloc(pool, len);
    if (key == NULL) {
        return EG_ERROR;
    }

    p = eg_cpymem(key, "AWS4", 4);
    eg_memcpy(p, creds->secret_key.data, creds->secret_key.len);

    if (eg_aws_hmac(key, len, ctx.date, 8, k) != EG_OK
        || eg_aws_hmac(k, sizeof(k), req->region.data, req->region.len, k)
           != EG_OK
        || eg_aws_hmac(k, sizeof(k), req->service.data, req->service.len, k)
           != EG_OK
        || eg_aws_hmac(k, sizeof(k), (u_char *) "aws4_request",
                       sizeof("aws4_request") - 1, k)
           != EG_OK
        || eg_aws_hmac(k, sizeof(k), out->string_to_sign.data,
                       out->string_to_sign.len, sig)
           != EG_OK)
    {
        /* the secret must not linger in the pool */
        OPENSSL_cleanse(key, len);
        OPENSSL_cleanse(k, sizeof(k));
        return EG_ERROR;
    }

    OPENSSL_cleanse(key, len);
    OPENSSL_cleanse(k, sizeof(k));

    eg_aws_hex(hex, sig, sizeof(sig));

    /* the signed header list, as in the canonical request */

    w.p = NULL;
    w.last = NULL;
    w.len = 0;
    eg_aws_render_signed(&w, &ctx);

    signed_headers.data = eg_pnalloc(pool, w.len + 1);
    if (signed_headers.data == NULL) {
        return EG_ERROR;
    }

    w.p = signed_headers.data;
    w.last = signed_headers.data + w.len + 1;
    w.len = 0;
    eg_aws_render_signed(&w, &ctx);
    signed_headers.len = w.len;

    /* AWS4-HMAC-SHA256 Credential=KEY/SCOPE, SignedHeaders=.., Signature= */

    len = sizeof(EG_AWS_ALGORITHM " Credential=") - 1
          + creds->access_key.len + 1 + scope->len
          + sizeof(", SignedHeaders=") - 1 + signed_headers.len
          + sizeof(", Signature=") - 1 + sizeof(hex);

    out->authorization.data = eg_pnalloc(pool, len);
    if (out->authorization.data == NULL) {
        return EG_ERROR;
    }

    p = out->authorization.data;
    last = p + len;

    p = eg_cpymem(p, EG_AWS_ALGORITHM " Credential=",
                  sizeof(EG_AWS_ALGORITHM " Credential=") - 1);
    p = eg_cpymem(p, creds->access_key.data, creds->access_key.len);
    *p++ = '/';
    p = eg_cpymem(p, scope->data, scope->len);
    p = eg_cpymem(p, ", SignedHeaders=", sizeof(", SignedHeaders=") - 1);
    p = eg_cpymem(p, signed_headers.data, signed_headers.len);
    p = eg_cpymem(p, ", Signature=", sizeof(", Signature=") - 1);
    p = eg_cpymem(p, hex, sizeof(hex));

    out->authorization.len = (size_t) (p - out->authorization.data);

    if (p > last) {
        /* cannot happen: the length above counts every part */
        return EG_ERROR;
    }

    /* what the caller sends besides its own headers */

    out->query = ctx.query;

    out->headers = eg_array_create(pool, 3, sizeof(eg_keyval_t));
    if (out->headers == NULL) {
        return EG_ERROR;
    }

    p = eg_pnalloc(pool, EG_AWS_DATE_LEN);
    if (p == NULL) {
        return EG_ERROR;
    }

    eg_memcpy(p, ctx.date, EG_AWS_DATE_LEN);

    if (eg_aws_push_header(out->headers, "X-Amz-Date", p, EG_AWS_DATE_LEN)
        != EG_OK)
    {
        return EG_ERROR;
    }

    if (creds->token.len
        && eg_aws_push_header(out->headers, "X-Amz-Security-Token",
                              creds->token.data, creds->token.len)
           != EG_OK)
    {
        return EG_ERROR;
    }

    return eg_aws_push_header(out->headers, "Authorization",
                              out->authorization.data,
                              out->authorization.len);
}


static eg_int_t
eg_aws_push_header(eg_array_t *a, const char *name, u_char *value,
    size_t len)
{
    eg_keyval_t  *kv;

    kv = eg_array_push(a);
    if (kv == NULL) {
        return EG_ERROR;
    }

    kv->key.data = (u_char *) name;
    kv->key.len = strlen(name);
    kv->value.data = value;
    kv->value.len = len;

    return EG_OK;
}


void
eg_aws_date(u_char *buf, time_t t)
{
    char       text[32];
    struct tm  tm;

    eg_memzero(&tm, sizeof(struct tm));
    (void) gmtime_r(&t, &tm);

    /* %Y of a sane clock has four digits; snprintf keeps us in bounds */
    (void) snprintf(text, sizeof(text), "%04d%02d%02dT%02d%02d%02dZ",
                    (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday,
                    tm.tm_hour, tm.tm_min, tm.tm_sec);

    eg_memcpy(buf, text, EG_AWS_DATE_LEN);
}


/* measures, then renders into memory of the pool */
static eg_int_t
eg_aws_render(eg_pool_t *pool, eg_aws_render_pt render, void *data,
    eg_str_t *out)
{
    eg_writer_t  w;

    w.p = NULL;
    w.last = NULL;
    w.len = 0;

    render(&w, data);

    out->data = eg_pnalloc(pool, w.len + 1);
    if (out->data == NULL) {
        return EG_ERROR;
    }

    w.p = out->data;
    w.last = out->data + w.len + 1;
    w.len = 0;

    render(&w, data);

    out->len = w.len;

    return EG_OK;
}


/* the pairs, encoded, for sorting */
typedef struct {
    eg_str_t             key;
    eg_str_t             value;
} eg_aws_pair_t;

typedef struct {
    eg_aws_pair_t       *pairs;
    eg_uint_t            n;
} eg_aws_query_t;


eg_int_t
eg_aws_query_encode(eg_pool_t *pool, eg_array_t *params, eg_str_t *out)
{
    int              c;
    eg_uint_t        i, j;
    eg_writer_t      w;
    eg_keyval_t     *kv;
    eg_aws_pair_t    tmp, *pairs;
    eg_aws_query_t   q;

    if (params == NULL || params->nelts == 0) {
        out->len = 0;
        out->data = (u_char *) "";
        return EG_OK;
    }

    kv = params->elts;

    pairs = eg_palloc(pool, params->nelts * sizeof(eg_aws_pair_t));
    if (pairs == NULL) {
        return EG_ERROR;
    }

    /* AWS sorts by the encoded names: encode each pair first */

    for (i = 0; i < params->nelts; i++) {
        w.p = NULL;
        w.last = NULL;
        w.len = 0;
        eg_aws_uri_encode(&w, kv[i].key.data, kv[i].key.len, 0);

        pairs[i].key.data = eg_pnalloc(pool, w.len + 1);
        if (pairs[i].key.data == NULL) {
            return EG_ERROR;
        }

        w.p = pairs[i].key.data;
        w.last = w.p + w.len + 1;
        w.len = 0;
        eg_aws_uri_encode(&w, kv[i].key.data, kv[i].key.len, 0);
        pairs[i].key.len = w.len;

        w.p = NULL;
        w.last = NULL;
        w.len = 0;
        eg_aws_uri_encode(&w, kv[i].value.data, kv[i].value.len, 0);

        pairs[i].value.data = eg_pnalloc(pool, w.len + 1);
        if (pairs[i].value.data == NULL) {
            return EG_ERROR;
        }

        w.p = pairs[i].value.data;
        w.last = w.p + w.len + 1;
        w.len = 0;
        eg_aws_uri_encode(&w, kv[i].value.data, kv[i].value.len, 0);
        pairs[i].value.len = w.len;
    }

    /* insertion sort: a request has a handful of parameters */

    for (i = 1; i < params->nelts; i++) {
        tmp = pairs[i];

        for (j = i; j > 0; j--) {
            c = eg_aws_str_order(&pairs[j - 1].key, &tmp.key);

            if (c < 0 || (c == 0
                          && eg_aws_str_order(&pairs[j - 1].value,
                                              &tmp.value) <= 0))
            {
                break;
            }

            pairs[j] = pairs[j - 1];
        }

        pairs[j] = tmp;
    }

    q.pairs = pairs;
    q.n = params->nelts;

    return eg_aws_render(pool, eg_aws_render_query, &q, out);
}


static void
eg_aws_render_query(eg_writer_t *w, void *data)
{
    eg_aws_query_t  *q = data;

    eg_uint_t  i;

    for (i = 0; i < q->n; i++) {
        if (i) {
            eg_writer_lit(w, "&");
        }

        eg_writer_write(w, q->pairs[i].key.data, q->pairs[i].key.len);
        eg_writer_lit(w, "=");
        eg_writer_write(w, q->pairs[i].value.data, q->pairs[i].value.len);
    }
}


/* bytewise, a prefix first: as Python compares the encoded strings */
static int
eg_aws_str_order(eg_str_t *a, eg_str_t *b)
{
    int  c;

    c = memcmp(a->data, b->data, eg_min(a->len, b->len));

    if (c != 0) {
        return c;
    }

    return (a->len > b->len) - (a->len < b->len);
}


/*
 * RFC 3986's unreserved characters stay, everything else is %XX with
 * upper-case hex, spaces included (never "+"); a path keeps its slashes
 */
static void
eg_aws_uri_encode(eg_writer_t *w, u_char *p, size_t len, eg_uint_t slash)
{
    u_char         *last, *start, esc[3];
    static u_char   hex[] = "0123456789ABCDEF";

    start = p;

    for (last = p + len; p < last; p++) {

        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')
            || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'
            || *p == '.' || *p == '~' || (slash && *p == '/'))
        {
            continue;
        }

        eg_writer_write(w, start, (size_t) (p - start));

        esc[0] = '%';
        esc[1] = hex[*p >> 4];
        esc[2] = hex[*p & 0x0f];
        eg_writer_write(w, esc, 3);

        start = p + 1;
    }

    eg_writer_write(w, start, (size_t) (p - start));
}


static eg_uint_t
eg_aws_blank(u_char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v'
           || c == '\f';
}


/* no blanks around, a run of blanks inside becomes one space */
static void
eg_aws_trim_value(eg_writer_t *w, eg_str_t *value)
{
    u_char     *p, *last, *start;
    eg_uint_t   first;

    p = value->data;
    last = p + value->len;
    first = 1;

    while (p < last) {

        while (p < last && eg_aws_blank(*p)) {
            p++;
        }

        if (p == last) {
            break;
        }

        start = p;

        while (p < last && !eg_aws_blank(*p)) {
            p++;
        }

        if (!first) {
            eg_writer_lit(w, " ");
        }

        eg_writer_write(w, start, (size_t) (p - start));
        first = 0;
    }
}


/*
 * The path with "." and ".." segments and empty segments removed, as
 * RFC 3986 5.2.4 and AWS say (botocore's remove_dot_segments()): each
 * segment kept is appended as "/seg", a ".." cuts back to the last "/".
 */
static eg_int_t
eg_aws_normalize_path(eg_pool_t *pool, eg_str_t *path, eg_str_t *out)
{
    u_char  *p, *last, *seg, *o, *start;
    size_t   len;

    if (path->len == 0) {
        eg_str_set(out, "/");
        return EG_OK;
    }

    start = eg_pnalloc(pool, path->len + 2);
    if (start == NULL) {
        return EG_ERROR;
    }

    p = path->data;
    last = p + path->len;
    o = start;

    while (p < last) {
        seg = p;

        while (p < last && *p != '/') {
            p++;
        }

        len = (size_t) (p - seg);

        if (p < last) {
            p++;
        }

        if (len == 0 || (len == 1 && seg[0] == '.')) {
            continue;
        }

        if (len == 2 && seg[0] == '.' && seg[1] == '.') {
            while (o > start && *--o != '/') {
                /* void */
            }

            continue;
        }

        *o++ = '/';
        o = eg_cpymem(o, seg, len);
    }

    /* a trailing slash stays when something is left before it */
    if (o > start && last[-1] == '/') {
        *o++ = '/';
    }

    out->data = start;
    out->len = (size_t) (o - start);

    if (path->data[0] != '/') {
        /* a relative path stays relative */
        if (out->len) {
            out->data++;
            out->len--;
        }

    } else if (out->len == 0) {
        eg_str_set(out, "/");
    }

    return EG_OK;
}


static void
eg_aws_render_canonical(eg_writer_t *w, void *data)
{
    eg_aws_sign_ctx_t  *ctx = data;

    u_char     *p, c;
    eg_uint_t   i;

    /* the method, upper-case as botocore makes it */
    for (p = ctx->req->method.data;
         p < ctx->req->method.data + ctx->req->method.len;
         p++)
    {
        c = eg_toupper(*p);
        eg_writer_write(w, &c, 1);
    }

    eg_writer_lit(w, "\n");
    eg_aws_uri_encode(w, ctx->path.data, ctx->path.len, 1);
    eg_writer_lit(w, "\n");
    eg_writer_write(w, ctx->query.data, ctx->query.len);
    eg_writer_lit(w, "\n");

    /* names sorted; a name given twice is one line, values joined by "," */

    for (i = 0; i < ctx->nheaders; i++) {
        if (i > 0
            && eg_aws_str_order(&ctx->headers[i - 1].name,
                                &ctx->headers[i].name) == 0)
        {
            eg_writer_lit(w, ",");

        } else {
            if (i > 0) {
                eg_writer_lit(w, "\n");
            }

            eg_writer_write(w, ctx->headers[i].name.data,
                            ctx->headers[i].name.len);
            eg_writer_lit(w, ":");
        }

        eg_aws_trim_value(w, &ctx->headers[i].value);
    }

    eg_writer_lit(w, "\n\n");
    eg_aws_render_signed(w, ctx);
    eg_writer_lit(w, "\n");
    eg_writer_write(w, ctx->payload, sizeof(ctx->payload));
}


static void
eg_aws_render_signed(eg_writer_t *w, eg_aws_sign_ctx_t *ctx)
{
    eg_uint_t  i, n;

    n = 0;

    for (i = 0; i < ctx->nheaders; i++) {
        if (i > 0
            && eg_aws_str_order(&ctx->headers[i - 1].name,
                                &ctx->headers[i].name) == 0)
        {
            continue;
        }

        if (n++) {
            eg_writer_lit(w, ";");
        }

        eg_writer_write(w, ctx->headers[i].name.data,
                        ctx->headers[i].name.len);
    }
}


/* host, x-amz-date, the token, and the caller's: lowercased and sorted */
static eg_int_t
eg_aws_headers(eg_pool_t *pool, eg_aws_sign_ctx_t *ctx)
{
    u_char           *p;
    eg_uint_t         i, j, n;
    eg_keyval_t      *kv;
    eg_aws_header_t   tmp, *h;

    n = 2 + (ctx->creds->token.len ? 1 : 0)
        + (ctx->req->headers ? ctx->req->headers->nelts : 0);

    h = eg_palloc(pool, n * sizeof(eg_aws_header_t));
    if (h == NULL) {
        return EG_ERROR;
    }

    n = 0;

    eg_str_set(&h[n].name, "host");
    h[n++].value = ctx->req->host;

    eg_str_set(&h[n].name, "x-amz-date");
    h[n].value.data = ctx->date;
    h[n++].value.len = EG_AWS_DATE_LEN;

    if (ctx->creds->token.len) {
        eg_str_set(&h[n].name, "x-amz-security-token");
        h[n++].value = ctx->creds->token;
    }

    if (ctx->req->headers) {
        kv = ctx->req->headers->elts;

        for (i = 0; i < ctx->req->headers->nelts; i++) {
            p = eg_pnalloc(pool, kv[i].key.len + 1);
            if (p == NULL) {
                return EG_ERROR;
            }

            eg_strlow(p, kv[i].key.data, kv[i].key.len);

            /* botocore strips the name too, for the signed list */
            h[n].name.data = p;
            h[n].name.len = kv[i].key.len;

            while (h[n].name.len && eg_aws_blank(h[n].name.data[0])) {
                h[n].name.data++;
                h[n].name.len--;
            }

            while (h[n].name.len
                   && eg_aws_blank(h[n].name.data[h[n].name.len - 1]))
            {
                h[n].name.len--;
            }

            h[n++].value = kv[i].value;
        }
    }

    /* a stable insertion sort: values of one name keep their order */

    for (i = 1; i < n; i++) {
        tmp = h[i];

        for (j = i; j > 0 && eg_aws_str_order(&h[j - 1].name, &tmp.name) > 0;
             j--)
        {
            h[j] = h[j - 1];
        }

        h[j] = tmp;
    }

    ctx->headers = h;
    ctx->nheaders = n;

    return EG_OK;
}


static void
eg_aws_hex(u_char *dst, u_char *src, size_t len)
{
    static u_char  hex[] = "0123456789abcdef";

    while (len--) {
        *dst++ = hex[*src >> 4];
        *dst++ = hex[*src++ & 0x0f];
    }
}


static eg_int_t
eg_aws_hmac(u_char *key, size_t key_len, u_char *data, size_t len,
    u_char *out)
{
    u_char        md[EVP_MAX_MD_SIZE];
    unsigned int  md_len;

    /* out may be key: the digest goes to md first */
    if (HMAC(EVP_sha256(), key, (int) key_len, data, len, md, &md_len)
        == NULL || md_len != EG_AWS_SHA256_LEN)
    {
        return EG_ERROR;
    }

    eg_memcpy(out, md, EG_AWS_SHA256_LEN);
    OPENSSL_cleanse(md, sizeof(md));

    return EG_OK;
}


static eg_int_t
eg_aws_sha256_hex(u_char *data, size_t len, u_char *out)
{
    u_char        md[EVP_MAX_MD_SIZE];
    unsigned int  md_len;

    /* an empty body may come as NULL: hash zero bytes of something */
    if (EVP_Digest(data ? data : (u_char *) "", len, md, &md_len,
                   EVP_sha256(), NULL)
        != 1 || md_len != EG_AWS_SHA256_LEN)
    {
        return EG_ERROR;
    }

    eg_aws_hex(out, md, EG_AWS_SHA256_LEN);

    return EG_OK;
}
