/*
 * Process loops.
 *
 * The master sleeps in sigsuspend() with every signal it handles blocked
 * outside that call, so a signal can never slip in between checking the
 * flags and going to sleep.  Workers and module processes sleep in their
 * event loop instead; their handler writes a byte to a pipe that the loop
 * watches, which closes the same race there.
 *
 * Reload: the master builds the new cycle; if that fails nothing else
 * happens.  Otherwise it starts new workers and only then tells the old
 * ones to finish what they are doing and exit, so some worker is always
 * accepting.  Singleton module processes (the cluster process) are the
 * exception: the new one starts only after the old one has exited.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>


static void eg_start_worker_processes(eg_cycle_t *cycle, eg_int_t n,
    eg_int_t type);
static void eg_start_module_processes(eg_cycle_t *cycle, eg_int_t type);
static void eg_spawn_module_process(eg_cycle_t *cycle,
    eg_process_spec_t *spec, eg_int_t type);
static void eg_spawn_pending_processes(eg_cycle_t *cycle);
static void eg_signal_worker_processes(eg_cycle_t *cycle, int signo);
static eg_uint_t eg_other_master(void);
static eg_uint_t eg_reap_children(eg_cycle_t *cycle);
static EG_NORETURN void eg_master_process_exit(eg_cycle_t *cycle);
static void eg_worker_process_cycle(eg_cycle_t *cycle, void *data);
static void eg_process_init(eg_cycle_t *cycle, eg_uint_t type);
static void eg_process_quit(eg_cycle_t *cycle);
static eg_uint_t eg_process_idle(eg_cycle_t *cycle);
static void eg_signal_pipe_handler(eg_event_t *ev);
static void eg_shutdown_timer_handler(eg_event_t *ev);
static void eg_master_title(void);


eg_uint_t     eg_process;
eg_uint_t     eg_worker;
eg_uint_t     eg_inherited;
eg_uint_t     eg_daemonized;
eg_uint_t     eg_exiting;

volatile sig_atomic_t  eg_reap;
volatile sig_atomic_t  eg_sigio;
volatile sig_atomic_t  eg_sigalrm;
volatile sig_atomic_t  eg_terminate;
volatile sig_atomic_t  eg_quit;
volatile sig_atomic_t  eg_noaccept;
volatile sig_atomic_t  eg_reconfigure;
volatile sig_atomic_t  eg_reopen;
volatile sig_atomic_t  eg_change_binary;
volatile sig_atomic_t  eg_handover;

pid_t   eg_new_binary;
int     eg_signal_pipe[2] = { -1, -1 };

static eg_uint_t   eg_restart;
static eg_uint_t   eg_noaccepting;

/* singletons waiting for their predecessor to exit */
static eg_process_spec_t  *eg_pending[EG_MAX_PROCESSES];
static eg_uint_t           eg_npending;

static eg_connection_t    *eg_signal_conn;
static eg_event_t          eg_shutdown_event;


