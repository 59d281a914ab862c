/*
 * Process creation and signals.  Signal handlers only record what arrived
 * (and, in processes with an event loop, poke the signal pipe so that the
 * loop wakes); the loops act on the flags, where it is safe to log,
 * allocate and fork.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>


typedef struct {
    int          signo;
    const char  *signame;
    const char  *name;      /* for "engram -s NAME" */
} eg_signal_t;


static void eg_signal_handler(int signo, siginfo_t *siginfo, void *ucontext);
static void eg_execute_proc(eg_cycle_t *cycle, void *data);


int            eg_argc;
char         **eg_argv;
char         **eg_os_argv;
char          *eg_binary_path;

pid_t          eg_pid;
pid_t          eg_parent;
eg_int_t       eg_process_slot;
eg_int_t       eg_last_process;
eg_process_t   eg_processes[EG_MAX_PROCESSES];


static eg_signal_t  signals[] = {
    { SIGHUP,  "SIGHUP",  "reload" },
    { SIGUSR1, "SIGUSR1", "reopen" },
    { SIGWINCH, "SIGWINCH", "" },
    { SIGTERM, "SIGTERM", "stop" },
    { SIGQUIT, "SIGQUIT", "quit" },
    { SIGUSR2, "SIGUSR2", "" },
    { SIGALRM, "SIGALRM", "" },
    { SIGINT,  "SIGINT",  "" },
    { SIGIO,   "SIGIO",   "" },
    { SIGCHLD, "SIGCHLD", "" },
    { SIGSYS,  "SIGSYS, SIG_IGN", "" },
    { SIGPIPE, "SIGPIPE, SIG_IGN", "" },
    { 0, NULL, "" }
};


eg_int_t
eg_init_signals(eg_log_t *log)
{
    eg_signal_t       *sig;
    struct sigaction   sa;

    for (sig = signals; sig->signo != 0; sig++) {
        eg_memzero(&sa, sizeof(struct sigaction));

        if (sig->signo == SIGSYS || sig->signo == SIGPIPE) {
            sa.sa_handler = SIG_IGN;

        } else {
            sa.sa_sigaction = eg_signal_handler;
            sa.sa_flags = SA_SIGINFO;
        }

        sigemptyset(&sa.sa_mask);

        if (sigaction(sig->signo, &sa, NULL) == -1) {
            eg_log_error(EG_LOG_EMERG, log, eg_errno,
                         "sigaction(%s) failed", sig->signame);
            return EG_ERROR;
        }
    }

    return EG_OK;
}


static void
eg_signal_handler(int signo, siginfo_t *siginfo, void *ucontext)
{
    char      byte;
    eg_err_t  err;

    eg_unused(siginfo);
    eg_unused(ucontext);

    err = eg_errno;

    switch (eg_process) {

    case EG_PROCESS_MASTER:
    case EG_PROCESS_SINGLE:
        switch (signo) {

        case SIGQUIT:
            eg_quit = 1;
            break;

        case SIGTERM:
        case SIGINT:
            eg_terminate = 1;
            break;

        case SIGWINCH:
            /* a terminal resize must not stop a foreground master */
            if (eg_daemonized) {
                eg_noaccept = 1;
            }
            break;

        case SIGHUP:
            eg_reconfigure = 1;
            break;

        case SIGUSR1:
            eg_reopen = 1;
            break;

        case SIGUSR2:
            /*
             * A master started by USR2 whose parent, the old master, still
             * runs must not upgrade again: the old one owns the .oldbin pid
             * file and would lose it.
             */
            if ((eg_inherited && getppid() == eg_parent)
                || eg_new_binary > 0)
            {
                break;
            }

            eg_change_binary = 1;
            break;

        case SIGALRM:
            eg_sigalrm = 1;
            break;

        case SIGIO:
            eg_sigio = 1;
            break;

        case SIGCHLD:
            eg_reap = 1;
            break;
        }

        break;

    case EG_PROCESS_WORKER:
    case EG_PROCESS_HELPER:
        switch (signo) {

        case SIGQUIT:
            eg_quit = 1;
            break;

        case SIGWINCH:
            /* a module process's successor is about to start */
            if (eg_process == EG_PROCESS_HELPER) {
                eg_handover = 1;
            }
            break;

        case SIGTERM:
        case SIGINT:
            eg_terminate = 1;
            break;

        case SIGUSR1:
            eg_reopen = 1;
            break;

        case SIGCHLD:
            eg_reap = 1;
            break;
        }

        break;
    }

    if (eg_signal_pipe[1] != -1) {
        byte = (char) signo;
        (void) !write(eg_signal_pipe[1], &byte, 1);
    }

    eg_set_errno(err);
}


