/*
 * Configuration parser.
 *
 * The grammar is nginx's: a file is a sequence of directives; a directive
 * is a name and arguments ended by ";" or followed by a block in "{ }".
 * Arguments are bare words or quoted strings ('...' or "..."); a backslash
 * escapes the next character ("\n", "\t", "\r" mean what they do in C);
 * "#" starts a comment that runs to the end of the line.
 *
 * The tokenizer works on the whole file in memory, which keeps it simple
 * and lets "engram -T" print exactly what was read.  Every error names the
 * file and line, and every one of them has a test in t/unit/.
 */

#include <eg_config.h>
#include <eg_core.h>


#define EG_CONF_MAX_FILE_SIZE   (4 * 1024 * 1024)
#define EG_CONF_MAX_DEPTH       16

typedef enum {
    eg_parse_file = 0,
    eg_parse_block,
    eg_parse_param
} eg_conf_parse_type_e;


static char *eg_conf_parse_buffer(eg_conf_t *cf, eg_conf_parse_type_e type);
static eg_int_t eg_conf_read_token(eg_conf_t *cf);
static eg_int_t eg_conf_push_arg(eg_conf_t *cf, u_char *start, u_char *end,
    eg_uint_t escaped);
static eg_int_t eg_conf_handler(eg_conf_t *cf, eg_int_t last);
static eg_int_t eg_conf_check_args(eg_conf_t *cf, eg_command_t *cmd);
static char *eg_conf_call(eg_conf_t *cf, eg_command_t *cmd, void *conf);
static eg_int_t eg_conf_read_file(eg_conf_t *cf, eg_str_t *name,
    eg_buf_t *b);
static int eg_conf_glob_error(const char *path, int err);


static eg_command_t  eg_conf_commands[] = {

    { eg_string("include"),
      EG_ANY_CONF|EG_CONF_TAKE1,
      eg_conf_include,
      0,
      0,
      NULL },

      eg_null_command
};


eg_module_t  eg_conf_module = {
    EG_MODULE_V1,
    "eg_conf_module",
    EG_CONF_MODULE,                     /* module type */
    NULL,                               /* module context */
    eg_conf_commands,                   /* module directives */
    NULL,                               /* environment overrides */
    NULL,                               /* init master */
    NULL,                               /* init module */
    NULL,                               /* init process */
    NULL,                               /* exit process */
    NULL                                /* exit master */
};


static eg_uint_t  argument_number[] = {
    EG_CONF_NOARGS,
    EG_CONF_TAKE1,
    EG_CONF_TAKE2,
    EG_CONF_TAKE3,
    EG_CONF_TAKE4,
    EG_CONF_TAKE5,
    EG_CONF_TAKE6,
    EG_CONF_TAKE7
};


/* parses the -g directives, which behave as if at the top of the file */
char *
eg_conf_param(eg_conf_t *cf)
{
    char            *rv;
    eg_buf_t         b;
    eg_str_t        *param;
    eg_conf_file_t   conf_file;

    param = &cf->cycle->conf_param;

    if (param->len == 0) {
        return EG_CONF_OK;
    }

    eg_memzero(&conf_file, sizeof(eg_conf_file_t));
    eg_memzero(&b, sizeof(eg_buf_t));

    b.start = param->data;
    b.pos = param->data;
    b.last = param->data + param->len;
    b.end = b.last;

    conf_file.fd = EG_INVALID_FILE;
    eg_str_set(&conf_file.name, "command line");
    conf_file.line = 1;
    conf_file.buffer = &b;

    cf->conf_file = &conf_file;

    rv = eg_conf_parse_buffer(cf, eg_parse_param);

    cf->conf_file = NULL;

    return rv;
}


