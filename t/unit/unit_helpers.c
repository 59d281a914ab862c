/*
 * Helpers shared by the unit test suites; see eg_unit.h.
 */

#include <eg_unit.h>

#include <ftw.h>


static int eg_unit_remove_entry(const char *path, const struct stat *st,
    int flag, struct FTW *ftw);
static void eg_unit_normalize(eg_unit_log_t *ul, char *raw, size_t n);
static void eg_unit_pstr(eg_pool_t *pool, eg_str_t *dst, const char *src);


static char  eg_unit_dir[PATH_MAX];


void
eg_unit_tmpdir_create(void)
{
    const char  *base;

    base = getenv("TMPDIR");

    if (base == NULL || base[0] == '\0') {
        base = "/tmp";
    }

    (void) snprintf(eg_unit_dir, sizeof(eg_unit_dir),
                    "%s/engram-unit.XXXXXX", base);

    if (mkdtemp(eg_unit_dir) == NULL) {
        (void) fprintf(stderr, "engram-unit: mkdtemp(\"%s\") failed: %s\n",
                       eg_unit_dir, strerror(errno));
        exit(2);
    }
}


void
eg_unit_tmpdir_remove(void)
{
    if (eg_unit_dir[0] == '\0') {
        return;
    }

    (void) nftw(eg_unit_dir, eg_unit_remove_entry, 16, FTW_DEPTH|FTW_PHYS);
}


static int
eg_unit_remove_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
    eg_unused(st);
    eg_unused(flag);
    eg_unused(ftw);

    (void) remove(path);

    return 0;
}


const char *
eg_unit_tmpdir(void)
{
    return eg_unit_dir;
}


void
eg_unit_path(char *buf, size_t size, const char *name)
{
    int  n;

    n = snprintf(buf, size, "%s/%s", eg_unit_dir, name);

    ck_assert_msg(n > 0 && (size_t) n < size, "path too long: %s", name);
}


void
eg_unit_write_file(const char *name, const char *text)
{
    eg_unit_write_bytes(name, text, strlen(text));
}


void
eg_unit_write_bytes(const char *name, const void *data, size_t len)
{
    int   fd;
    char  path[PATH_MAX];

    eg_unit_path(path, sizeof(path), name);

    fd = open(path, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644);
    ck_assert_msg(fd != -1, "open(\"%s\") failed: %s", path,
                  strerror(errno));

    ck_assert_int_eq(eg_write_fd(fd, data, len), EG_OK);

    (void) close(fd);
}


void
eg_unit_mkdir(const char *name)
{
    char  path[PATH_MAX];

    eg_unit_path(path, sizeof(path), name);

    ck_assert_msg(mkdir(path, 0755) == 0 || errno == EEXIST,
                  "mkdir(\"%s\") failed: %s", path, strerror(errno));
}


void
eg_unit_log_open(eg_unit_log_t *ul)
{
    int   fd;
    char  path[PATH_MAX];

    eg_memzero(ul, sizeof(eg_unit_log_t));

    /* the log prints the cached time: it must be set */
    eg_time_init();

    eg_unit_path(path, sizeof(path), "log.XXXXXX");

    fd = mkstemp(path);
    ck_assert_msg(fd != -1, "mkstemp(\"%s\") failed: %s", path,
                  strerror(errno));

    (void) unlink(path);

    ul->file.fd = fd;
    eg_str_set(&ul->file.name, "unit.log");

    ul->log.file = &ul->file;
    ul->log.log_level = EG_LOG_DEBUG;

    /* whole lines to the file, and nothing to the terminal */
    eg_use_stderr = 0;
}


const char *
eg_unit_log_text(eg_unit_log_t *ul)
{
    char     raw[EG_UNIT_LOG_MAX];
    ssize_t  n;

    n = pread(ul->file.fd, raw, sizeof(raw) - 1, 0);
    ck_assert_msg(n >= 0, "pread() failed: %s", strerror(errno));

    raw[n] = '\0';

    eg_unit_normalize(ul, raw, (size_t) n);

    return ul->text;
}


/*
 * "2026/11/26 03:38:24 [emerg] 1234#0: message" becomes
 * "[emerg] message", and the scratch directory becomes "TMP".
 */
static void
eg_unit_normalize(eg_unit_log_t *ul, char *raw, size_t n)
{
    char    *p, *last, *eol, *level, *msg, *dst, *end;
    size_t   dlen;

    p = raw;
    last = raw + n;
    dst = ul->text;
    end = ul->text + sizeof(ul->text) - 1;
    dlen = strlen(eg_unit_dir);

    while (p < last && dst < end) {
        eol = memchr(p, '\n', (size_t) (last - p));

        if (eol == NULL) {
            eol = last;
        }

        level = memchr(p, '[', (size_t) (eol - p));
        msg = level ? strstr(level, "#0: ") : NULL;

        if (level == NULL || msg == NULL || msg > eol) {
            level = NULL;
            msg = p;

        } else {
            msg += sizeof("#0: ") - 1;
        }

        if (level) {
            while (dst < end && *level != ' ') {
                *dst++ = *level++;
            }

            if (dst < end) {
                *dst++ = ' ';
            }
        }

        while (msg < eol && dst < end) {
            if (dlen && (size_t) (eol - msg) >= dlen
                && memcmp(msg, eg_unit_dir, dlen) == 0)
            {
                if (end - dst < 3) {
                    break;
                }

                dst = memcpy(dst, "TMP", 3);
                dst += 3;
                msg += dlen;
                continue;
            }

            *dst++ = *msg++;
        }

        if (dst < end && eol < last) {
            *dst++ = '\n';
        }

        p = eol + 1;
    }

    *dst = '\0';
}


