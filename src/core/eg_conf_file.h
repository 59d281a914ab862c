/*
 * The configuration language and the directive machinery.
 *
 * A directive is a name, the contexts it is allowed in, how many arguments
 * it takes, and a handler that stores them.  Most handlers are the generic
 * slot setters below, which write at an offset into the module's conf
 * struct; a block directive's handler creates its sub-modules' confs and
 * calls eg_conf_parse() again for the body.
 */

#ifndef EG_CONF_FILE_H_INCLUDED
#define EG_CONF_FILE_H_INCLUDED


/* argument counts: one bit per allowed count */
#define EG_CONF_NOARGS      0x00000001
#define EG_CONF_TAKE1       0x00000002
#define EG_CONF_TAKE2       0x00000004
#define EG_CONF_TAKE3       0x00000008
#define EG_CONF_TAKE4       0x00000010
#define EG_CONF_TAKE5       0x00000020
#define EG_CONF_TAKE6       0x00000040
#define EG_CONF_TAKE7       0x00000080

#define EG_CONF_MAX_ARGS    8

#define EG_CONF_TAKE12      (EG_CONF_TAKE1|EG_CONF_TAKE2)
#define EG_CONF_TAKE13      (EG_CONF_TAKE1|EG_CONF_TAKE3)
#define EG_CONF_TAKE23      (EG_CONF_TAKE2|EG_CONF_TAKE3)
#define EG_CONF_TAKE123     (EG_CONF_TAKE1|EG_CONF_TAKE2|EG_CONF_TAKE3)
#define EG_CONF_TAKE1234    (EG_CONF_TAKE1|EG_CONF_TAKE2|EG_CONF_TAKE3   \
                             |EG_CONF_TAKE4)

#define EG_CONF_ARGS_NUMBER 0x000000ff
#define EG_CONF_BLOCK       0x00000100  /* followed by "{ ... }" */
#define EG_CONF_FLAG        0x00000200  /* one argument, "on" or "off" */
#define EG_CONF_ANY         0x00000400  /* any number of arguments */
#define EG_CONF_1MORE       0x00000800  /* one or more */
#define EG_CONF_2MORE       0x00001000  /* two or more */

/* contexts; those above 0x01000000 are interpreted per module kind */
#define EG_DIRECT_CONF      0x00010000  /* conf is the module's own struct */
#define EG_MAIN_CONF        0x01000000  /* top level of the file */
#define EG_ANY_CONF         0xff000000  /* anywhere (include) */

#define EG_CONF_UNSET       -1
#define EG_CONF_UNSET_UINT  (eg_uint_t) -1
#define EG_CONF_UNSET_PTR   (void *) -1
#define EG_CONF_UNSET_SIZE  (size_t) -1
#define EG_CONF_UNSET_MSEC  (eg_msec_t) -1

#define EG_CONF_OK          NULL
#define EG_CONF_ERROR       (char *) -1

#define EG_CONF_BLOCK_START 1
#define EG_CONF_BLOCK_DONE  2
#define EG_CONF_FILE_DONE   3

#define EG_MAX_CONF_ERRSTR  1024


typedef char *(*eg_conf_set_pt)(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);

struct eg_command_s {
    eg_str_t             name;
    eg_uint_t            type;      /* contexts | argument counts */
    eg_conf_set_pt       set;
    eg_uint_t            conf;      /* which conf array, for block kinds */
    eg_uint_t            offset;    /* of the field in the conf struct */
    void                *post;      /* bounds, enum table, or handler */
};

#define eg_null_command     { eg_null_string, 0, NULL, 0, 0, NULL }


typedef struct {
    int                  fd;
    eg_str_t             name;      /* the file, or "command line" */
    eg_buf_t            *buffer;    /* what is left to tokenize */
    eg_uint_t            line;      /* line of the current token */
} eg_conf_file_t;


/* one file as read, for "engram -T" */
typedef struct {
    eg_str_t             name;
    eg_str_t             content;
} eg_conf_dump_t;


typedef char *(*eg_conf_handler_pt)(eg_conf_t *cf, eg_command_t *dummy,
    void *conf);

struct eg_conf_s {
    char                *name;      /* the directive being processed */
    eg_array_t          *args;      /* its name and arguments (eg_str_t) */

    eg_cycle_t          *cycle;
    eg_pool_t           *pool;
    eg_pool_t           *temp_pool;
    eg_conf_file_t      *conf_file;
    eg_log_t            *log;

    void                *ctx;       /* the conf arrays of this context */
    eg_uint_t            module_type;
    eg_uint_t            cmd_type;  /* the context: EG_MAIN_CONF, ... */

    /* a block's own tokenizer handler (unused by the core) */
    eg_conf_handler_pt   handler;
    void                *handler_conf;

    const char          *env;       /* set while applying ENGRAM_* */
    eg_uint_t            depth;     /* include nesting */
};


/* bounds for eg_conf_set_num_slot() and friends, via cmd->post */
typedef struct {
    eg_int_t             low;
    eg_int_t             high;
} eg_conf_num_bounds_t;