char *
eg_conf_parse(eg_conf_t *cf, eg_str_t *filename)
{
    eg_str_t  content;
    eg_buf_t  buf;

    if (filename == NULL) {
        return eg_conf_parse_buffer(cf, eg_parse_block);
    }

    if (cf->depth >= EG_CONF_MAX_DEPTH) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "includes nested too deeply (at most %d) "
                          "while including \"" EG_STR_FMT "\"",
                          EG_CONF_MAX_DEPTH, EG_STR_ARG(*filename));
        return EG_CONF_ERROR;
    }

    eg_memzero(&buf, sizeof(eg_buf_t));

    if (eg_conf_read_file(cf, filename, &buf) != EG_OK) {
        return EG_CONF_ERROR;
    }

    content.data = buf.pos;
    content.len = (size_t) (buf.last - buf.pos);

    return eg_conf_parse_string(cf, filename, &content);
}


/* parses text as if it were the file "name"; tests and fuzzers use it */
char *
eg_conf_parse_string(eg_conf_t *cf, eg_str_t *name, eg_str_t *content)
{
    char            *rv;
    eg_buf_t         buf;
    eg_conf_file_t  *prev, conf_file;

    prev = cf->conf_file;

    eg_memzero(&conf_file, sizeof(eg_conf_file_t));
    eg_memzero(&buf, sizeof(eg_buf_t));

    buf.start = content->data;
    buf.pos = content->data;
    buf.last = content->data + content->len;
    buf.end = buf.last;

    conf_file.fd = 0;
    conf_file.name = *name;
    conf_file.line = 1;
    conf_file.buffer = &buf;

    cf->conf_file = &conf_file;
    cf->depth++;

    rv = eg_conf_parse_buffer(cf, eg_parse_file);

    cf->depth--;
    cf->conf_file = prev;

    return rv;
}


static eg_int_t
eg_conf_read_file(eg_conf_t *cf, eg_str_t *name, eg_buf_t *b)
{
    int              fd;
    u_char          *p;
    ssize_t          n;
    size_t           size;
    struct stat      st;
    eg_conf_dump_t  *dump;

    fd = open((char *) name->data, O_RDONLY|O_CLOEXEC);

    if (fd == -1) {
        eg_conf_log_error(EG_LOG_EMERG, cf, eg_errno,
                          "open() \"" EG_STR_FMT "\" failed",
                          EG_STR_ARG(*name));
        return EG_ERROR;
    }

    if (fstat(fd, &st) == -1) {
        eg_conf_log_error(EG_LOG_EMERG, cf, eg_errno,
                          "fstat() \"" EG_STR_FMT "\" failed",
                          EG_STR_ARG(*name));
        goto failed;
    }

    if (!S_ISREG(st.st_mode)) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "\"" EG_STR_FMT "\" is not a regular file",
                          EG_STR_ARG(*name));
        goto failed;
    }

    if (st.st_size > EG_CONF_MAX_FILE_SIZE) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "\"" EG_STR_FMT "\" is too large (more than %d "
                          "bytes)", EG_STR_ARG(*name),
                          EG_CONF_MAX_FILE_SIZE);
        goto failed;
    }

    size = (size_t) st.st_size;

    p = eg_pnalloc(cf->temp_pool, size + 1);
    if (p == NULL) {
        goto failed;
    }

    b->start = p;
    b->pos = p;
    b->last = p;
    b->end = p + size;

    while (b->last < b->end) {
        n = read(fd, b->last, (size_t) (b->end - b->last));

        if (n == -1) {
            if (eg_errno == EG_EINTR) {
                continue;
            }

            eg_conf_log_error(EG_LOG_EMERG, cf, eg_errno,
                              "read() \"" EG_STR_FMT "\" failed",
                              EG_STR_ARG(*name));
            goto failed;
        }

        if (n == 0) {
            break;      /* the file shrank while we read it */
        }

        b->last += n;
    }

    *b->last = '\0';
    (void) close(fd);

    if (eg_dump_config) {
        dump = eg_array_push(&cf->cycle->config_dump);
        if (dump == NULL) {
            return EG_ERROR;
        }

        dump->name.len = name->len;
        dump->name.data = eg_pstrdup(cf->cycle->pool, name);
        dump->content.len = (size_t) (b->last - b->start);
        dump->content.data = eg_pnalloc(cf->cycle->pool,
                                        dump->content.len + 1);

        if (dump->name.data == NULL || dump->content.data == NULL) {
            return EG_ERROR;
        }

        eg_memcpy(dump->content.data, b->start, dump->content.len + 1);
    }

    return EG_OK;

