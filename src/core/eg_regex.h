/*
 * Regular expressions, by PCRE2 with JIT when configure found it.  A build
 * without PCRE2 still parses; compiling a regex then fails with a message
 * that says how to get one.
 */

#ifndef EG_REGEX_H_INCLUDED
#define EG_REGEX_H_INCLUDED


typedef struct eg_regex_s  eg_regex_t;

#define EG_REGEX_CASELESS   0x01


typedef struct {
    eg_str_t        pattern;
    eg_pool_t      *pool;
    eg_uint_t       options;    /* EG_REGEX_* */

    eg_regex_t     *regex;      /* out */
    u_char         *err;        /* out: why it failed, for the config log */
    size_t          err_len;
} eg_regex_compile_t;


eg_int_t eg_regex_compile(eg_regex_compile_t *rc);

/* EG_OK on a match, EG_DECLINED on none, EG_ERROR on a matcher failure */
eg_int_t eg_regex_exec(eg_regex_t *re, eg_str_t *s);

#endif /* EG_REGEX_H_INCLUDED */
