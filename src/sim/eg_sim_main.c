/*
 * engram-sim: runs a scenario on the simulator and prints a JSON report.
 *
 *     engram-sim [-f FILE] [COMMAND ...]
 *
 * Commands (one per argument, or one per line of FILE, '#' comments):
 *
 *     nodes N                 cluster size (10)
 *     seed S                  the run's seed (1)
 *     loss P                  datagram loss on every link, 0 to 1 (0)
 *     delay MS [JITTER]       one-way delay and its jitter (1 0)
 *     preformed on|off        start as one formed cluster (on); with off,
 *                             nodes start with "join"
 *     lifeguard on|off        Lifeguard refinements (on)
 *     set NAME VALUE          a gossip setting: probe_interval,
 *                             probe_timeout, indirect_checks,
 *                             suspicion_mult, suspicion_max_mult,
 *                             retransmit_mult, gossip_interval,
 *                             gossip_nodes, push_pull_interval,
 *                             reconnect_interval, reap_timeout (times in ms)
 *     keys KEY[,KEY...]       a keyring (base64), the same on every node
 *     at TIME ACTION          schedule an action; TIME like 10s, 500ms
 *     run TIME                run until TIME, then report
 *
 * Actions: join N [VIA] (VIA: node 0, or 1 for node 0 itself), crash N,
 * pause N DURATION, leave N, partition A-B [C-D ...] (node ranges, one
 * group each; the rest is a group of its own), heal, link A B LOSS,
 * keys KEY[,KEY...].
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_membership.h>
#include <eg_swim.h>
#include <eg_sim.h>


#define EG_SIM_MAX_ACTIONS  1024
#define EG_SIM_MAX_WORDS    32


typedef struct {
    eg_msec_t    at;
    eg_uint_t    nwords;
    char        *words[EG_SIM_MAX_WORDS];
} eg_sim_action_t;


typedef struct {
    eg_sim_conf_t     conf;
    eg_sim_action_t   actions[EG_SIM_MAX_ACTIONS];
    eg_uint_t         nactions;
    eg_msec_t         run;
    eg_uint_t         crashed[64];
    eg_uint_t         ncrashed;
    eg_uint_t         joined[64];
    eg_uint_t         njoined;
} eg_sim_scenario_t;


static int eg_sim_fail(const char *fmt, ...) EG_PRINTF(1, 2);


static int
eg_sim_fail(const char *fmt, ...)
{
    va_list  args;

    (void) fprintf(stderr, "engram-sim: ");

    va_start(args, fmt);
    (void) vfprintf(stderr, fmt, args);
    va_end(args);

    (void) fprintf(stderr, "\n");

    return 1;
}


static eg_int_t
eg_sim_time(const char *s, eg_msec_t *t)
{
    eg_int_t  n;
    eg_str_t  v;

    v.data = (u_char *) s;
    v.len = strlen(s);

    /* a bare number is milliseconds, here as in the settings' docs */

    if (v.len && strspn(s, "0123456789") == v.len) {
        n = eg_atoi(v.data, v.len);

    } else {
        n = eg_parse_time(&v, 1);
    }

    if (n == EG_ERROR) {
        return EG_ERROR;
    }

    *t = (eg_msec_t) n;

    return EG_OK;
}


static eg_int_t
eg_sim_number(const char *s, eg_uint_t *n)
{
    eg_int_t  v;

    v = eg_atoi((u_char *) s, strlen(s));

    if (v == EG_ERROR) {
        return EG_ERROR;
    }

    *n = (eg_uint_t) v;

    return EG_OK;
}


static eg_int_t
eg_sim_keys(const char *list, eg_swim_keyring_t *kr)
{
    char         *text, *p;
    const char   *err;
    eg_int_t      rc;

    text = strdup(list);
    if (text == NULL) {
        return EG_ERROR;
    }

    for (p = text; *p; p++) {
        if (*p == ',') {
            *p = '\n';
        }
    }

    rc = eg_swim_keyring_parse(kr, (u_char *) text, strlen(text), &err);

    if (rc != EG_OK) {
        (void) eg_sim_fail("keys: %s", err);
    }

    free(text);

    return rc;
}