failed:

    (void) close(fd);
    return EG_ERROR;
}


static char *
eg_conf_parse_buffer(eg_conf_t *cf, eg_conf_parse_type_e type)
{
    char      *rv;
    eg_int_t   rc;

    for ( ;; ) {
        rc = eg_conf_read_token(cf);

        if (rc == EG_ERROR) {
            return EG_CONF_ERROR;
        }

        if (rc == EG_CONF_BLOCK_DONE) {
            if (type != eg_parse_block) {
                eg_conf_log_error(EG_LOG_EMERG, cf, 0, "unexpected \"}\"");
                return EG_CONF_ERROR;
            }

            return EG_CONF_OK;
        }

        if (rc == EG_CONF_FILE_DONE) {
            if (type == eg_parse_block) {
                eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                                  "unexpected end of file, expecting \"}\"");
                return EG_CONF_ERROR;
            }

            return EG_CONF_OK;
        }

        if (rc == EG_CONF_BLOCK_START && type == eg_parse_param) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "block directives are not supported "
                              "in -g option");
            return EG_CONF_ERROR;
        }

        /* rc is EG_OK (";") or EG_CONF_BLOCK_START ("{") */

        if (cf->handler) {
            rv = cf->handler(cf, NULL, cf->handler_conf);

            if (rv == EG_CONF_OK) {
                continue;
            }

            if (rv != EG_CONF_ERROR) {
                eg_conf_log_error(EG_LOG_EMERG, cf, 0, "%s", rv);
            }

            return EG_CONF_ERROR;
        }

        if (eg_conf_handler(cf, rc) != EG_OK) {
            return EG_CONF_ERROR;
        }
    }
}


/*
 * Reads one directive: its words go to cf->args.  Returns EG_OK at ";",
 * EG_CONF_BLOCK_START at "{", EG_CONF_BLOCK_DONE at "}",
 * EG_CONF_FILE_DONE at the end of input, or EG_ERROR.
 */
