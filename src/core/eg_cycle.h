/*
 * A cycle is one generation of configuration and everything built from
 * it: confs, open files, shared zones, listening sockets, connections.
 * A reload builds a new cycle beside the old one and switches only when
 * the new one is complete; anything that fails leaves the old one running.
 */

#ifndef EG_CYCLE_H_INCLUDED
#define EG_CYCLE_H_INCLUDED


#define EG_CYCLE_POOL_SIZE     EG_DEFAULT_POOL_SIZE

#define EG_DEBUG_POINTS_STOP   1
#define EG_DEBUG_POINTS_ABORT  2


/*
 * A process that a module asks the master to run beside the workers,
 * such as the cluster process.  "singleton" means at most one may run at
 * any moment: on reload the old one is told to quit and the new one is
 * started only after the old one has exited.
 */
typedef void (*eg_spawn_proc_pt)(eg_cycle_t *cycle, void *data);

typedef struct {
    const char          *name;      /* "cluster process" */
    eg_spawn_proc_pt     proc;
    void                *data;
    eg_uint_t            singleton; /* never two at once, even on reload */
} eg_process_spec_t;


struct eg_cycle_s {
    void               **conf_ctx;      /* per module, by index */
    eg_pool_t           *pool;

    eg_log_t            *log;
    eg_log_t             new_log;       /* error_log of this config */
    eg_uint_t            log_use_stderr;

    eg_module_t        **modules;
    eg_uint_t            modules_n;

    eg_connection_t     *free_connections;
    eg_uint_t            free_connection_n;
    eg_queue_t           reusable_connections_queue;
    eg_uint_t            reusable_connections_n;

    eg_array_t           listening;     /* eg_listening_t */
    eg_array_t           config_dump;   /* eg_conf_dump_t, for -T */
    eg_array_t           processes;     /* eg_process_spec_t */
    eg_list_t            open_files;    /* eg_open_file_t */
    eg_list_t            shared_memory; /* eg_shm_zone_t */

    eg_uint_t            connection_n;
    eg_uint_t            connection_used;   /* slots ever handed out */
    eg_connection_t     *connections;
    eg_event_t          *read_events;
    eg_event_t          *write_events;

    eg_cycle_t          *old_cycle;

    eg_str_t             conf_file;     /* full path */
    eg_str_t             conf_param;    /* -g directives */
    eg_str_t             conf_prefix;   /* directory of conf_file */
    eg_str_t             prefix;        /* -p, or the built-in prefix */
    eg_str_t             error_log;     /* -e, or the built-in path */
    eg_str_t             hostname;
};


typedef struct {
    eg_flag_t            daemon;
    eg_flag_t            master;

    eg_msec_t            shutdown_timeout;  /* worker_shutdown_timeout */

    eg_int_t             worker_processes;
    eg_int_t             rlimit_nofile;

    uid_t                user;
    gid_t                group;
    char                *username;
    gid_t               *groups;        /* the user's supplementary groups */
    int                  ngroups;

    eg_str_t             pid;
    eg_str_t             oldpid;        /* pid + ".oldbin", for USR2 */
    eg_str_t             working_directory;
} eg_core_conf_t;


eg_cycle_t *eg_init_cycle(eg_cycle_t *old_cycle);
eg_int_t eg_signal_process(eg_cycle_t *cycle, char *sig);
void eg_reopen_logs(eg_cycle_t *cycle);
eg_int_t eg_cycle_add_process(eg_cycle_t *cycle, eg_process_spec_t *spec);
void eg_set_shutdown_timer(eg_cycle_t *cycle);

/* inherited listening sockets, from the ENGRAM environment variable */
eg_int_t eg_add_inherited_sockets(eg_cycle_t *cycle);
char **eg_set_environment(eg_cycle_t *cycle, eg_uint_t *last);
pid_t eg_exec_new_binary(eg_cycle_t *cycle, char *const *argv);


extern volatile eg_cycle_t  *eg_cycle;
extern eg_array_t            eg_old_cycles;
extern eg_module_t           eg_core_module;
extern eg_uint_t             eg_test_config;
extern eg_uint_t             eg_dump_config;
extern eg_uint_t             eg_quiet_mode;

#endif /* EG_CYCLE_H_INCLUDED */