static eg_int_t
eg_sim_setting(eg_swim_conf_t *c, const char *name, const char *value)
{
    eg_uint_t   n;
    eg_msec_t   t;

    static const struct {
        const char  *name;
        size_t       offset;
        eg_uint_t    is_time;
    } settings[] = {
        { "probe_interval", offsetof(eg_swim_conf_t, probe_interval), 1 },
        { "probe_timeout", offsetof(eg_swim_conf_t, probe_timeout), 1 },
        { "indirect_checks", offsetof(eg_swim_conf_t, indirect_checks), 0 },
        { "suspicion_mult", offsetof(eg_swim_conf_t, suspicion_mult), 0 },
        { "suspicion_max_mult",
          offsetof(eg_swim_conf_t, suspicion_max_mult), 0 },
        { "retransmit_mult", offsetof(eg_swim_conf_t, retransmit_mult), 0 },
        { "gossip_interval", offsetof(eg_swim_conf_t, gossip_interval), 1 },
        { "gossip_nodes", offsetof(eg_swim_conf_t, gossip_nodes), 0 },
        { "push_pull_interval",
          offsetof(eg_swim_conf_t, push_pull_interval), 1 },
        { "reconnect_interval",
          offsetof(eg_swim_conf_t, reconnect_interval), 1 },
        { "reap_timeout", offsetof(eg_swim_conf_t, reap_timeout), 1 },
        { NULL, 0, 0 }
    };

    eg_uint_t  i;

    for (i = 0; settings[i].name; i++) {
        if (strcmp(settings[i].name, name) != 0) {
            continue;
        }

        if (settings[i].is_time) {
            if (eg_sim_time(value, &t) != EG_OK) {
                return EG_ERROR;
            }

            *(eg_msec_t *) ((char *) c + settings[i].offset) = t;

        } else {
            if (eg_sim_number(value, &n) != EG_OK) {
                return EG_ERROR;
            }

            *(eg_uint_t *) ((char *) c + settings[i].offset) = n;
        }

        return EG_OK;
    }

    return EG_ERROR;
}


/* one command line; words point into line, which must live on */
static eg_int_t
eg_sim_command(eg_sim_scenario_t *sc, char *line)
{
    char             *w[EG_SIM_MAX_WORDS], *save, *tok;
    double            d;
    eg_uint_t         n, i;
    eg_sim_action_t  *a;

    n = 0;

    for (tok = strtok_r(line, " \t\r\n", &save);
         tok && n < EG_SIM_MAX_WORDS;
         tok = strtok_r(NULL, " \t\r\n", &save))
    {
        if (tok[0] == '#') {
            break;
        }

        w[n++] = tok;
    }

    if (n == 0) {
        return EG_OK;
    }

#define eg_sim_need(k)                                                       \
    if (n != (k)) {                                                          \
        (void) eg_sim_fail("\"%s\" takes %d argument(s)", w[0], (k) - 1);    \
        return EG_ERROR;                                                     \
    }

    if (strcmp(w[0], "nodes") == 0) {
        eg_sim_need(2);
        return eg_sim_number(w[1], &sc->conf.nodes);
    }

    if (strcmp(w[0], "seed") == 0) {
        eg_sim_need(2);
        sc->conf.seed = strtoull(w[1], NULL, 10);
        return EG_OK;
    }

    if (strcmp(w[0], "loss") == 0) {
        eg_sim_need(2);
        d = atof(w[1]);

        if (d < 0 || d > 1) {
            (void) eg_sim_fail("loss must be between 0 and 1");
            return EG_ERROR;
        }

        sc->conf.loss = d;
        return EG_OK;
    }

    if (strcmp(w[0], "delay") == 0) {
        if (n != 2 && n != 3) {
            (void) eg_sim_fail("delay MS [JITTER]");
            return EG_ERROR;
        }

        if (eg_sim_time(w[1], &sc->conf.delay) != EG_OK
            || (n == 3 && eg_sim_time(w[2], &sc->conf.jitter) != EG_OK))
        {
            return EG_ERROR;
        }

        return EG_OK;
    }

    if (strcmp(w[0], "preformed") == 0 || strcmp(w[0], "lifeguard") == 0) {
        eg_sim_need(2);

        i = strcmp(w[1], "on") == 0;

        if (w[0][0] == 'p') {
            sc->conf.preformed = i;

        } else {
            sc->conf.swim.lifeguard = (eg_flag_t) i;
        }

        return EG_OK;
    }

    if (strcmp(w[0], "set") == 0) {
        eg_sim_need(3);

        if (eg_sim_setting(&sc->conf.swim, w[1], w[2]) != EG_OK) {
            (void) eg_sim_fail("unknown setting or bad value: set %s %s",
                               w[1], w[2]);
            return EG_ERROR;
        }

        return EG_OK;
    }

    if (strcmp(w[0], "keys") == 0) {
        eg_sim_need(2);
        return eg_sim_keys(w[1], &sc->conf.keyring);
    }

    if (strcmp(w[0], "run") == 0) {
        eg_sim_need(2);
        return eg_sim_time(w[1], &sc->run);
    }

    if (strcmp(w[0], "at") == 0 && n >= 3) {
        if (sc->nactions == EG_SIM_MAX_ACTIONS) {
            (void) eg_sim_fail("too many actions");
            return EG_ERROR;
        }

        a = &sc->actions[sc->nactions];

        if (eg_sim_time(w[1], &a->at) != EG_OK) {
            (void) eg_sim_fail("bad time \"%s\"", w[1]);
            return EG_ERROR;
        }

        a->nwords = n - 2;

        for (i = 2; i < n; i++) {
            a->words[i - 2] = w[i];
        }

        sc->nactions++;
        return EG_OK;
    }

    (void) eg_sim_fail("unknown command \"%s\"", w[0]);

    return EG_ERROR;
}


