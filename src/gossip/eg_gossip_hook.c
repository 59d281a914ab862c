/*
 * on_member_change: a program run for every membership change, the way
 * operators reconfigure load balancers or services from membership.
 *
 * It is executed directly (execve, never through a shell, so nothing in
 * a member's id or tags is ever interpreted), with the event and the
 * member in its environment:
 *
 *     ENGRAM_EVENT               join, fail, leave, update
 *     ENGRAM_MEMBER_ID, ENGRAM_MEMBER_ADDRESS, ENGRAM_MEMBER_STATE,
 *     ENGRAM_MEMBER_INCARNATION, ENGRAM_MEMBER_TAGS ("k=v,k=v")
 *     ENGRAM_NODE_ID, ENGRAM_CLUSTER_NAME
 *
 * and the same as one JSON object on its standard input.  At most
 * hook_concurrency run at once (others wait in order, up to a bound);
 * one that outlives hook_timeout is killed.  Every exit is logged.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_gossip.h>


#define EG_GOSSIP_HOOK_QUEUE  1024


typedef struct {
    eg_queue_t           queue;
    eg_event_t           timer;         /* hook_timeout */
    pid_t                pid;
    eg_uint_t            event;
    char                *env[12];       /* NULL-terminated */
    u_char              *input;         /* the JSON line */
    size_t               input_len;
    u_char               data[];        /* everything the above points to */
} eg_gossip_hook_t;


static eg_queue_t   eg_gossip_hooks_waiting;
static eg_queue_t   eg_gossip_hooks_running;
static eg_uint_t    eg_gossip_hooks_init;
static eg_uint_t    eg_gossip_nwaiting;
static eg_uint_t    eg_gossip_nrunning;

static const char  *eg_gossip_hook_events[] = {
    "", "join", "suspect", "fail", "leave", "update", "reap"
};


static void eg_gossip_hook_run(eg_gossip_t *g);
static void eg_gossip_hook_timeout(eg_event_t *ev);


/* a JSON string: quotes, backslashes and controls escaped */
static u_char *
eg_gossip_json_str(u_char *p, u_char *last, u_char *s, size_t len)
{
    size_t  i;

    p = eg_slprintf(p, last, "\"");

    for (i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\') {
            p = eg_slprintf(p, last, "\\%c", s[i]);

        } else if (s[i] < 0x20 || s[i] == 0x7f) {
            p = eg_slprintf(p, last, "\\u%04x", s[i]);

        } else {
            p = eg_slprintf(p, last, "%c", s[i]);
        }
    }

    return eg_slprintf(p, last, "\"");
}


