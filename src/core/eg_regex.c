/*
 * PCRE2 glue.  Patterns are compiled once at configuration time (JIT when
 * the platform allows) and matched in workers with a per-process match
 * data block, since a worker handles one request at a time.
 */

#include <eg_config.h>
#include <eg_core.h>

#if (EG_PCRE2)

#define PCRE2_CODE_UNIT_WIDTH  8
#include <pcre2.h>


struct eg_regex_s {
    pcre2_code          *code;
};


static pcre2_match_data  *eg_regex_match_data;
static eg_uint_t          eg_regex_match_size;


static void
eg_regex_cleanup(void *data)
{
    eg_regex_t  *re = data;

    pcre2_code_free(re->code);
}


eg_int_t
eg_regex_compile(eg_regex_compile_t *rc)
{
    int                 errcode;
    u_char             *p;
    uint32_t            options, ncaptures;
    PCRE2_SIZE          erroff;
    PCRE2_UCHAR         errstr[128];
    pcre2_code         *code;
    eg_regex_t         *re;
    eg_pool_cleanup_t  *cln;

    options = 0;

    if (rc->options & EG_REGEX_CASELESS) {
        options |= PCRE2_CASELESS;
    }

    code = pcre2_compile(rc->pattern.data, rc->pattern.len, options,
                         &errcode, &erroff, NULL);

    if (code == NULL) {
        (void) pcre2_get_error_message(errcode, errstr, sizeof(errstr));

        rc->err = eg_pnalloc(rc->pool, 256);
        if (rc->err == NULL) {
            return EG_ERROR;
        }

        p = eg_slprintf(rc->err, rc->err + 256,
                        "pcre2_compile() failed: %s in \"" EG_STR_FMT
                        "\" at \"%s\"", (char *) errstr,
                        EG_STR_ARG(rc->pattern),
                        (char *) rc->pattern.data
                        + eg_min(erroff, rc->pattern.len));
        rc->err_len = (size_t) (p - rc->err);

        return EG_ERROR;
    }

    /* JIT is an optimisation: without it matching is merely slower */
    (void) pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);

    re = eg_palloc(rc->pool, sizeof(eg_regex_t));
    if (re == NULL) {
        pcre2_code_free(code);
        return EG_ERROR;
    }

    re->code = code;

    cln = eg_pool_cleanup_add(rc->pool, 0);
    if (cln == NULL) {
        pcre2_code_free(code);
        return EG_ERROR;
    }

    cln->handler = eg_regex_cleanup;
    cln->data = re;

    if (pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &ncaptures) == 0
        && ncaptures + 1 > eg_regex_match_size)
    {
        eg_regex_match_size = ncaptures + 1;
    }

    rc->regex = re;

    return EG_OK;
}


eg_int_t
eg_regex_exec(eg_regex_t *re, eg_str_t *s)
{
    int  rc;

    if (eg_regex_match_data == NULL) {
        eg_regex_match_data = pcre2_match_data_create(
                                  eg_max(eg_regex_match_size, 1), NULL);

        if (eg_regex_match_data == NULL) {
            return EG_ERROR;
        }
    }

    rc = pcre2_match(re->code, s->data, s->len, 0, 0, eg_regex_match_data,
                     NULL);

    if (rc == PCRE2_ERROR_NOMATCH) {
        return EG_DECLINED;
    }

    if (rc < 0) {
        return EG_ERROR;
    }

    return EG_OK;
}

#else


struct eg_regex_s {
    int  unused;
};


eg_int_t
eg_regex_compile(eg_regex_compile_t *rc)
{
    static u_char  msg[] = "regular expressions need PCRE2, and this build "
                           "has none (./configure --without-pcre, or "
                           "\"libpcre2-dev\" was missing)";

    rc->err = msg;
    rc->err_len = sizeof(msg) - 1;

    return EG_ERROR;
}


eg_int_t
eg_regex_exec(eg_regex_t *re, eg_str_t *s)
{
    eg_unused(re);
    eg_unused(s);

    return EG_DECLINED;
}

#endif