static eg_int_t
eg_sim_range(const char *s, eg_uint_t *from, eg_uint_t *to)
{
    char  *dash;

    *from = (eg_uint_t) strtoul(s, &dash, 10);

    if (*dash == '-') {
        *to = (eg_uint_t) strtoul(dash + 1, NULL, 10);

    } else {
        *to = *from;
    }

    return *to >= *from ? EG_OK : EG_ERROR;
}


static eg_int_t
eg_sim_action(eg_sim_t *sim, eg_sim_scenario_t *sc, eg_sim_action_t *a)
{
    char                *verb;
    eg_uint_t            node, via, i, j, from, to, *group;
    eg_msec_t            t;
    eg_swim_keyring_t    kr;

    verb = a->words[0];
    node = 0;

    if (a->nwords >= 2 && eg_sim_number(a->words[1], &node) != EG_OK
        && strcmp(verb, "partition") != 0 && strcmp(verb, "keys") != 0)
    {
        (void) eg_sim_fail("bad node \"%s\"", a->words[1]);
        return EG_ERROR;
    }

    if (strcmp(verb, "join") == 0 && (a->nwords == 2 || a->nwords == 3)) {
        via = (node == 0) ? 1 : 0;

        if (a->nwords == 3 && eg_sim_number(a->words[2], &via) != EG_OK) {
            return EG_ERROR;
        }

        if (sc->njoined < eg_nelems(sc->joined)) {
            sc->joined[sc->njoined++] = node;
        }

        return eg_sim_join(sim, node, via);
    }

    if (strcmp(verb, "crash") == 0 && a->nwords == 2) {
        if (sc->ncrashed < eg_nelems(sc->crashed)) {
            sc->crashed[sc->ncrashed++] = node;
        }

        eg_sim_crash(sim, node);
        return EG_OK;
    }

    if (strcmp(verb, "pause") == 0 && a->nwords == 3) {
        if (eg_sim_time(a->words[2], &t) != EG_OK) {
            return EG_ERROR;
        }

        eg_sim_pause(sim, node, t);
        return EG_OK;
    }

    if (strcmp(verb, "leave") == 0 && a->nwords == 2) {
        eg_sim_leave(sim, node);
        return EG_OK;
    }

    if (strcmp(verb, "heal") == 0 && a->nwords == 1) {
        eg_sim_heal(sim);
        return EG_OK;
    }

    if (strcmp(verb, "link") == 0 && a->nwords == 4) {
        if (eg_sim_number(a->words[2], &via) != EG_OK) {
            return EG_ERROR;
        }

        eg_sim_link_loss(sim, node, via, atof(a->words[3]));
        return EG_OK;
    }

    if (strcmp(verb, "keys") == 0 && a->nwords == 2) {
        if (eg_sim_keys(a->words[1], &kr) != EG_OK) {
            return EG_ERROR;
        }

        for (i = 0; i < eg_sim_nodes(sim); i++) {
            eg_sim_set_keyring(sim, i, &kr);
        }

        return EG_OK;
    }

    if (strcmp(verb, "partition") == 0 && a->nwords >= 2) {
        group = calloc(eg_sim_nodes(sim), sizeof(eg_uint_t));
        if (group == NULL) {
            return EG_ERROR;
        }

        for (i = 1; i < a->nwords; i++) {
            if (eg_sim_range(a->words[i], &from, &to) != EG_OK) {
                free(group);
                (void) eg_sim_fail("bad range \"%s\"", a->words[i]);
                return EG_ERROR;
            }

            for (j = from; j <= to && j < eg_sim_nodes(sim); j++) {
                group[j] = i;
            }
        }

        eg_sim_partition(sim, group);
        free(group);
        return EG_OK;
    }

    (void) eg_sim_fail("bad action \"%s\"", verb);

    return EG_ERROR;
}