static eg_int_t
eg_conf_read_token(eg_conf_t *cf)
{
    u_char     ch, quote, *start, *p, *last;
    eg_buf_t  *b;
    eg_uint_t  escaped, start_line;

    b = cf->conf_file->buffer;
    cf->args->nelts = 0;

    p = b->pos;
    last = b->last;
    start_line = cf->conf_file->line;

    for ( ;; ) {

        /* between words */

        while (p < last && (*p == ' ' || *p == '\t' || *p == '\r'
                            || *p == '\n'))
        {
            if (*p == '\n') {
                cf->conf_file->line++;
            }

            p++;
        }

        if (p == last) {
            b->pos = p;

            if (cf->args->nelts > 0) {
                cf->conf_file->line = start_line;
                eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                                  "unexpected end of file, "
                                  "expecting \";\" or \"}\"");
                return EG_ERROR;
            }

            return EG_CONF_FILE_DONE;
        }

        ch = *p;

        if (cf->args->nelts == 0) {
            start_line = cf->conf_file->line;
        }

        switch (ch) {

        case '#':
            while (p < last && *p != '\n') {
                p++;
            }

            continue;

        case ';':
        case '{':
            b->pos = p + 1;

            if (cf->args->nelts == 0) {
                eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                                  "unexpected \"%c\"", ch);
                return EG_ERROR;
            }

            return ch == ';' ? EG_OK : EG_CONF_BLOCK_START;

        case '}':
            b->pos = p + 1;

            if (cf->args->nelts != 0) {
                eg_conf_log_error(EG_LOG_EMERG, cf, 0, "unexpected \"}\"");
                return EG_ERROR;
            }

            return EG_CONF_BLOCK_DONE;

        case '\0':
            b->pos = p;
            eg_conf_log_error(EG_LOG_EMERG, cf, 0, "unexpected NUL byte");
            return EG_ERROR;

        case '"':
        case '\'':
            quote = ch;
            start = ++p;
            escaped = 0;

            for ( ;; ) {
                if (p == last) {
                    b->pos = p;
                    eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                                      "unexpected end of file in a quoted "
                                      "string");
                    return EG_ERROR;
                }

                /* an escaped NUL is still a NUL: refused below */

                if (*p == '\\' && p + 1 < last && p[1] != '\0') {
                    if (p[1] == '\n') {
                        cf->conf_file->line++;
                    }

                    escaped = 1;
                    p += 2;
                    continue;
                }

                if (*p == '\0') {
                    b->pos = p;
                    eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                                      "unexpected NUL byte");
                    return EG_ERROR;
                }

                if (*p == quote) {
                    break;
                }

                if (*p == '\n') {
                    cf->conf_file->line++;
                }

                p++;
            }

            if (eg_conf_push_arg(cf, start, p, escaped) != EG_OK) {
                return EG_ERROR;
            }

            p++;

            /* a quoted word must be followed by a separator */

            if (p < last && *p != ' ' && *p != '\t' && *p != '\r'
                && *p != '\n' && *p != ';' && *p != '{' && *p != '}')
            {
                b->pos = p;
                eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                                  "unexpected \"%c\" after a quoted string",
                                  *p);
                return EG_ERROR;
            }

            continue;

        default:
            start = p;
            escaped = 0;

            while (p < last) {
                ch = *p;

                if (ch == '\\' && p + 1 < last && p[1] != '\0') {
                    if (p[1] == '\n') {
                        cf->conf_file->line++;
                    }

                    escaped = 1;
                    p += 2;
                    continue;
                }

                if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'
                    || ch == ';' || ch == '{' || ch == '}' || ch == '\0')
                {
                    break;
                }

                p++;
            }

            if (eg_conf_push_arg(cf, start, p, escaped) != EG_OK) {
                return EG_ERROR;
            }

            continue;
        }
    }
}


static eg_int_t
eg_conf_push_arg(eg_conf_t *cf, u_char *start, u_char *end,
    eg_uint_t escaped)
{
    u_char    *dst, *src;
    eg_str_t  *word;

    word = eg_array_push(cf->args);
    if (word == NULL) {
        return EG_ERROR;
    }

    word->data = eg_pnalloc(cf->pool, (size_t) (end - start) + 1);
    if (word->data == NULL) {
        return EG_ERROR;
    }

    if (!escaped) {
        word->len = (size_t) (end - start);
        eg_memcpy(word->data, start, word->len);
        word->data[word->len] = '\0';
        return EG_OK;
    }

    for (dst = word->data, src = start; src < end; src++) {
        if (*src == '\\' && src + 1 < end) {
            src++;

            switch (*src) {
            case 'n':
                *dst++ = '\n';
                break;
            case 't':
                *dst++ = '\t';
                break;
            case 'r':
                *dst++ = '\r';
                break;
            default:
                *dst++ = *src;     /* \" \' \\ \; \{ and the rest */
            }

            continue;
        }

        *dst++ = *src;
    }

    *dst = '\0';
    word->len = (size_t) (dst - word->data);

    return EG_OK;
}