pid_t
eg_spawn_process(eg_cycle_t *cycle, eg_spawn_proc_pt proc, void *data,
    const char *name, eg_int_t respawn)
{
    pid_t     pid;
    eg_int_t  s;

    if (respawn >= 0) {
        s = respawn;

    } else {
        for (s = 0; s < eg_last_process; s++) {
            if (eg_processes[s].pid == -1) {
                break;
            }
        }

        if (s == EG_MAX_PROCESSES) {
            eg_log_error(EG_LOG_ALERT, cycle->log, 0,
                         "no more than %d processes can be spawned",
                         EG_MAX_PROCESSES);
            return -1;
        }
    }

    eg_process_slot = s;

    pid = fork();

    switch (pid) {

    case -1:
        eg_log_error(EG_LOG_ALERT, cycle->log, eg_errno,
                     "fork() failed while spawning \"%s\"", name);
        return -1;

    case 0:
        eg_parent = eg_pid;
        eg_pid = getpid();
        proc(cycle, data);
        exit(0);    /* proc never returns; this is a safety net */

    default:
        break;
    }

    eg_log_error(EG_LOG_NOTICE, cycle->log, 0, "start %s %ld", name,
                 (long) pid);

    eg_processes[s].pid = pid;
    eg_processes[s].exited = 0;

    if (respawn >= 0) {
        return pid;
    }

    eg_processes[s].proc = proc;
    eg_processes[s].data = data;
    eg_processes[s].name = name;
    eg_processes[s].exiting = 0;
    eg_processes[s].singleton = 0;
    eg_processes[s].worker = 0;

    switch (respawn) {

    case EG_PROCESS_NORESPAWN:
        eg_processes[s].respawn = 0;
        eg_processes[s].just_spawn = 0;
        eg_processes[s].detached = 0;
        break;

    case EG_PROCESS_JUST_SPAWN:
        eg_processes[s].respawn = 0;
        eg_processes[s].just_spawn = 1;
        eg_processes[s].detached = 0;
        break;

    case EG_PROCESS_RESPAWN:
        eg_processes[s].respawn = 1;
        eg_processes[s].just_spawn = 0;
        eg_processes[s].detached = 0;
        break;

    case EG_PROCESS_JUST_RESPAWN:
        eg_processes[s].respawn = 1;
        eg_processes[s].just_spawn = 1;
        eg_processes[s].detached = 0;
        break;

    case EG_PROCESS_DETACHED:
        eg_processes[s].respawn = 0;
        eg_processes[s].just_spawn = 0;
        eg_processes[s].detached = 1;
        break;
    }

    if (s == eg_last_process) {
        eg_last_process++;
    }

    return pid;
}


pid_t
eg_execute(eg_cycle_t *cycle, eg_exec_ctx_t *ctx)
{
    return eg_spawn_process(cycle, eg_execute_proc, ctx, ctx->name,
                            EG_PROCESS_DETACHED);
}


static void
eg_execute_proc(eg_cycle_t *cycle, void *data)
{
    int              flags;
    eg_uint_t        i;
    sigset_t         set;
    eg_listening_t  *ls;
    eg_exec_ctx_t   *ctx = data;

    /* the listening sockets are what the new binary inherits */

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].fd == -1) {
            continue;
        }

        flags = fcntl(ls[i].fd, F_GETFD);

        if (flags != -1) {
            (void) fcntl(ls[i].fd, F_SETFD, flags & ~FD_CLOEXEC);
        }
    }

    /* the master blocks signals; the new binary must start unblocked */
    sigemptyset(&set);
    (void) sigprocmask(SIG_SETMASK, &set, NULL);

    if (execve(ctx->path, ctx->argv, ctx->envp) == -1) {
        eg_log_error(EG_LOG_ALERT, cycle->log, eg_errno,
                     "execve() failed while executing %s \"%s\"",
                     ctx->name, ctx->path);
    }

    exit(1);
}