typedef struct {
    eg_str_t             name;
    eg_uint_t            value;
} eg_conf_enum_t;

/* for eg_conf_set_addr_slot(), via cmd->post */
typedef struct {
    in_port_t            default_port;
    eg_uint_t            flags;     /* EG_URL_* */
} eg_conf_addr_t;


#define eg_conf_init_value(conf, default)                                    \
    if (conf == EG_CONF_UNSET) {                                             \
        conf = default;                                                      \
    }

#define eg_conf_init_uint_value(conf, default)                               \
    if (conf == EG_CONF_UNSET_UINT) {                                        \
        conf = default;                                                      \
    }

#define eg_conf_init_size_value(conf, default)                               \
    if (conf == EG_CONF_UNSET_SIZE) {                                        \
        conf = default;                                                      \
    }

#define eg_conf_init_msec_value(conf, default)                               \
    if (conf == EG_CONF_UNSET_MSEC) {                                        \
        conf = default;                                                      \
    }

#define eg_conf_init_ptr_value(conf, default)                                \
    if (conf == EG_CONF_UNSET_PTR) {                                         \
        conf = default;                                                      \
    }

#define eg_conf_merge_value(conf, prev, default)                             \
    if (conf == EG_CONF_UNSET) {                                             \
        conf = (prev == EG_CONF_UNSET) ? default : prev;                     \
    }

#define eg_conf_merge_uint_value(conf, prev, default)                        \
    if (conf == EG_CONF_UNSET_UINT) {                                        \
        conf = (prev == EG_CONF_UNSET_UINT) ? default : prev;                \
    }

#define eg_conf_merge_msec_value(conf, prev, default)                        \
    if (conf == EG_CONF_UNSET_MSEC) {                                        \
        conf = (prev == EG_CONF_UNSET_MSEC) ? default : prev;                \
    }

#define eg_conf_merge_size_value(conf, prev, default)                        \
    if (conf == EG_CONF_UNSET_SIZE) {                                        \
        conf = (prev == EG_CONF_UNSET_SIZE) ? default : prev;                \
    }

#define eg_conf_merge_ptr_value(conf, prev, default)                         \
    if (conf == EG_CONF_UNSET_PTR) {                                         \
        conf = (prev == EG_CONF_UNSET_PTR) ? default : prev;                 \
    }

#define eg_conf_merge_str_value(conf, prev, default)                         \
    if (conf.data == NULL) {                                                 \
        if (prev.data) {                                                     \
            conf = prev;                                                     \
        } else {                                                             \
            conf.len = sizeof(default) - 1;                                  \
            conf.data = (u_char *) default;                                  \
        }                                                                    \
    }


/* the conf of a core module, by module */
#define eg_get_conf(conf_ctx, module)  (conf_ctx)[module.index]


char *eg_conf_param(eg_conf_t *cf);
char *eg_conf_parse(eg_conf_t *cf, eg_str_t *filename);
char *eg_conf_parse_string(eg_conf_t *cf, eg_str_t *name,
    eg_str_t *content);
char *eg_conf_include(eg_conf_t *cf, eg_command_t *cmd, void *conf);
eg_int_t eg_conf_full_name(eg_cycle_t *cycle, eg_str_t *name,
    eg_uint_t conf_prefix);

/*
 * Applies the module's ENGRAM_* overrides to its conf, then its
 * init_conf-like finish handler; every block owner calls this for each of
 * its modules once the block has been parsed.
 */
char *eg_conf_env_apply(eg_conf_t *cf, eg_module_t *module, void *conf);
eg_uint_t eg_conf_env_overrides(eg_module_t *module, eg_str_t *name);

void eg_conf_log_error(eg_uint_t level, eg_conf_t *cf, eg_err_t err,
    const char *fmt, ...) EG_PRINTF(4, 5);


char *eg_conf_set_flag_slot(eg_conf_t *cf, eg_command_t *cmd, void *conf);
char *eg_conf_set_str_slot(eg_conf_t *cf, eg_command_t *cmd, void *conf);
char *eg_conf_set_str_array_slot(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
char *eg_conf_set_keyval_slot(eg_conf_t *cf, eg_command_t *cmd, void *conf);
char *eg_conf_set_num_slot(eg_conf_t *cf, eg_command_t *cmd, void *conf);
char *eg_conf_set_size_slot(eg_conf_t *cf, eg_command_t *cmd, void *conf);
char *eg_conf_set_msec_slot(eg_conf_t *cf, eg_command_t *cmd, void *conf);
char *eg_conf_set_sec_slot(eg_conf_t *cf, eg_command_t *cmd, void *conf);
char *eg_conf_set_enum_slot(eg_conf_t *cf, eg_command_t *cmd, void *conf);
char *eg_conf_set_addr_slot(eg_conf_t *cf, eg_command_t *cmd, void *conf);

#endif /* EG_CONF_FILE_H_INCLUDED */