void
eg_master_process_cycle(eg_cycle_t *cycle)
{
    int                delay, sigio;
    sigset_t           set;
    eg_uint_t          live, first;
    eg_cycle_t        *new_cycle, *old_cycle;
    struct itimerval   itv;
    eg_core_conf_t    *ccf;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGALRM);
    sigaddset(&set, SIGIO);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGWINCH);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGQUIT);
    sigaddset(&set, SIGUSR2);

    if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
        eg_log_error(EG_LOG_ALERT, cycle->log, eg_errno,
                     "sigprocmask() failed");
    }

    sigemptyset(&set);

    eg_master_title();

    ccf = (eg_core_conf_t *) eg_get_conf(cycle->conf_ctx, eg_core_module);

    eg_start_worker_processes(cycle, ccf->worker_processes,
                              EG_PROCESS_RESPAWN);
    eg_start_module_processes(cycle, EG_PROCESS_RESPAWN);

    eg_new_binary = 0;
    delay = 0;
    sigio = 0;
    live = 1;

    /*
     * A signal that came between eg_init_signals() and the block above
     * (the pid file exists by then) has only set its flag: the first pass
     * acts on it instead of sleeping until some other signal comes.
     */
    first = 1;

    for ( ;; ) {
        if (delay) {
            if (eg_sigalrm) {
                sigio = 0;
                delay *= 2;
                eg_sigalrm = 0;
            }

            itv.it_interval.tv_sec = 0;
            itv.it_interval.tv_usec = 0;
            itv.it_value.tv_sec = delay / 1000;
            itv.it_value.tv_usec = (delay % 1000) * 1000;

            if (setitimer(ITIMER_REAL, &itv, NULL) == -1) {
                eg_log_error(EG_LOG_ALERT, cycle->log, eg_errno,
                             "setitimer() failed");
            }
        }

        if (first) {
            first = 0;

        } else {
            sigsuspend(&set);
        }

        eg_time_update();

        if (eg_reap) {
            eg_reap = 0;
            eg_process_get_status();
            live = eg_reap_children(cycle);
        }

        if (!live && (eg_terminate || eg_quit)) {
            eg_master_process_exit(cycle);
        }

        if (eg_terminate) {
            /* TERM first; if children linger past a second, KILL */

            if (delay == 0) {
                delay = 50;
            }

            if (sigio) {
                sigio--;
                continue;
            }

            sigio = (int) (ccf->worker_processes + cycle->processes.nelts);

            if (delay > 1000) {
                eg_signal_worker_processes(cycle, SIGKILL);

            } else {
                eg_signal_worker_processes(cycle, SIGTERM);
            }

            continue;
        }

        if (eg_quit) {
            eg_signal_worker_processes(cycle, SIGQUIT);
            eg_close_listening_sockets(cycle);
            continue;
        }

        if (eg_reconfigure) {
            eg_reconfigure = 0;

            if (eg_new_binary) {
                /* after WINCH with a new binary running: take over again */
                eg_start_worker_processes(cycle, ccf->worker_processes,
                                          EG_PROCESS_RESPAWN);
                eg_start_module_processes(cycle, EG_PROCESS_RESPAWN);
                eg_noaccepting = 0;
                continue;
            }

            eg_log_error(EG_LOG_NOTICE, cycle->log, 0, "reconfiguring");

            new_cycle = eg_init_cycle(cycle);

            if (new_cycle == NULL) {
                eg_log_error(EG_LOG_ERR, cycle->log, 0,
                             "reload failed, the old configuration keeps "
                             "running");
                continue;
            }

            old_cycle = cycle;
            cycle = new_cycle;
            eg_cycle = cycle;

            eg_destroy_pool(old_cycle->pool);

            ccf = (eg_core_conf_t *) eg_get_conf(cycle->conf_ctx,
                                                 eg_core_module);

            eg_start_worker_processes(cycle, ccf->worker_processes,
                                      EG_PROCESS_JUST_RESPAWN);
            eg_start_module_processes(cycle, EG_PROCESS_JUST_RESPAWN);

            live = 1;
            eg_signal_worker_processes(cycle, SIGQUIT);
        }

        if (eg_restart) {
            eg_restart = 0;
            eg_start_worker_processes(cycle, ccf->worker_processes,
                                      EG_PROCESS_RESPAWN);
            eg_start_module_processes(cycle, EG_PROCESS_RESPAWN);
            live = 1;
        }

        if (eg_reopen) {
            eg_reopen = 0;
            eg_log_error(EG_LOG_NOTICE, cycle->log, 0, "reopening logs");
            eg_reopen_logs(cycle);
            eg_signal_worker_processes(cycle, SIGUSR1);
        }

        if (eg_change_binary) {
            eg_change_binary = 0;
            eg_log_error(EG_LOG_NOTICE, cycle->log, 0, "changing binary");
            eg_new_binary = eg_exec_new_binary(cycle, eg_argv);

            if (eg_new_binary == -1) {
                eg_new_binary = 0;
            }
        }

        if (eg_noaccept) {
            eg_noaccept = 0;
            eg_noaccepting = 1;
            eg_signal_worker_processes(cycle, SIGQUIT);
        }
    }
}