static eg_int_t
eg_conf_handler(eg_conf_t *cf, eg_int_t last)
{
    char           *rv;
    void           *conf, **confp;
    eg_uint_t       i, found;
    eg_str_t       *name;
    eg_command_t   *cmd;
    eg_module_t   **modules;

    name = cf->args->elts;
    found = 0;
    modules = cf->cycle->modules;

    for (i = 0; i < cf->cycle->modules_n; i++) {

        cmd = modules[i]->commands;

        if (cmd == NULL) {
            continue;
        }

        for ( /* void */ ; cmd->name.len; cmd++) {

            if (name->len != cmd->name.len
                || eg_strcmp(name->data, cmd->name.data) != 0)
            {
                continue;
            }

            found = 1;

            if (modules[i]->type != EG_CONF_MODULE
                && modules[i]->type != cf->module_type)
            {
                continue;
            }

            if (!(cmd->type & cf->cmd_type)) {
                continue;
            }

            if (!(cmd->type & EG_CONF_BLOCK) && last != EG_OK) {
                eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                                  "directive \"%s\" is not terminated "
                                  "by \";\"", name->data);
                return EG_ERROR;
            }

            if ((cmd->type & EG_CONF_BLOCK) && last != EG_CONF_BLOCK_START)
            {
                eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                                  "directive \"%s\" has no opening \"{\"",
                                  name->data);
                return EG_ERROR;
            }

            if (eg_conf_check_args(cf, cmd) != EG_OK) {
                return EG_ERROR;
            }

            if (!(cmd->type & EG_CONF_BLOCK)
                && eg_conf_env_overrides(modules[i], name))
            {
                /* the environment wins; its value is applied later */
                return EG_OK;
            }

            /* find the conf the directive writes into */

            conf = NULL;

            if (cmd->type & EG_DIRECT_CONF) {
                conf = ((void **) cf->ctx)[modules[i]->index];

            } else if (cmd->type & EG_MAIN_CONF) {
                conf = &(((void **) cf->ctx)[modules[i]->index]);

            } else if (cf->ctx) {
                confp = *(void **) ((char *) cf->ctx + cmd->conf);

                if (confp) {
                    conf = confp[modules[i]->ctx_index];
                }
            }

            rv = eg_conf_call(cf, cmd, conf);

            return rv == EG_CONF_OK ? EG_OK : EG_ERROR;
        }
    }

    if (found) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "\"%s\" directive is not allowed here",
                          name->data);
        return EG_ERROR;
    }

    eg_conf_log_error(EG_LOG_EMERG, cf, 0, "unknown directive \"%s\"",
                      name->data);

    return EG_ERROR;
}


static eg_int_t
eg_conf_check_args(eg_conf_t *cf, eg_command_t *cmd)
{
    eg_uint_t   n;
    eg_str_t   *name;

    name = cf->args->elts;
    n = cf->args->nelts - 1;

    if (cmd->type & EG_CONF_ANY) {
        return EG_OK;
    }

    if (cmd->type & EG_CONF_FLAG) {
        if (n == 1) {
            return EG_OK;
        }

    } else if (cmd->type & EG_CONF_1MORE) {
        if (n >= 1) {
            return EG_OK;
        }

    } else if (cmd->type & EG_CONF_2MORE) {
        if (n >= 2) {
            return EG_OK;
        }

    } else if (n < EG_CONF_MAX_ARGS
               && (cmd->type & argument_number[n]))
    {
        return EG_OK;
    }

    eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                      "invalid number of arguments in \"%s\" directive",
                      name->data);

    return EG_ERROR;
}


static char *
eg_conf_call(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    char      *rv;
    eg_str_t  *name;

    name = cf->args->elts;

    rv = cmd->set(cf, cmd, conf);

    if (rv == EG_CONF_OK || rv == EG_CONF_ERROR) {
        return rv;
    }

    eg_conf_log_error(EG_LOG_EMERG, cf, 0, "\"%s\" directive %s",
                      name->data, rv);

    return EG_CONF_ERROR;
}


eg_uint_t
eg_conf_env_overrides(eg_module_t *module, eg_str_t *name)
{
    char           *value;
    eg_conf_env_t  *env;

    if (module->env == NULL) {
        return 0;
    }

    for (env = module->env; env->name; env++) {
        if (env->directive.len == name->len
            && eg_strncmp(env->directive.data, name->data, name->len) == 0)
        {
            value = getenv(env->name);
            return value != NULL && value[0] != '\0';
        }
    }

    return 0;
}