void
eg_gossip_hook_event(eg_gossip_t *g, eg_swim_member_t *m, eg_uint_t event)
{
    u_char             *p, *last, *tags, *t, *tlast, *start, addr[64];
    size_t              size, alen;
    eg_uint_t           i, first;
    eg_swim_ident_t    *id;
    eg_gossip_conf_t   *gcf;
    eg_gossip_hook_t   *h;

    gcf = g->conf;

    if (gcf->hook.data == NULL) {
        return;
    }

    if (!eg_gossip_hooks_init) {
        eg_queue_init(&eg_gossip_hooks_waiting);
        eg_queue_init(&eg_gossip_hooks_running);
        eg_gossip_hooks_init = 1;
    }

    if (eg_gossip_nwaiting >= EG_GOSSIP_HOOK_QUEUE) {
        eg_log_error(EG_LOG_ERR, g->log, 0,
                     "%lu member changes are waiting for \"%s\": this one "
                     "is dropped", (unsigned long) eg_gossip_nwaiting,
                     gcf->hook.data);
        return;
    }

    id = m->ident;
    alen = eg_swim_addr_text(&id->addr, addr, sizeof(addr));

    /* all of it in one block: the environment, the strings, the input */

    size = 4096 + 2 * (EG_SWIM_ID_MAX + EG_SWIM_TAGS_MAX)
           + 6 * (EG_SWIM_ID_MAX + EG_SWIM_TAGS_MAX + 64);

    h = calloc(1, sizeof(eg_gossip_hook_t) + size);
    if (h == NULL) {
        return;
    }

    h->event = event;
    h->pid = -1;

    p = h->data;
    last = h->data + size;

    /* tags as k=v,k=v */

    tags = p;
    t = id->tags;
    tlast = id->tags + id->tags_len;
    first = 1;

    while (t < tlast) {
        p = eg_slprintf(p, last, "%s%.*s=%.*s", first ? "" : ",",
                        (int) t[0], (char *) t + 1,
                        (int) t[1 + t[0]], (char *) t + 2 + t[0]);
        t += 2 + t[0] + t[1 + t[0]];
        first = 0;
    }

    *p++ = '\0';

    i = 0;

#define eg_gossip_env_add(...)                                               \
    start = p;                                                               \
    p = eg_slprintf(p, last, __VA_ARGS__);                                   \
    p++;                                                                     \
    h->env[i++] = (char *) start

    eg_gossip_env_add("ENGRAM_EVENT=%s", eg_gossip_hook_events[event]);
    eg_gossip_env_add("ENGRAM_MEMBER_ID=%.*s", (int) id->id_len,
                      (char *) id->id);
    eg_gossip_env_add("ENGRAM_MEMBER_ADDRESS=%.*s", (int) alen,
                      (char *) addr);
    eg_gossip_env_add("ENGRAM_MEMBER_STATE=%s",
                      eg_member_states[m->state % EG_MEMBER_STATES]);
    eg_gossip_env_add("ENGRAM_MEMBER_INCARNATION=%llu",
                      (unsigned long long) m->incarnation);
    eg_gossip_env_add("ENGRAM_MEMBER_TAGS=%s", (char *) tags);
    eg_gossip_env_add("ENGRAM_NODE_ID=" EG_STR_FMT,
                      EG_STR_ARG(gcf->node_id));
    eg_gossip_env_add("ENGRAM_CLUSTER_NAME=" EG_STR_FMT,
                      EG_STR_ARG(gcf->cluster_name));
    eg_gossip_env_add("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                      "/usr/bin:/sbin:/bin");
    h->env[i] = NULL;

    /* and the same as JSON on the standard input */

    h->input = p;

    p = eg_slprintf(p, last, "{\"event\":\"%s\",\"id\":",
                    eg_gossip_hook_events[event]);
    p = eg_gossip_json_str(p, last, id->id, id->id_len);
    p = eg_slprintf(p, last, ",\"address\":\"%.*s\",\"state\":\"%s\","
                    "\"incarnation\":%llu,\"tags\":{", (int) alen,
                    (char *) addr,
                    eg_member_states[m->state % EG_MEMBER_STATES],
                    (unsigned long long) m->incarnation);

    t = id->tags;
    first = 1;

    while (t < tlast) {
        if (!first) {
            p = eg_slprintf(p, last, ",");
        }

        p = eg_gossip_json_str(p, last, t + 1, t[0]);
        p = eg_slprintf(p, last, ":");
        p = eg_gossip_json_str(p, last, t + 2 + t[0], t[1 + t[0]]);
        t += 2 + t[0] + t[1 + t[0]];
        first = 0;
    }

    p = eg_slprintf(p, last, "},\"node\":");
    p = eg_gossip_json_str(p, last, gcf->node_id.data, gcf->node_id.len);
    p = eg_slprintf(p, last, ",\"cluster\":");
    p = eg_gossip_json_str(p, last, gcf->cluster_name.data,
                           gcf->cluster_name.len);
    p = eg_slprintf(p, last, "}\n");

    h->input_len = (size_t) (p - h->input);

    eg_queue_insert_tail(&eg_gossip_hooks_waiting, &h->queue);
    eg_gossip_nwaiting++;

    eg_gossip_hook_run(g);
}


static void
eg_gossip_hook_run(eg_gossip_t *g)
{
    int                 in[2];
    pid_t               pid;
    sigset_t            set;
    eg_queue_t         *q;
    eg_gossip_conf_t   *gcf;
    eg_gossip_hook_t   *h;
    char               *argv[2];

    gcf = g->conf;

    while (eg_gossip_nrunning < (eg_uint_t) gcf->hook_concurrency
           && !eg_queue_empty(&eg_gossip_hooks_waiting))
    {
        q = eg_queue_head(&eg_gossip_hooks_waiting);
        h = eg_queue_data(q, eg_gossip_hook_t, queue);

        eg_queue_remove(q);
        eg_gossip_nwaiting--;

        if (pipe(in) == -1) {
            eg_log_error(EG_LOG_ERR, g->log, eg_errno, "pipe() failed");
            free(h);
            continue;
        }

        pid = fork();

        if (pid == 0) {
            /* the child: stdin from the pipe, signals as a shell expects */

            (void) dup2(in[0], STDIN_FILENO);
            (void) close(in[0]);
            (void) close(in[1]);

            sigemptyset(&set);
            (void) sigprocmask(SIG_SETMASK, &set, NULL);
            (void) signal(SIGPIPE, SIG_DFL);

            argv[0] = (char *) gcf->hook.data;
            argv[1] = NULL;

            (void) execve((char *) gcf->hook.data, argv, h->env);

            eg_log_error(EG_LOG_ERR, g->log, eg_errno,
                         "execve() \"%s\" failed", gcf->hook.data);
            _exit(127);
        }

        (void) close(in[0]);

        if (pid == -1) {
            eg_log_error(EG_LOG_ERR, g->log, eg_errno,
                         "fork() for \"%s\" failed", gcf->hook.data);
            (void) close(in[1]);
            free(h);
            continue;
        }

        /* the input is small: the pipe takes it at once, or it is cut */

        (void) eg_nonblocking(in[1]);
        (void) !write(in[1], h->input, h->input_len);
        (void) close(in[1]);

        h->pid = pid;
        h->timer.handler = eg_gossip_hook_timeout;
        h->timer.data = h;
        h->timer.log = g->log;
        h->timer.cancelable = 1;

        eg_event_add_timer(&h->timer, gcf->hook_timeout);

        eg_queue_insert_tail(&eg_gossip_hooks_running, &h->queue);
        eg_gossip_nrunning++;

        eg_log_debug(g->log, "hook %s started, pid %ld",
                     eg_gossip_hook_events[h->event], (long) pid);
    }
}


static void
eg_gossip_hook_timeout(eg_event_t *ev)
{
    eg_gossip_hook_t  *h;

    h = ev->data;

    eg_log_error(EG_LOG_ERR, ev->log, 0,
                 "on_member_change pid %ld ran out of time, killed",
                 (long) h->pid);

    (void) kill(h->pid, SIGKILL);
}


/* SIGCHLD: collect the hooks that ended and start the waiting ones */
void
eg_gossip_hook_reap(eg_gossip_t *g)
{
    int                status;
    pid_t              pid;
    eg_queue_t        *q;
    eg_gossip_hook_t  *h;

    if (!eg_gossip_hooks_init) {
        while (waitpid(-1, &status, WNOHANG) > 0) {
            /* void */
        }

        return;
    }

    for ( ;; ) {
        pid = waitpid(-1, &status, WNOHANG);

        if (pid <= 0) {
            break;
        }

        for (q = eg_queue_head(&eg_gossip_hooks_running);
             q != eg_queue_sentinel(&eg_gossip_hooks_running);
             q = eg_queue_next(q))
        {
            h = eg_queue_data(q, eg_gossip_hook_t, queue);

            if (h->pid != pid) {
                continue;
            }

            if (WIFSIGNALED(status)) {
                eg_log_error(EG_LOG_ERR, g->log, 0,
                             "on_member_change (%s) pid %ld killed by "
                             "signal %d", eg_gossip_hook_events[h->event],
                             (long) pid, WTERMSIG(status));

            } else if (WEXITSTATUS(status) != 0) {
                eg_log_error(EG_LOG_ERR, g->log, 0,
                             "on_member_change (%s) pid %ld exited with "
                             "code %d", eg_gossip_hook_events[h->event],
                             (long) pid, WEXITSTATUS(status));

            } else {
                eg_log_error(EG_LOG_INFO, g->log, 0,
                             "on_member_change (%s) pid %ld exited with "
                             "code 0", eg_gossip_hook_events[h->event],
                             (long) pid);
            }

            if (h->timer.timer_set) {
                eg_event_del_timer(&h->timer);
            }

            eg_queue_remove(q);
            eg_gossip_nrunning--;
            free(h);
            break;
        }
    }

    eg_gossip_hook_run(g);
}


/* on exit: hooks still running are left to finish on their own */
void
eg_gossip_hook_stop(eg_gossip_t *g)
{
    eg_queue_t        *q;
    eg_gossip_hook_t  *h;

    eg_unused(g);

    if (!eg_gossip_hooks_init) {
        return;
    }

    while (!eg_queue_empty(&eg_gossip_hooks_waiting)) {
        q = eg_queue_head(&eg_gossip_hooks_waiting);
        h = eg_queue_data(q, eg_gossip_hook_t, queue);
        eg_queue_remove(q);
        free(h);
    }
}