/* collects exit statuses; called by the master when SIGCHLD arrived */
void
eg_process_get_status(void)
{
    int          status;
    pid_t        pid;
    eg_err_t     err;
    eg_int_t     i;
    eg_uint_t    level;
    const char  *process;

    for ( ;; ) {
        pid = waitpid(-1, &status, WNOHANG);

        if (pid == 0) {
            return;
        }

        if (pid == -1) {
            err = eg_errno;

            if (err == EG_EINTR) {
                continue;
            }

            if (err == EG_ECHILD) {
                return;
            }

            eg_log_error(EG_LOG_ALERT, eg_cycle->log, err,
                         "waitpid() failed");
            return;
        }

        process = "unknown process";

        for (i = 0; i < eg_last_process; i++) {
            if (eg_processes[i].pid == pid) {
                eg_processes[i].status = status;
                eg_processes[i].exited = 1;
                process = eg_processes[i].name;
                break;
            }
        }

        if (WIFSIGNALED(status)) {
            /*
             * A crash is an error, not an alert: the master handles it by
             * starting a new process, and the daemon keeps working.
             */
            eg_log_error(EG_LOG_ERR, eg_cycle->log, 0,
                         "%s %ld exited on signal %d%s", process, (long) pid,
                         WTERMSIG(status),
                         WCOREDUMP(status) ? " (core dumped)" : "");

        } else {
            level = WEXITSTATUS(status) ? EG_LOG_ERR : EG_LOG_NOTICE;

            eg_log_error(level, eg_cycle->log, 0,
                         "%s %ld exited with code %d", process, (long) pid,
                         WEXITSTATUS(status));
        }

        if (WIFEXITED(status) && WEXITSTATUS(status) == 2
            && i < eg_last_process && eg_processes[i].respawn)
        {
            /* exit code 2 is "cannot start at all": respawning would loop */
            eg_log_error(EG_LOG_ALERT, eg_cycle->log, 0,
                         "%s %ld exited with fatal code 2 "
                         "and cannot be respawned", process, (long) pid);
            eg_processes[i].respawn = 0;
        }
    }
}


eg_int_t
eg_os_signal_process(eg_cycle_t *cycle, char *name, pid_t pid)
{
    eg_signal_t  *sig;

    for (sig = signals; sig->signo != 0; sig++) {
        if (sig->name[0] != '\0' && strcmp(name, sig->name) == 0) {
            if (kill(pid, sig->signo) != -1) {
                return 0;
            }

            eg_log_error(EG_LOG_ALERT, cycle->log, eg_errno,
                         "kill(%ld, %d) failed", (long) pid, sig->signo);
        }
    }

    return 1;
}


eg_int_t
eg_daemon(eg_log_t *log)
{
    int  fd;

    switch (fork()) {
    case -1:
        eg_log_error(EG_LOG_EMERG, log, eg_errno, "fork() failed");
        return EG_ERROR;

    case 0:
        break;

    default:
        exit(0);
    }

    eg_parent = eg_pid;
    eg_pid = getpid();

    if (setsid() == -1) {
        eg_log_error(EG_LOG_EMERG, log, eg_errno, "setsid() failed");
        return EG_ERROR;
    }

    umask(0);

    fd = open("/dev/null", O_RDWR);
    if (fd == -1) {
        eg_log_error(EG_LOG_EMERG, log, eg_errno,
                     "open(\"/dev/null\") failed");
        return EG_ERROR;
    }

    if (dup2(fd, STDIN_FILENO) == -1) {
        eg_log_error(EG_LOG_EMERG, log, eg_errno, "dup2(STDIN) failed");
        return EG_ERROR;
    }

    if (dup2(fd, STDOUT_FILENO) == -1) {
        eg_log_error(EG_LOG_EMERG, log, eg_errno, "dup2(STDOUT) failed");
        return EG_ERROR;
    }

    if (fd > STDERR_FILENO) {
        (void) close(fd);
    }

    return EG_OK;
}
