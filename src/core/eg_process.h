/*
 * Child processes and signals.  The master keeps a table of the processes
 * it forked: workers, module processes (the cluster process) and, during
 * a binary upgrade, the new master.
 */

#ifndef EG_PROCESS_H_INCLUDED
#define EG_PROCESS_H_INCLUDED


#define EG_MAX_PROCESSES         1024

#define EG_PROCESS_NORESPAWN     -1
#define EG_PROCESS_JUST_SPAWN    -2
#define EG_PROCESS_RESPAWN       -3
#define EG_PROCESS_JUST_RESPAWN  -4
#define EG_PROCESS_DETACHED      -5


typedef struct {
    pid_t                pid;       /* -1: free slot */
    int                  status;    /* as from waitpid() */

    eg_spawn_proc_pt     proc;
    void                *data;
    const char          *name;

    unsigned             respawn:1;     /* restart when it dies */
    unsigned             just_spawn:1;  /* started by this reload */
    unsigned             detached:1;    /* a new binary, not ours to run */
    unsigned             exiting:1;     /* told to quit */
    unsigned             exited:1;      /* reaped */
    unsigned             singleton:1;   /* never two at once */
    unsigned             worker:1;      /* a worker, not a module process */
} eg_process_t;


typedef struct {
    char                *path;
    const char          *name;
    char *const         *argv;
    char *const         *envp;
} eg_exec_ctx_t;


eg_int_t eg_init_signals(eg_log_t *log);
pid_t eg_spawn_process(eg_cycle_t *cycle, eg_spawn_proc_pt proc, void *data,
    const char *name, eg_int_t respawn);
pid_t eg_execute(eg_cycle_t *cycle, eg_exec_ctx_t *ctx);
void eg_process_get_status(void);
eg_int_t eg_os_signal_process(eg_cycle_t *cycle, char *name, pid_t pid);
eg_int_t eg_daemon(eg_log_t *log);

eg_int_t eg_init_setproctitle(eg_log_t *log);
void eg_setproctitle(const char *title);


#define eg_getpid   getpid
#define eg_getppid  getppid

#define eg_signal_helper(n)   SIG##n
#define eg_signal_value(n)    eg_signal_helper(n)

#define EG_SHUTDOWN_SIGNAL     QUIT
#define EG_TERMINATE_SIGNAL    TERM
#define EG_NOACCEPT_SIGNAL     WINCH
#define EG_RECONFIGURE_SIGNAL  HUP
#define EG_REOPEN_SIGNAL       USR1
#define EG_CHANGEBIN_SIGNAL    USR2


extern int            eg_argc;
extern char         **eg_argv;
extern char         **eg_os_argv;
extern char          *eg_binary_path;   /* absolute, for USR2 */

extern pid_t          eg_pid;
extern pid_t          eg_parent;
extern eg_int_t       eg_process_slot;
extern eg_int_t       eg_last_process;
extern eg_process_t   eg_processes[EG_MAX_PROCESSES];

#endif /* EG_PROCESS_H_INCLUDED */