char *
eg_conf_env_apply(eg_conf_t *cf, eg_module_t *module, void *conf)
{
    char           *value, *rv;
    u_char         *p, *last, *start;
    eg_uint_t       sep_comma, sep_space;
    eg_str_t       *word;
    eg_command_t   *cmd;
    eg_conf_env_t  *env;

    if (module->env == NULL) {
        return EG_CONF_OK;
    }

    for (env = module->env; env->name; env++) {

        value = getenv(env->name);

        if (value == NULL || value[0] == '\0') {
            continue;
        }

        for (cmd = module->commands; cmd->name.len; cmd++) {
            if (cmd->name.len == env->directive.len
                && eg_strncmp(cmd->name.data, env->directive.data,
                              cmd->name.len) == 0)
            {
                break;
            }
        }

        if (cmd->name.len == 0) {
            /* a table error, not the operator's */
            eg_log_error(EG_LOG_ALERT, cf->log, 0,
                         "%s names unknown directive \"" EG_STR_FMT "\"",
                         env->name, EG_STR_ARG(env->directive));
            return EG_CONF_ERROR;
        }

        cf->env = env->name;
        cf->args->nelts = 0;

        word = eg_array_push(cf->args);
        if (word == NULL) {
            return EG_CONF_ERROR;
        }

        *word = cmd->name;

        sep_comma = env->flags & EG_ENV_SPLIT_COMMA;
        sep_space = env->flags & EG_ENV_SPLIT_SPACE;

        p = (u_char *) value;
        last = p + strlen(value);

        while (p < last) {
            start = p;

            while (p < last
                   && !(sep_comma && *p == ',')
                   && !(sep_space && (*p == ' ' || *p == '\t')))
            {
                p++;
            }

            /* "a, b" and "a,,b" are both forgiven: skip empty words */

            if (sep_comma || sep_space) {
                while (start < p && (*start == ' ' || *start == '\t')) {
                    start++;
                }

                while (p > start && (p[-1] == ' ' || p[-1] == '\t')) {
                    p--;
                }
            }

            if (p > start) {
                if (eg_conf_push_arg(cf, start, p, 0) != EG_OK) {
                    return EG_CONF_ERROR;
                }
            }

            /* step over the separator and any blanks we trimmed */
            while (p < last
                   && ((sep_comma && *p == ',')
                       || ((sep_space || sep_comma)
                           && (*p == ' ' || *p == '\t'))))
            {
                p++;
            }

            if (!sep_comma && !sep_space) {
                break;
            }
        }

        if (eg_conf_check_args(cf, cmd) != EG_OK) {
            cf->env = NULL;
            return EG_CONF_ERROR;
        }

        rv = eg_conf_call(cf, cmd, conf);

        cf->env = NULL;

        if (rv != EG_CONF_OK) {
            return EG_CONF_ERROR;
        }
    }

    return EG_CONF_OK;
}


char *
eg_conf_include(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    int         rc;
    char       *rv;
    size_t      i;
    glob_t      gl;
    eg_str_t   *value, file, name;

    eg_unused(cmd);
    eg_unused(conf);

    value = cf->args->elts;
    file = value[1];

    if (eg_conf_full_name(cf->cycle, &file, 1) != EG_OK) {
        return EG_CONF_ERROR;
    }

    if (strpbrk((char *) file.data, "*?[") == NULL) {
        return eg_conf_parse(cf, &file);
    }

    eg_memzero(&gl, sizeof(glob_t));

    rc = glob((char *) file.data, 0, eg_conf_glob_error, &gl);

    if (rc == GLOB_NOMATCH) {
        /* as nginx: a pattern that matches nothing is not an error */
        return EG_CONF_OK;
    }

    if (rc != 0) {
        eg_conf_log_error(EG_LOG_EMERG, cf, eg_errno,
                          "glob() \"%s\" failed", file.data);
        globfree(&gl);
        return EG_CONF_ERROR;
    }

    rv = EG_CONF_OK;

    for (i = 0; i < gl.gl_pathc; i++) {
        name.len = strlen(gl.gl_pathv[i]);
        name.data = eg_pnalloc(cf->pool, name.len + 1);

        if (name.data == NULL) {
            rv = EG_CONF_ERROR;
            break;
        }

        eg_memcpy(name.data, gl.gl_pathv[i], name.len + 1);

        rv = eg_conf_parse(cf, &name);

        if (rv != EG_CONF_OK) {
            break;
        }
    }

    globfree(&gl);

    return rv;
}