void
eg_single_process_cycle(eg_cycle_t *cycle)
{
    eg_cycle_t  *new_cycle, *old_cycle;

    eg_process_init(cycle, EG_PROCESS_SINGLE);

    for ( ;; ) {
        eg_process_events_and_timers(cycle);

        if (eg_terminate || eg_quit) {
            eg_process_exit(cycle, 0);
        }

        if (eg_reconfigure) {
            eg_reconfigure = 0;
            eg_log_error(EG_LOG_NOTICE, cycle->log, 0, "reconfiguring");

            new_cycle = eg_init_cycle(cycle);

            if (new_cycle == NULL) {
                eg_log_error(EG_LOG_ERR, cycle->log, 0,
                             "reload failed, the old configuration keeps "
                             "running");
                continue;
            }

            /*
             * One process cannot hand connections from one cycle to the
             * next: this debugging mode drops them and starts afresh.
             */

            old_cycle = cycle;
            eg_process_exit_modules(old_cycle);

            cycle = new_cycle;
            eg_cycle = cycle;

            eg_destroy_pool(old_cycle->pool);

            eg_process_init(cycle, EG_PROCESS_SINGLE);
        }

        if (eg_reopen) {
            eg_reopen = 0;
            eg_log_error(EG_LOG_NOTICE, cycle->log, 0, "reopening logs");
            eg_reopen_logs(cycle);
        }
    }
}


static void
eg_start_worker_processes(eg_cycle_t *cycle, eg_int_t n, eg_int_t type)
{
    pid_t     pid;
    eg_int_t  i;

    for (i = 0; i < n; i++) {
        pid = eg_spawn_process(cycle, eg_worker_process_cycle,
                               (void *) (intptr_t) i, "worker process", type);

        if (pid != -1) {
            eg_processes[eg_process_slot].worker = 1;
        }
    }
}


static void
eg_start_module_processes(eg_cycle_t *cycle, eg_int_t type)
{
    eg_uint_t           i;
    eg_process_spec_t  *spec;

    spec = cycle->processes.elts;

    for (i = 0; i < cycle->processes.nelts; i++) {
        eg_spawn_module_process(cycle, &spec[i], type);
    }
}