static int
eg_sim_cmp_actions(const void *one, const void *two)
{
    const eg_sim_action_t  *a = one, *b = two;

    return a->at < b->at ? -1 : (a->at > b->at ? 1 : 0);
}


static void
eg_sim_report(eg_sim_t *sim, eg_sim_scenario_t *sc, double wall)
{
    double            secs, n;
    eg_uint_t         i;
    eg_sim_crash_t   *c;
    eg_sim_stats_t   *st;
    eg_sim_spread_t  *sp;

    st = eg_sim_stats(sim);
    secs = (double) sc->run / 1000.0;
    n = (double) eg_sim_nodes(sim);

    (void) printf("{\n  \"nodes\": %lu,\n  \"seed\": %llu,\n"
                  "  \"loss\": %g,\n  \"lifeguard\": %s,\n"
                  "  \"simulated_seconds\": %.3f,\n",
                  (unsigned long) eg_sim_nodes(sim),
                  (unsigned long long) sc->conf.seed, sc->conf.loss,
                  sc->conf.swim.lifeguard ? "true" : "false", secs);

    (void) printf("  \"dissemination\": [");

    for (i = 0; i < sc->njoined; i++) {
        sp = eg_sim_spread(sim, sc->joined[i]);

        (void) printf("%s\n    {\"node\": %lu, \"start_s\": %.3f, "
                      "\"reached\": %lu, \"full_s\": ",
                      i ? "," : "", (unsigned long) sc->joined[i],
                      (double) sp->start / 1000.0,
                      (unsigned long) sp->count);

        if (sp->done) {
            (void) printf("%.3f, \"rounds\": %.1f}",
                          (double) (sp->done - sp->start) / 1000.0,
                          (double) (sp->done - sp->start)
                          / (double) sc->conf.swim.gossip_interval);

        } else {
            (void) printf("null, \"rounds\": null}");
        }
    }

    (void) printf("%s],\n  \"detection\": [", sc->njoined ? "\n  " : "");

    for (i = 0; i < sc->ncrashed; i++) {
        c = eg_sim_crash_info(sim, sc->crashed[i]);

        (void) printf("%s\n    {\"node\": %lu, \"crashed_s\": %.3f, "
                      "\"first_suspect_s\": %.3f, \"first_dead_s\": %.3f, "
                      "\"all_dead_s\": ",
                      i ? "," : "", (unsigned long) sc->crashed[i],
                      (double) c->at / 1000.0,
                      c->first_suspect
                      ? (double) (c->first_suspect - c->at) / 1000.0 : -1.0,
                      c->first_dead
                      ? (double) (c->first_dead - c->at) / 1000.0 : -1.0);

        if (c->all_dead) {
            (void) printf("%.3f}", (double) (c->all_dead - c->at) / 1000.0);

        } else {
            (void) printf("null}");
        }
    }

    (void) printf("%s],\n  \"false_positives\": {\"dead\": %llu, "
                  "\"suspect\": %llu},\n",
                  sc->ncrashed ? "\n  " : "",
                  (unsigned long long) st->false_dead,
                  (unsigned long long) st->false_suspect);

    (void) printf("  \"messages_per_node_per_s\": %.2f,\n"
                  "  \"bytes_per_node_per_s\": %.1f,\n"
                  "  \"lost\": %llu,\n  \"streams\": %llu,\n"
                  "  \"events\": %llu,\n  \"wall_seconds\": %.3f\n}\n",
                  secs > 0 ? (double) st->packets / n / secs : 0.0,
                  secs > 0 ? (double) st->bytes / n / secs : 0.0,
                  (unsigned long long) st->lost,
                  (unsigned long long) st->streams,
                  (unsigned long long) st->events, wall);
}