/*
 * A directory of the pattern that does not exist matches nothing, as in
 * nginx; any other error (an unreadable directory) stops the glob.
 */
static int
eg_conf_glob_error(const char *path, int err)
{
    eg_unused(path);

    return err != ENOENT;
}


eg_int_t
eg_conf_full_name(eg_cycle_t *cycle, eg_str_t *name, eg_uint_t conf_prefix)
{
    return eg_get_full_name(cycle->pool,
                            conf_prefix ? &cycle->conf_prefix
                                        : &cycle->prefix,
                            name);
}


void
eg_conf_log_error(eg_uint_t level, eg_conf_t *cf, eg_err_t err,
    const char *fmt, ...)
{
    u_char   errstr[EG_MAX_CONF_ERRSTR], *p, *last;
    va_list  args;

    last = errstr + EG_MAX_CONF_ERRSTR;

    va_start(args, fmt);
    p = eg_vslprintf(errstr, last, fmt, args);
    va_end(args);

    if (err) {
        p = eg_log_errno(p, last, err);
    }

    if (cf->env) {
        (void) eg_slprintf(p, last, ", in environment variable %s",
                           cf->env);

    } else if (cf->conf_file) {
        (void) eg_slprintf(p, last, " in " EG_STR_FMT ":%lu",
                           EG_STR_ARG(cf->conf_file->name),
                           (unsigned long) cf->conf_file->line);
    }

    eg_log_error(level, cf->log, 0, "%s", errstr);
}