static eg_uint_t
eg_singleton_running(const char *name)
{
    eg_int_t  i;

    for (i = 0; i < eg_last_process; i++) {
        if (eg_processes[i].pid != -1 && !eg_processes[i].exited
            && eg_processes[i].singleton
            && strcmp(eg_processes[i].name, name) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static void
eg_spawn_module_process(eg_cycle_t *cycle, eg_process_spec_t *spec,
    eg_int_t type)
{
    pid_t  pid;

    if (spec->singleton && eg_singleton_running(spec->name)) {
        /* the old one is told to quit; this one waits for it to go */
        if (eg_npending < EG_MAX_PROCESSES) {
            eg_pending[eg_npending++] = spec;
        }

        return;
    }

    pid = eg_spawn_process(cycle, spec->proc, spec->data, spec->name, type);

    if (pid != -1) {
        eg_processes[eg_process_slot].singleton = spec->singleton ? 1 : 0;
    }
}


static void
eg_spawn_pending_processes(eg_cycle_t *cycle)
{
    eg_uint_t           i, n;
    eg_process_spec_t  *spec;

    n = 0;

    for (i = 0; i < eg_npending; i++) {
        spec = eg_pending[i];

        if (eg_singleton_running(spec->name)) {
            eg_pending[n++] = spec;
            continue;
        }

        if (eg_terminate || eg_quit) {
            continue;
        }

        eg_spawn_module_process(cycle, spec, EG_PROCESS_RESPAWN);
    }

    eg_npending = n;
}


/* a binary upgrade is under way: the other master of this node runs */
static eg_uint_t
eg_other_master(void)
{
    return eg_new_binary > 0 || (eg_inherited && getppid() == eg_parent);
}


static void
eg_signal_worker_processes(eg_cycle_t *cycle, int signo)
{
    int       sig;
    eg_int_t  i;

    for (i = 0; i < eg_last_process; i++) {

        if (eg_processes[i].detached || eg_processes[i].pid == -1) {
            continue;
        }

        if (eg_processes[i].just_spawn) {
            eg_processes[i].just_spawn = 0;
            continue;
        }

        if (eg_processes[i].exiting && signo == SIGQUIT) {
            continue;
        }

        /*
         * A singleton told to quit because a successor will take over
         * (reload, upgrade) hands over instead: it stops without acting
         * as if the node were going away.  Only a real shutdown quits it,
         * and not even that while another master of this node runs (the
         * new binary we started, or the old one that started us, as in a
         * rollback): that master's singleton carries on.
         */

        sig = signo;

        if (signo == SIGQUIT && eg_processes[i].singleton
            && (!eg_quit || eg_other_master()))
        {
            sig = SIGWINCH;
        }

        if (kill(eg_processes[i].pid, sig) == -1) {
            if (eg_errno == EG_ESRCH) {
                eg_processes[i].exited = 1;
                eg_processes[i].exiting = 0;
                eg_reap = 1;
            }

            eg_log_error(EG_LOG_ALERT, cycle->log, eg_errno,
                         "kill(%ld, %d) failed",
                         (long) eg_processes[i].pid, sig);
            continue;
        }

        if (signo != SIGUSR1) {
            eg_processes[i].exiting = 1;
        }
    }
}


/* returns whether any child that matters is still alive */
static eg_uint_t
eg_reap_children(eg_cycle_t *cycle)
{
    eg_int_t         i;
    eg_uint_t        live;
    eg_core_conf_t  *ccf;

    live = 0;

    for (i = 0; i < eg_last_process; i++) {

        if (eg_processes[i].pid == -1) {
            continue;
        }

        if (!eg_processes[i].exited) {
            if (eg_processes[i].exiting || !eg_processes[i].detached) {
                live = 1;
            }

            continue;
        }

        if (eg_processes[i].respawn && !eg_processes[i].exiting
            && !eg_terminate && !eg_quit)
        {
            if (eg_spawn_process(cycle, eg_processes[i].proc,
                                 eg_processes[i].data, eg_processes[i].name,
                                 i)
                == -1)
            {
                eg_log_error(EG_LOG_ALERT, cycle->log, 0,
                             "could not respawn %s", eg_processes[i].name);
                continue;
            }

            live = 1;
            continue;
        }

        if (eg_processes[i].pid == eg_new_binary) {

            /* the new binary failed: this master is the one again */

            ccf = (eg_core_conf_t *) eg_get_conf(cycle->conf_ctx,
                                                 eg_core_module);

            if (rename((char *) ccf->oldpid.data, (char *) ccf->pid.data)
                == -1)
            {
                eg_log_error(EG_LOG_ALERT, cycle->log, eg_errno,
                             "rename() %s back to %s failed after the new "
                             "binary process \"%s\" exited",
                             ccf->oldpid.data, ccf->pid.data,
                             eg_binary_path);
            }

            eg_new_binary = 0;

            if (eg_noaccepting) {
                eg_restart = 1;
                eg_noaccepting = 0;
            }
        }

        if (i == eg_last_process - 1) {
            eg_last_process--;

        } else {
            eg_processes[i].pid = -1;
        }
    }

    if (eg_npending) {
        eg_spawn_pending_processes(cycle);

        if (eg_npending) {
            live = 1;
        }
    }

    return live;
}


static void
eg_master_process_exit(eg_cycle_t *cycle)
{
    eg_uint_t  i;

    eg_delete_pidfile(cycle);

    eg_log_error(EG_LOG_NOTICE, cycle->log, 0, "exit");

    for (i = 0; i < cycle->modules_n; i++) {
        if (cycle->modules[i]->exit_master) {
            cycle->modules[i]->exit_master(cycle);
        }
    }

    eg_close_listening_sockets(cycle);

    exit(0);
}


static void
eg_worker_process_cycle(eg_cycle_t *cycle, void *data)
{
    eg_worker = (eg_uint_t) (intptr_t) data;

    eg_process_init(cycle, EG_PROCESS_WORKER);

    eg_setproctitle("worker process");

    eg_module_process_loop(cycle);
}


void
eg_module_process_init(eg_cycle_t *cycle, const char *title)
{
    eg_process_init(cycle, EG_PROCESS_HELPER);

    eg_setproctitle(title);
}


void
eg_module_process_loop(eg_cycle_t *cycle)
{
    for ( ;; ) {

        if (eg_exiting && eg_process_idle(cycle)) {
            eg_log_error(EG_LOG_NOTICE, cycle->log, 0, "exiting");
            eg_process_exit(cycle, 0);
        }

        eg_process_events_and_timers(cycle);

        if (eg_terminate) {
            eg_log_error(EG_LOG_NOTICE, cycle->log, 0, "exiting");
            eg_process_exit(cycle, 0);
        }

        if (eg_quit) {
            eg_quit = 0;
            eg_process_quit(cycle);
        }

        if (eg_reopen) {
            eg_reopen = 0;
            eg_log_error(EG_LOG_NOTICE, cycle->log, 0, "reopening logs");
            eg_reopen_logs(cycle);
        }
    }
}


/* QUIT: stop taking new work, finish the current, then exit */
static void
eg_process_quit(eg_cycle_t *cycle)
{
    if (eg_exiting) {
        return;
    }

    eg_log_error(EG_LOG_NOTICE, cycle->log, 0, "gracefully shutting down");

    eg_setproctitle(eg_process == EG_PROCESS_WORKER
                    ? "worker process is shutting down"
                    : "process is shutting down");

    eg_exiting = 1;

    eg_set_shutdown_timer(cycle);
    eg_close_listening_sockets(cycle);
    eg_close_idle_connections(cycle);
}


/* nothing but the signal pipe open, and only cancelable timers left */
static eg_uint_t
eg_process_idle(eg_cycle_t *cycle)
{
    eg_uint_t  busy;

    busy = cycle->connection_n - cycle->free_connection_n;

    if (eg_signal_conn) {
        busy--;
    }

    return busy == 0 && eg_event_no_timers_left();
}


void
eg_set_shutdown_timer(eg_cycle_t *cycle)
{
    eg_core_conf_t  *ccf;

    ccf = (eg_core_conf_t *) eg_get_conf(cycle->conf_ctx, eg_core_module);

    if (ccf->shutdown_timeout) {
        eg_shutdown_event.handler = eg_shutdown_timer_handler;
        eg_shutdown_event.data = cycle;
        eg_shutdown_event.log = cycle->log;
        eg_shutdown_event.cancelable = 1;

        eg_event_add_timer(&eg_shutdown_event, ccf->shutdown_timeout);
    }
}


static void
eg_shutdown_timer_handler(eg_event_t *ev)
{
    eg_uint_t         i;
    eg_cycle_t       *cycle;
    eg_connection_t  *c;

    cycle = ev->data;

    eg_log_error(EG_LOG_NOTICE, cycle->log, 0,
                 "worker_shutdown_timeout expired, closing connections");

    c = cycle->connections;

    for (i = 0; i < cycle->connection_used; i++) {

        if (c[i].fd == -1 || c[i].read == NULL || c[i].read->accept
            || c[i].read->channel)
        {
            continue;
        }

        c[i].close = 1;
        c[i].error = 1;

        c[i].read->handler(c[i].read);
    }
}


/* the set-up every process with an event loop shares */
static void
eg_process_init(eg_cycle_t *cycle, eg_uint_t type)
{
    eg_uint_t        i;
    sigset_t         set;
    struct rlimit    rlmt;
    eg_core_conf_t  *ccf;

    eg_process = type;

    ccf = (eg_core_conf_t *) eg_get_conf(cycle->conf_ctx, eg_core_module);

    if (ccf->rlimit_nofile != EG_CONF_UNSET) {
        rlmt.rlim_cur = (rlim_t) ccf->rlimit_nofile;
        rlmt.rlim_max = (rlim_t) ccf->rlimit_nofile;

        if (setrlimit(RLIMIT_NOFILE, &rlmt) == -1) {
            eg_log_error(EG_LOG_ALERT, cycle->log, eg_errno,
                         "setrlimit(RLIMIT_NOFILE, %ld) failed",
                         (long) ccf->rlimit_nofile);
        }
    }

    if (type != EG_PROCESS_SINGLE && geteuid() == 0
        && ccf->user != (uid_t) EG_CONF_UNSET_UINT)
    {
        if (setgid(ccf->group) == -1) {
            eg_log_error(EG_LOG_EMERG, cycle->log, eg_errno,
                         "setgid(%ld) failed", (long) ccf->group);
            exit(2);
        }

        if (setgroups((size_t) ccf->ngroups, ccf->groups) == -1) {
            eg_log_error(EG_LOG_EMERG, cycle->log, eg_errno,
                         "setgroups(%s) failed", ccf->username);
        }

        if (setuid(ccf->user) == -1) {
            eg_log_error(EG_LOG_EMERG, cycle->log, eg_errno,
                         "setuid(%ld) failed", (long) ccf->user);
            exit(2);
        }
    }

    if (type != EG_PROCESS_SINGLE) {
        /* a child starts with the master's signals blocked: undo that */
        sigemptyset(&set);

        if (sigprocmask(SIG_SETMASK, &set, NULL) == -1) {
            eg_log_error(EG_LOG_ALERT, cycle->log, eg_errno,
                         "sigprocmask() failed");
        }
    }

    if (eg_signal_pipe[0] == -1) {
        if (pipe(eg_signal_pipe) == -1) {
            eg_log_error(EG_LOG_EMERG, cycle->log, eg_errno,
                         "pipe() failed");
            exit(2);
        }

        if (eg_nonblocking(eg_signal_pipe[0]) != EG_OK
            || eg_nonblocking(eg_signal_pipe[1]) != EG_OK
            || eg_cloexec(eg_signal_pipe[0]) != EG_OK
            || eg_cloexec(eg_signal_pipe[1]) != EG_OK)
        {
            eg_log_error(EG_LOG_EMERG, cycle->log, eg_errno,
                         "fcntl() of the signal pipe failed");
            exit(2);
        }

        /*
         * A signal caught before the pipe existed (signals are unblocked
         * above; a single process never blocks them) has only set its
         * flag: wake the event loop for it, or it would sleep through it.
         */
        if (eg_quit || eg_terminate || eg_reopen || eg_reconfigure) {
            (void) !write(eg_signal_pipe[1], "", 1);
        }
    }

    for (i = 0; i < cycle->modules_n; i++) {
        if (cycle->modules[i]->init_process) {
            if (cycle->modules[i]->init_process(cycle) == EG_ERROR) {
                /* fatal: code 2 tells the master not to respawn us */
                exit(2);
            }
        }
    }

    eg_signal_conn = eg_event_add_channel(cycle, eg_signal_pipe[0],
                                          eg_signal_pipe_handler);

    if (eg_signal_conn == NULL) {
        exit(2);
    }
}


static void
eg_signal_pipe_handler(eg_event_t *ev)
{
    char              buf[64];
    eg_connection_t  *c;

    c = ev->data;

    /* drain: the flags the handler set are what matter */

    while (read(c->fd, buf, sizeof(buf)) > 0) {
        /* void */
    }
}


void
eg_process_exit_modules(eg_cycle_t *cycle)
{
    eg_uint_t  i;

    for (i = 0; i < cycle->modules_n; i++) {
        if (cycle->modules[i]->exit_process) {
            cycle->modules[i]->exit_process(cycle);
        }
    }

    eg_signal_conn = NULL;
}


void
eg_process_exit(eg_cycle_t *cycle, int status)
{
    eg_process_exit_modules(cycle);

    if (eg_process == EG_PROCESS_SINGLE) {
        eg_delete_pidfile(cycle);
        eg_log_error(EG_LOG_NOTICE, cycle->log, 0, "exit");
    }

    exit(status);
}


static void
eg_master_title(void)
{
    u_char   title[512], *p, *last;
    int      i;

    p = title;
    last = title + sizeof(title);

    p = eg_slprintf(p, last, "master process");

    for (i = 0; i < eg_argc; i++) {
        p = eg_slprintf(p, last, " %s", eg_argv[i]);
    }

    eg_setproctitle((char *) title);
}