int
main(int argc, char **argv)
{
    int                 i;
    char               *line, *text, *save;
    double              wall;
    u_char             *hold;
    eg_str_t            content;
    eg_uint_t           k, node;
    eg_pool_t          *pool;
    eg_sim_t           *sim;
    struct timespec     t0, t1;
    eg_sim_scenario_t  *sc;

    static eg_log_t         log;
    static eg_open_file_t   file;

    eg_time_init();

    file.fd = STDERR_FILENO;
    log.file = &file;
    log.log_level = EG_LOG_ERR;

    pool = eg_create_pool(4096, &log);
    sc = calloc(1, sizeof(eg_sim_scenario_t));

    if (pool == NULL || sc == NULL) {
        return 1;
    }

    eg_sim_conf_default(&sc->conf);
    sc->run = 60000;

    for (i = 1; i < argc; i++) {

        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            (void) printf("usage: engram-sim [-f FILE] [COMMAND ...]\n"
                          "see the comment at the top of "
                          "src/sim/eg_sim_main.c for the commands\n");
            return 0;
        }

        if (strcmp(argv[i], "-f") == 0 && i + 1 < argc) {
            if (eg_read_file(pool, argv[++i], &content, 1024 * 1024)
                != EG_OK)
            {
                return eg_sim_fail("cannot read \"%s\"", argv[i]);
            }

            text = (char *) content.data;

            for (line = strtok_r(text, "\n", &save); line;
                 line = strtok_r(NULL, "\n", &save))
            {
                if (eg_sim_command(sc, line) != EG_OK) {
                    return 1;
                }
            }

            continue;
        }

        if (eg_sim_command(sc, argv[i]) != EG_OK) {
            return 1;
        }
    }

    qsort(sc->actions, sc->nactions, sizeof(eg_sim_action_t),
          eg_sim_cmp_actions);

    (void) clock_gettime(CLOCK_MONOTONIC, &t0);

    /* nodes that join later stay out of the formed cluster */

    hold = calloc(sc->conf.nodes ? sc->conf.nodes : 1, 1);
    if (hold == NULL) {
        return 1;
    }

    for (k = 0; k < sc->nactions; k++) {
        if (strcmp(sc->actions[k].words[0], "join") == 0
            && sc->actions[k].nwords >= 2
            && eg_sim_number(sc->actions[k].words[1], &node) == EG_OK
            && node < sc->conf.nodes)
        {
            hold[node] = 1;
        }
    }

    sc->conf.hold = hold;

    sim = eg_sim_create(&sc->conf);
    free(hold);

    if (sim == NULL) {
        return eg_sim_fail("cannot create %lu nodes",
                           (unsigned long) sc->conf.nodes);
    }

    for (k = 0; k < sc->nactions; k++) {
        eg_sim_run(sim, sc->actions[k].at);

        if (eg_sim_action(sim, sc, &sc->actions[k]) != EG_OK) {
            return 1;
        }
    }

    eg_sim_run(sim, sc->run);

    (void) clock_gettime(CLOCK_MONOTONIC, &t1);

    wall = (double) (t1.tv_sec - t0.tv_sec)
           + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;

    eg_sim_report(sim, sc, wall);

    eg_sim_destroy(sim);
    eg_destroy_pool(pool);
    free(sc);

    return 0;
}