char *
eg_conf_set_flag_slot(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_str_t   *value;
    eg_flag_t  *fp;

    fp = (eg_flag_t *) ((char *) conf + cmd->offset);

    if (*fp != EG_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (eg_strcasecmp(value[1].data, (u_char *) "on") == 0) {
        *fp = 1;

    } else if (eg_strcasecmp(value[1].data, (u_char *) "off") == 0) {
        *fp = 0;

    } else {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "invalid value \"%s\" in \"%s\" directive, "
                          "it must be \"on\" or \"off\"",
                          value[1].data, cmd->name.data);
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;
}


char *
eg_conf_set_str_slot(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_str_t  *field, *value;

    field = (eg_str_t *) ((char *) conf + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *field = value[1];

    return EG_CONF_OK;
}


char *
eg_conf_set_str_array_slot(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_uint_t    i;
    eg_str_t    *value, *s;
    eg_array_t **a;

    a = (eg_array_t **) ((char *) conf + cmd->offset);

    if (*a == EG_CONF_UNSET_PTR || *a == NULL) {
        *a = eg_array_create(cf->pool, 4, sizeof(eg_str_t));
        if (*a == NULL) {
            return EG_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        s = eg_array_push(*a);
        if (s == NULL) {
            return EG_CONF_ERROR;
        }

        *s = value[i];
    }

    return EG_CONF_OK;
}


char *
eg_conf_set_keyval_slot(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_str_t     *value;
    eg_array_t  **a;
    eg_keyval_t  *kv;

    a = (eg_array_t **) ((char *) conf + cmd->offset);

    if (*a == EG_CONF_UNSET_PTR || *a == NULL) {
        *a = eg_array_create(cf->pool, 4, sizeof(eg_keyval_t));
        if (*a == NULL) {
            return EG_CONF_ERROR;
        }
    }

    kv = eg_array_push(*a);
    if (kv == NULL) {
        return EG_CONF_ERROR;
    }

    value = cf->args->elts;

    kv->key = value[1];
    kv->value = value[2];

    return EG_CONF_OK;
}


static char *
eg_conf_check_bounds(eg_conf_t *cf, eg_command_t *cmd, eg_int_t n)
{
    eg_conf_num_bounds_t  *bounds;

    bounds = cmd->post;

    if (bounds == NULL) {
        return EG_CONF_OK;
    }

    if (n < bounds->low || n > bounds->high) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "value \"%s\" in \"%s\" directive is out of "
                          "range, it must be between %ld and %ld",
                          ((eg_str_t *) cf->args->elts)[1].data,
                          cmd->name.data, (long) bounds->low,
                          (long) bounds->high);
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;
}


static char *
eg_conf_invalid_value(eg_conf_t *cf, eg_command_t *cmd)
{
    eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                      "invalid value \"%s\" in \"%s\" directive",
                      ((eg_str_t *) cf->args->elts)[1].data,
                      cmd->name.data);

    return EG_CONF_ERROR;
}


char *
eg_conf_set_num_slot(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_int_t  *np;
    eg_str_t  *value;

    np = (eg_int_t *) ((char *) conf + cmd->offset);

    if (*np != EG_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *np = eg_atoi(value[1].data, value[1].len);

    if (*np == EG_ERROR) {
        return eg_conf_invalid_value(cf, cmd);
    }

    return eg_conf_check_bounds(cf, cmd, *np);
}


char *
eg_conf_set_size_slot(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    size_t    *sp;
    ssize_t    n;
    eg_str_t  *value;

    sp = (size_t *) ((char *) conf + cmd->offset);

    if (*sp != EG_CONF_UNSET_SIZE) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = eg_parse_size(&value[1]);

    if (n == EG_ERROR) {
        return eg_conf_invalid_value(cf, cmd);
    }

    *sp = (size_t) n;

    return eg_conf_check_bounds(cf, cmd, n);
}


char *
eg_conf_set_msec_slot(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_int_t    n;
    eg_str_t   *value;
    eg_msec_t  *mp;

    mp = (eg_msec_t *) ((char *) conf + cmd->offset);

    if (*mp != EG_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = eg_parse_time(&value[1], 1);

    if (n == EG_ERROR) {
        return eg_conf_invalid_value(cf, cmd);
    }

    *mp = (eg_msec_t) n;

    return eg_conf_check_bounds(cf, cmd, n);
}


char *
eg_conf_set_sec_slot(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    time_t    *sp;
    eg_int_t   n;
    eg_str_t  *value;

    sp = (time_t *) ((char *) conf + cmd->offset);

    if (*sp != EG_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = eg_parse_time(&value[1], 0);

    if (n == EG_ERROR) {
        return eg_conf_invalid_value(cf, cmd);
    }

    *sp = (time_t) n;

    return eg_conf_check_bounds(cf, cmd, n);
}


char *
eg_conf_set_enum_slot(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    u_char          buf[256], *p, *last;
    eg_str_t       *value;
    eg_uint_t      *np;
    eg_conf_enum_t *e;

    np = (eg_uint_t *) ((char *) conf + cmd->offset);

    if (*np != EG_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (e = cmd->post; e->name.len; e++) {
        if (e->name.len == value[1].len
            && eg_strcasecmp(e->name.data, value[1].data) == 0)
        {
            *np = e->value;
            return EG_CONF_OK;
        }
    }

    p = buf;
    last = buf + sizeof(buf);

    for (e = cmd->post; e->name.len; e++) {
        p = eg_slprintf(p, last, "%s\"" EG_STR_FMT "\"",
                        p == buf ? "" : ", ", EG_STR_ARG(e->name));
    }

    eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                      "invalid value \"%s\" in \"%s\" directive, "
                      "it must be one of %s",
                      value[1].data, cmd->name.data, buf);

    return EG_CONF_ERROR;
}


char *
eg_conf_set_addr_slot(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_str_t        *value;
    eg_url_t        *u;
    eg_conf_addr_t  *post;

    u = (eg_url_t *) ((char *) conf + cmd->offset);

    if (u->url.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    post = cmd->post;

    if (eg_parse_url(cf->pool, u, &value[1],
                     post ? post->default_port : 0,
                     post ? post->flags : 0)
        != EG_OK)
    {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "%s in \"%s\" of the \"%s\" directive",
                          u->err ? u->err : "invalid address",
                          value[1].data, cmd->name.data);
        u->url.data = NULL;
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;
}