void
eg_unit_log_close(eg_unit_log_t *ul)
{
    if (ul->file.fd != -1) {
        (void) close(ul->file.fd);
        ul->file.fd = -1;
    }
}


static void
eg_unit_pstr(eg_pool_t *pool, eg_str_t *dst, const char *src)
{
    eg_str_t  s;

    s.len = strlen(src);
    s.data = (u_char *) src;

    dst->len = s.len;
    dst->data = eg_pstrdup(pool, &s);

    ck_assert_ptr_nonnull(dst->data);
}


eg_cycle_t *
eg_unit_conf_run(eg_unit_conf_t *uc, const char *text, const char *param)
{
    char  path[PATH_MAX];

    ck_assert_msg(uc->init.log == NULL,
                  "eg_unit_conf_run() again before eg_unit_conf_done()");

    eg_memzero(uc, sizeof(eg_unit_conf_t));

    if (text) {
        eg_unit_write_file(EG_UNIT_MAIN_CONF, text);
    }

    (void) eg_preinit_modules();

    /* "engram -t -q": nothing is opened, bound or printed */
    eg_test_config = 1;
    eg_quiet_mode = 1;

    eg_unit_log_open(&uc->log);

    uc->init.log = &uc->log.log;
    uc->init.pool = eg_create_pool(1024, uc->init.log);
    ck_assert_ptr_nonnull(uc->init.pool);

    eg_unit_path(path, sizeof(path), "");      /* "TMP/" */
    eg_unit_pstr(uc->init.pool, &uc->init.prefix, path);
    uc->init.conf_prefix = uc->init.prefix;

    eg_unit_path(path, sizeof(path), EG_UNIT_MAIN_CONF);
    eg_unit_pstr(uc->init.pool, &uc->init.conf_file, path);

    eg_str_set(&uc->init.error_log, "stderr");

    if (param) {
        eg_unit_pstr(uc->init.pool, &uc->init.conf_param, param);
    }

    eg_cycle = &uc->init;

    uc->cycle = eg_init_cycle(&uc->init);

    (void) eg_unit_log_text(&uc->log);

    return uc->cycle;
}


const char *
eg_unit_conf_log(eg_unit_conf_t *uc)
{
    return uc->log.text;
}


void
eg_unit_conf_done(eg_unit_conf_t *uc)
{
    if (uc->init.log == NULL) {
        return;     /* never run, or done already */
    }

    if (uc->cycle) {
        eg_destroy_pool(uc->cycle->pool);
        uc->cycle = NULL;
    }

    if (uc->init.pool) {
        eg_destroy_pool(uc->init.pool);
        uc->init.pool = NULL;
    }

    eg_cycle = NULL;

    eg_unit_log_close(&uc->log);
    uc->init.log = NULL;
}


eg_core_conf_t *
eg_unit_core_conf(eg_cycle_t *cycle)
{
    return (eg_core_conf_t *) eg_get_conf(cycle->conf_ctx, eg_core_module);
}


eg_event_conf_t *
eg_unit_event_conf(eg_cycle_t *cycle)
{
    return eg_event_get_conf(cycle->conf_ctx, eg_event_core_module);
}


void
eg_unit_cf_init(eg_unit_cf_t *u)
{
    eg_memzero(u, sizeof(eg_unit_cf_t));

    eg_unit_log_open(&u->log);

    u->pool = eg_create_pool(EG_DEFAULT_POOL_SIZE, &u->log.log);
    ck_assert_ptr_nonnull(u->pool);

    u->cycle.pool = u->pool;
    u->cycle.log = &u->log.log;

    u->file.fd = EG_INVALID_FILE;
    eg_str_set(&u->file.name, "test.conf");
    u->file.line = 7;

    u->cf.args = eg_array_create(u->pool, 8, sizeof(eg_str_t));
    ck_assert_ptr_nonnull(u->cf.args);

    u->cf.cycle = &u->cycle;
    u->cf.pool = u->pool;
    u->cf.temp_pool = u->pool;
    u->cf.conf_file = &u->file;
    u->cf.log = &u->log.log;
    u->cf.module_type = EG_CORE_MODULE;
    u->cf.cmd_type = EG_MAIN_CONF;
}


void
eg_unit_cf_args(eg_unit_cf_t *u, const char *name, ...)
{
    va_list      args;
    eg_str_t    *word;
    const char  *s;

    u->cf.args->nelts = 0;

    va_start(args, name);

    for (s = name; s; s = va_arg(args, const char *)) {
        word = eg_array_push(u->cf.args);
        ck_assert_ptr_nonnull(word);

        eg_unit_pstr(u->pool, word, s);
    }

    va_end(args);
}


const char *
eg_unit_cf_log(eg_unit_cf_t *u)
{
    return eg_unit_log_text(&u->log);
}


void
eg_unit_cf_done(eg_unit_cf_t *u)
{
    if (u->pool == NULL) {
        return;     /* never set up, or done already */
    }

    eg_destroy_pool(u->pool);
    u->pool = NULL;

    eg_unit_log_close(&u->log);
}


uint64_t
eg_unit_random(uint64_t *state)
{
    uint64_t  x;

    x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;

    return x;
}
