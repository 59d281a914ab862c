/*
 * Unit tests: one Check suite per area, all linked into objs/engram-unit
 * with the core and the event layer.  This header declares each suite's
 * constructor and the helpers the suites share (t/unit/unit_helpers.c):
 *
 *   - a scratch directory, made by main() and removed when the run ends,
 *     where tests write configuration files;
 *   - a log whose destination is an unlinked temporary file: the test
 *     reads back what was logged, one "[level] message" line per entry,
 *     with the scratch directory written as "TMP";
 *   - a runner that takes a configuration through eg_init_cycle() in
 *     test mode (-t), exactly as engram does at start-up;
 *   - an eg_conf_t to call slot setters with, as the parser would.
 */

#ifndef EG_UNIT_H_INCLUDED
#define EG_UNIT_H_INCLUDED


#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>

#include <check.h>


#define EG_UNIT_LOG_MAX     8192
#define EG_UNIT_MAIN_CONF   "engram.conf"


/*
 * An assertion for hot loops: Check's ck_assert_*() record the location
 * of every passing assertion, which costs a write per call.
 */
#define eg_unit_require(cond, ...)                                           \
    do {                                                                     \
        if (!(cond)) {                                                       \
            ck_abort_msg(__VA_ARGS__);                                       \
        }                                                                    \
    } while (0)


/* an eg_str_t (not necessarily terminated) equals a C string */
#define eg_unit_assert_str_eq(s, expect)                                     \
    do {                                                                     \
        eg_str_t    *eg_unit_s_ = (s);                                       \
        const char  *eg_unit_e_ = (expect);                                  \
                                                                             \
        ck_assert_msg(eg_unit_s_->len == strlen(eg_unit_e_)                  \
                      && (eg_unit_s_->len == 0                               \
                          || memcmp(eg_unit_s_->data, eg_unit_e_,            \
                                    eg_unit_s_->len) == 0),                  \
                      "\"%.*s\" is not \"%s\"", (int) eg_unit_s_->len,       \
                      eg_unit_s_->data ? (const char *) eg_unit_s_->data     \
                                       : "",                                 \
                      eg_unit_e_);                                           \
    } while (0)


typedef struct {
    eg_log_t             log;       /* hand &log to the code under test */
    eg_open_file_t       file;      /* an unlinked temporary file */
    char                 text[EG_UNIT_LOG_MAX];    /* normalized lines */
} eg_unit_log_t;


typedef struct {
    eg_unit_log_t        log;       /* the start-up log of the cycle */
    eg_cycle_t           init;      /* the cycle eg_init_cycle() builds on */
    eg_cycle_t          *cycle;     /* what it built, NULL on failure */
} eg_unit_conf_t;


typedef struct {
    eg_unit_log_t        log;
    eg_pool_t           *pool;
    eg_conf_file_t       file;      /* "test.conf", at line 7 */
    eg_cycle_t           cycle;     /* only pool and log are set */
    eg_conf_t            cf;
} eg_unit_cf_t;


/* suites, one per file */
Suite *eg_unit_string_suite(void);
Suite *eg_unit_rbtree_suite(void);
Suite *eg_unit_pool_suite(void);
Suite *eg_unit_inet_suite(void);
Suite *eg_unit_conf_suite(void);
Suite *eg_unit_slots_suite(void);
Suite *eg_unit_env_suite(void);
Suite *eg_unit_timer_suite(void);
Suite *eg_unit_slab_suite(void);
Suite *eg_unit_http_parse_suite(void);
Suite *eg_unit_metrics_suite(void);
Suite *eg_unit_swim_wire_suite(void);
Suite *eg_unit_swim_suite(void);
Suite *eg_unit_resolver_suite(void);
Suite *eg_unit_aws_sigv4_suite(void);
Suite *eg_unit_aws_ec2_suite(void);
Suite *eg_unit_dhttp_suite(void);
Suite *eg_unit_k8s_suite(void);
Suite *eg_unit_mcast_suite(void);


/* the scratch directory */
void eg_unit_tmpdir_create(void);
void eg_unit_tmpdir_remove(void);
const char *eg_unit_tmpdir(void);
void eg_unit_path(char *buf, size_t size, const char *name);
void eg_unit_write_file(const char *name, const char *text);
void eg_unit_write_bytes(const char *name, const void *data, size_t len);
void eg_unit_mkdir(const char *name);

/* a log read back by the test */
void eg_unit_log_open(eg_unit_log_t *ul);
const char *eg_unit_log_text(eg_unit_log_t *ul);
void eg_unit_log_close(eg_unit_log_t *ul);

/*
 * Writes text (unless NULL) to TMP/engram.conf and runs eg_init_cycle()
 * on it with param as the -g directives (or none).  The log is in
 * uc->log.text afterwards; eg_unit_conf_done() frees everything.
 */
eg_cycle_t *eg_unit_conf_run(eg_unit_conf_t *uc, const char *text,
    const char *param);
const char *eg_unit_conf_log(eg_unit_conf_t *uc);
void eg_unit_conf_done(eg_unit_conf_t *uc);
eg_core_conf_t *eg_unit_core_conf(eg_cycle_t *cycle);
eg_event_conf_t *eg_unit_event_conf(eg_cycle_t *cycle);

/* a conf for slot setters; args are the directive name and its words */
void eg_unit_cf_init(eg_unit_cf_t *u);
void eg_unit_cf_args(eg_unit_cf_t *u, const char *name, ...);
const char *eg_unit_cf_log(eg_unit_cf_t *u);
void eg_unit_cf_done(eg_unit_cf_t *u);

/* a deterministic pseudo-random sequence (xorshift64) */
uint64_t eg_unit_random(uint64_t *state);

#endif /* EG_UNIT_H_INCLUDED */
