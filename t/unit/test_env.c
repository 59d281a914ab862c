/*
 * ENGRAM_* environment overrides: a set variable replaces its directive,
 * wherever the directive would have come from; its value goes through
 * the directive's own handler, and a bad value is an error that names the
 * variable.  The built-in tables are exercised through eg_init_cycle(),
 * word splitting through a module of the test's own.
 */

#include <eg_unit.h>


/* every variable the built-in modules read, so that none leaks in */
static const char  *eg_unit_env_names[] = {
    "ENGRAM_DAEMON",
    "ENGRAM_MASTER_PROCESS",
    "ENGRAM_WORKER_PROCESSES",
    "ENGRAM_WORKER_SHUTDOWN_TIMEOUT",
    "ENGRAM_WORKER_RLIMIT_NOFILE",
    "ENGRAM_PID",
    "ENGRAM_USER",
    "ENGRAM_ERROR_LOG",
    "ENGRAM_WORKER_CONNECTIONS",
    "ENGRAM_EVENTS_USE",
    "ENGRAM_UNIT_WORDS",
    "ENGRAM_UNIT_ONE",
    "ENGRAM_UNIT_PAIR",
    NULL
};


/* a module of the test's own, for the splitting rules */

typedef struct {
    eg_array_t          *words;
    eg_str_t             one;
    eg_array_t          *pairs;
} eg_unit_env_conf_t;


static eg_command_t  eg_unit_env_commands[] = {

    { eg_string("words"),
      EG_MAIN_CONF|EG_CONF_1MORE,
      eg_conf_set_str_array_slot,
      0,
      offsetof(eg_unit_env_conf_t, words),
      NULL },

    { eg_string("one"),
      EG_MAIN_CONF|EG_CONF_TAKE1,
      eg_conf_set_str_slot,
      0,
      offsetof(eg_unit_env_conf_t, one),
      NULL },

    { eg_string("pair"),
      EG_MAIN_CONF|EG_CONF_TAKE2,
      eg_conf_set_keyval_slot,
      0,
      offsetof(eg_unit_env_conf_t, pairs),
      NULL },

      eg_null_command
};


static eg_conf_env_t  eg_unit_env_comma[] = {
    { "ENGRAM_UNIT_WORDS", eg_string("words"), EG_ENV_SPLIT_COMMA },
    { "ENGRAM_UNIT_ONE", eg_string("one"), 0 },
    { "ENGRAM_UNIT_PAIR", eg_string("pair"), EG_ENV_SPLIT_SPACE },
    { NULL, eg_null_string, 0 }
};

static eg_conf_env_t  eg_unit_env_space[] = {
    { "ENGRAM_UNIT_WORDS", eg_string("words"), EG_ENV_SPLIT_SPACE },
    { NULL, eg_null_string, 0 }
};

static eg_conf_env_t  eg_unit_env_both[] = {
    { "ENGRAM_UNIT_WORDS", eg_string("words"),
      EG_ENV_SPLIT_COMMA|EG_ENV_SPLIT_SPACE },
    { NULL, eg_null_string, 0 }
};

static eg_conf_env_t  eg_unit_env_none[] = {
    { "ENGRAM_UNIT_WORDS", eg_string("words"), 0 },
    { NULL, eg_null_string, 0 }
};

static eg_conf_env_t  eg_unit_env_broken[] = {
    { "ENGRAM_UNIT_WORDS", eg_string("no_such_directive"), 0 },
    { NULL, eg_null_string, 0 }
};


static eg_module_t  eg_unit_env_module = {
    EG_MODULE_V1,
    "eg_unit_env_module",
    EG_CORE_MODULE,                     /* module type */
    NULL,                               /* module context */
    eg_unit_env_commands,               /* module directives */
    eg_unit_env_comma,                  /* environment overrides */
    NULL,                               /* init master */
    NULL,                               /* init module */
    NULL,                               /* init process */
    NULL,                               /* exit process */
    NULL                                /* exit master */
};


static eg_unit_conf_t      uc;
static eg_unit_cf_t        u;
static eg_unit_env_conf_t  conf;


static void
eg_unit_env_clear(void)
{
    const char  **name;

    for (name = eg_unit_env_names; *name; name++) {
        (void) unsetenv(*name);
    }
}


static void
eg_unit_env_setup(void)
{
    eg_unit_env_clear();

    eg_unit_cf_init(&u);

    conf.words = EG_CONF_UNSET_PTR;
    conf.one.len = 0;
    conf.one.data = NULL;
    conf.pairs = NULL;

    eg_unit_env_module.env = eg_unit_env_comma;
}


static void
eg_unit_env_teardown(void)
{
    eg_unit_conf_done(&uc);
    eg_unit_cf_done(&u);
    eg_unit_env_clear();
}


static void
eg_unit_setenv(const char *name, const char *value)
{
    ck_assert_int_eq(setenv(name, value, 1), 0);
}


/* applies the test module's overrides; returns what env_apply returned */
static char *
eg_unit_env_apply(eg_conf_env_t *table)
{
    eg_unit_env_module.env = table;

    return eg_conf_env_apply(&u.cf, &eg_unit_env_module, &conf);
}


/* asserts the words collected by the "words" directive */
static void
eg_unit_assert_words(const char **expect)
{
    eg_uint_t   i;
    eg_str_t   *w;

    ck_assert_ptr_ne(conf.words, EG_CONF_UNSET_PTR);

    w = conf.words->elts;

    for (i = 0; expect[i]; i++) {
        ck_assert_msg(i < conf.words->nelts, "only %lu words",
                      (unsigned long) conf.words->nelts);
        eg_unit_assert_str_eq(&w[i], expect[i]);
    }

    ck_assert_uint_eq(conf.words->nelts, i);
}


static eg_cycle_t *
eg_unit_env_conf_ok(const char *text)
{
    eg_cycle_t  *cycle;

    cycle = eg_unit_conf_run(&uc, text, NULL);

    ck_assert_msg(cycle != NULL, "the configuration was refused: %s",
                  eg_unit_conf_log(&uc));
    ck_assert_str_eq(eg_unit_conf_log(&uc), "");

    return cycle;
}


static const char *
eg_unit_env_conf_fails(const char *text)
{
    ck_assert_msg(eg_unit_conf_run(&uc, text, NULL) == NULL,
                  "the configuration was accepted");

    return eg_unit_conf_log(&uc);
}


/* the built-in overrides, through eg_init_cycle() */

START_TEST(override_wins_over_the_file_directive)
{
    eg_unit_setenv("ENGRAM_WORKER_PROCESSES", "3");

    ck_assert_int_eq(eg_unit_core_conf(eg_unit_env_conf_ok(
                         "worker_processes 2;"))->worker_processes, 3);
}
END_TEST


START_TEST(override_applies_when_the_file_is_silent)
{
    eg_unit_setenv("ENGRAM_DAEMON", "off");

    ck_assert_int_eq(eg_unit_core_conf(eg_unit_env_conf_ok(""))->daemon, 0);
}
END_TEST


START_TEST(overridden_file_directive_is_not_parsed_at_all)
{
    eg_unit_setenv("ENGRAM_WORKER_PROCESSES", "3");

    ck_assert_int_eq(eg_unit_core_conf(eg_unit_env_conf_ok(
                         "worker_processes bogus;"))->worker_processes, 3);
}
END_TEST


START_TEST(overridden_file_directive_still_needs_valid_arguments)
{
    const char  *log;

    eg_unit_setenv("ENGRAM_WORKER_PROCESSES", "3");

    log = eg_unit_env_conf_fails("worker_processes 1 2;");

    ck_assert_str_eq(log, "[emerg] invalid number of arguments in "
                          "\"worker_processes\" directive "
                          "in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(override_wins_over_a_g_directive)
{
    eg_cycle_t  *cycle;

    eg_unit_setenv("ENGRAM_DAEMON", "on");

    cycle = eg_unit_conf_run(&uc, "", "daemon off;");

    ck_assert_ptr_nonnull(cycle);
    ck_assert_int_eq(eg_unit_core_conf(cycle)->daemon, 1);
}
END_TEST


START_TEST(override_of_a_repeated_directive_is_not_duplicate)
{
    eg_unit_setenv("ENGRAM_DAEMON", "on");

    ck_assert_int_eq(eg_unit_core_conf(eg_unit_env_conf_ok(
                         "daemon off;\ndaemon off;\n"))->daemon, 1);
}
END_TEST


START_TEST(empty_value_counts_as_unset)
{
    eg_unit_setenv("ENGRAM_DAEMON", "");

    ck_assert_int_eq(eg_unit_core_conf(eg_unit_env_conf_ok(
                         "daemon off;"))->daemon, 0);
}
END_TEST


START_TEST(empty_value_leaves_the_default)
{
    eg_unit_setenv("ENGRAM_WORKER_PROCESSES", "");

    ck_assert_int_eq(eg_unit_core_conf(eg_unit_env_conf_ok(
                         ""))->worker_processes, 1);
}
END_TEST


START_TEST(invalid_flag_value_names_the_variable)
{
    const char  *log;

    eg_unit_setenv("ENGRAM_DAEMON", "maybe");

    log = eg_unit_env_conf_fails("");

    ck_assert_str_eq(log, "[emerg] invalid value \"maybe\" in \"daemon\" "
                          "directive, it must be \"on\" or \"off\", "
                          "in environment variable ENGRAM_DAEMON\n");
}
END_TEST


START_TEST(invalid_handler_value_names_the_variable)
{
    const char  *log;

    eg_unit_setenv("ENGRAM_WORKER_PROCESSES", "lots");

    log = eg_unit_env_conf_fails("worker_processes 2;");

    ck_assert_str_eq(log, "[emerg] invalid value \"lots\" in "
                          "\"worker_processes\" directive, it must be "
                          "\"auto\" or a number from 1 to 512, "
                          "in environment variable ENGRAM_WORKER_PROCESSES"
                          "\n");
}
END_TEST


START_TEST(out_of_range_value_names_the_variable)
{
    const char  *log;

    eg_unit_setenv("ENGRAM_WORKER_RLIMIT_NOFILE", "0");

    log = eg_unit_env_conf_fails("");

    ck_assert_str_eq(log, "[emerg] value \"0\" in \"worker_rlimit_nofile\" "
                          "directive is out of range, it must be between "
                          "1 and 2147483647, in environment variable "
                          "ENGRAM_WORKER_RLIMIT_NOFILE\n");
}
END_TEST


START_TEST(too_many_words_name_the_variable)
{
    const char  *log;

    eg_unit_setenv("ENGRAM_USER", "nobody nogroup extra");

    log = eg_unit_env_conf_fails("");

    ck_assert_str_eq(log, "[emerg] invalid number of arguments in \"user\" "
                          "directive, in environment variable ENGRAM_USER"
                          "\n");
}
END_TEST


START_TEST(time_value_goes_through_the_directive_parser)
{
    eg_unit_setenv("ENGRAM_WORKER_SHUTDOWN_TIMEOUT", "1m30s");

    ck_assert_uint_eq(eg_unit_core_conf(eg_unit_env_conf_ok(
                          ""))->shutdown_timeout, 90000);
}
END_TEST


START_TEST(unsplit_value_keeps_its_blanks)
{
    eg_unit_setenv("ENGRAM_PID", "/tmp/engram unit.pid");

    eg_unit_assert_str_eq(&eg_unit_core_conf(eg_unit_env_conf_ok(
                              ""))->pid, "/tmp/engram unit.pid");
}
END_TEST


START_TEST(space_split_value_gives_several_arguments)
{
    char         path[PATH_MAX], value[PATH_MAX + 16];
    eg_cycle_t  *cycle;

    eg_unit_path(path, sizeof(path), "env-error.log");
    (void) snprintf(value, sizeof(value), "  %s \t info ", path);

    eg_unit_setenv("ENGRAM_ERROR_LOG", value);

    cycle = eg_unit_env_conf_ok("error_log stderr;");

    ck_assert_ptr_nonnull(cycle->new_log.file);
    ck_assert_str_eq((char *) cycle->new_log.file->name.data, path);
    ck_assert_uint_eq(cycle->new_log.log_level, EG_LOG_INFO);
    ck_assert_ptr_null(cycle->new_log.next);
}
END_TEST


START_TEST(override_applies_inside_the_events_block)
{
    eg_unit_setenv("ENGRAM_WORKER_CONNECTIONS", "2048");

    ck_assert_uint_eq(eg_unit_event_conf(eg_unit_env_conf_ok(
                          "events { worker_connections 100; }"))
                      ->connections, 2048);
}
END_TEST


START_TEST(override_applies_without_an_events_block)
{
    eg_unit_setenv("ENGRAM_WORKER_CONNECTIONS", "4096");

    ck_assert_uint_eq(eg_unit_event_conf(eg_unit_env_conf_ok(
                          ""))->connections, 4096);
}
END_TEST


START_TEST(invalid_value_in_an_event_variable_names_it)
{
    const char  *log;

    eg_unit_setenv("ENGRAM_WORKER_CONNECTIONS", "8");

    log = eg_unit_env_conf_fails("events { }");

    ck_assert_str_eq(log, "[emerg] value \"8\" in \"worker_connections\" "
                          "directive is out of range, it must be between "
                          "16 and 1048576, in environment variable "
                          "ENGRAM_WORKER_CONNECTIONS\n");
}
END_TEST


START_TEST(invalid_event_variable_is_reported_without_a_block_too)
{
    const char  *log;

    eg_unit_setenv("ENGRAM_WORKER_CONNECTIONS", "many");

    log = eg_unit_env_conf_fails("");

    ck_assert_str_eq(log, "[emerg] invalid value \"many\" in "
                          "\"worker_connections\" directive, in environment "
                          "variable ENGRAM_WORKER_CONNECTIONS\n");
}
END_TEST


/* eg_conf_env_overrides */

START_TEST(overrides_reports_only_set_non_empty_variables)
{
    eg_str_t  words = eg_string("words");
    eg_str_t  one = eg_string("one");
    eg_str_t  other = eg_string("other");

    ck_assert_uint_eq(eg_conf_env_overrides(&eg_unit_env_module, &words), 0);

    eg_unit_setenv("ENGRAM_UNIT_WORDS", "");
    ck_assert_uint_eq(eg_conf_env_overrides(&eg_unit_env_module, &words), 0);

    eg_unit_setenv("ENGRAM_UNIT_WORDS", "a");
    ck_assert_uint_eq(eg_conf_env_overrides(&eg_unit_env_module, &words), 1);

    ck_assert_uint_eq(eg_conf_env_overrides(&eg_unit_env_module, &one), 0);
    ck_assert_uint_eq(eg_conf_env_overrides(&eg_unit_env_module, &other), 0);
}
END_TEST


START_TEST(overrides_of_a_module_without_a_table_is_never)
{
    eg_str_t  daemon = eg_string("daemon");

    eg_unit_setenv("ENGRAM_DAEMON", "on");
    eg_unit_env_module.env = NULL;

    ck_assert_uint_eq(eg_conf_env_overrides(&eg_unit_env_module, &daemon),
                      0);
    ck_assert_ptr_null(eg_unit_env_apply(NULL));
}
END_TEST


/* eg_conf_env_apply and word splitting */

START_TEST(apply_ignores_unset_variables)
{
    ck_assert_ptr_null(eg_unit_env_apply(eg_unit_env_comma));

    ck_assert_ptr_eq(conf.words, EG_CONF_UNSET_PTR);
    ck_assert_ptr_null(conf.one.data);
    ck_assert_str_eq(eg_unit_cf_log(&u), "");
}
END_TEST


START_TEST(comma_split_gives_one_argument_per_item)
{
    const char  *expect[] = { "a", "b", "c", NULL };

    eg_unit_setenv("ENGRAM_UNIT_WORDS", "a,b,c");

    ck_assert_ptr_null(eg_unit_env_apply(eg_unit_env_comma));
    eg_unit_assert_words(expect);
}
END_TEST


START_TEST(comma_split_trims_blanks_and_skips_empty_items)
{
    const char  *expect[] = { "a", "b", "c d", NULL };

    eg_unit_setenv("ENGRAM_UNIT_WORDS", " a , b,,\tc d ,");

    ck_assert_ptr_null(eg_unit_env_apply(eg_unit_env_comma));
    eg_unit_assert_words(expect);
}
END_TEST


START_TEST(space_split_gives_one_argument_per_word)
{
    const char  *expect[] = { "a,b", "c", "d", NULL };

    eg_unit_setenv("ENGRAM_UNIT_WORDS", "  a,b \t c   d  ");

    ck_assert_ptr_null(eg_unit_env_apply(eg_unit_env_space));
    eg_unit_assert_words(expect);
}
END_TEST


START_TEST(comma_and_space_split_together)
{
    const char  *expect[] = { "a", "b", "c", "d", NULL };

    eg_unit_setenv("ENGRAM_UNIT_WORDS", "a, b c,,d");

    ck_assert_ptr_null(eg_unit_env_apply(eg_unit_env_both));
    eg_unit_assert_words(expect);
}
END_TEST


START_TEST(no_split_keeps_the_value_whole)
{
    const char  *expect[] = { " a, b c ", NULL };

    eg_unit_setenv("ENGRAM_UNIT_WORDS", " a, b c ");

    ck_assert_ptr_null(eg_unit_env_apply(eg_unit_env_none));
    eg_unit_assert_words(expect);
}
END_TEST


START_TEST(split_value_of_only_separators_has_no_arguments)
{
    eg_unit_setenv("ENGRAM_UNIT_WORDS", " , ,, ");

    ck_assert_ptr_eq(eg_unit_env_apply(eg_unit_env_comma), EG_CONF_ERROR);
    ck_assert_str_eq(eg_unit_cf_log(&u),
                     "[emerg] invalid number of arguments in \"words\" "
                     "directive, in environment variable "
                     "ENGRAM_UNIT_WORDS\n");
}
END_TEST


START_TEST(space_split_feeds_a_two_argument_directive)
{
    eg_keyval_t  *kv;

    eg_unit_setenv("ENGRAM_UNIT_PAIR", "zone eu-west-1");

    ck_assert_ptr_null(eg_unit_env_apply(eg_unit_env_comma));

    ck_assert_uint_eq(conf.pairs->nelts, 1);
    kv = conf.pairs->elts;
    eg_unit_assert_str_eq(&kv[0].key, "zone");
    eg_unit_assert_str_eq(&kv[0].value, "eu-west-1");
}
END_TEST


START_TEST(several_variables_of_a_module_all_apply)
{
    const char  *expect[] = { "x", "y", NULL };

    eg_unit_setenv("ENGRAM_UNIT_WORDS", "x,y");
    eg_unit_setenv("ENGRAM_UNIT_ONE", "single value");

    ck_assert_ptr_null(eg_unit_env_apply(eg_unit_env_comma));

    eg_unit_assert_words(expect);
    eg_unit_assert_str_eq(&conf.one, "single value");
}
END_TEST


START_TEST(setter_message_names_the_variable)
{
    conf.one.data = (u_char *) "already";
    conf.one.len = sizeof("already") - 1;

    eg_unit_setenv("ENGRAM_UNIT_ONE", "again");

    ck_assert_ptr_eq(eg_unit_env_apply(eg_unit_env_comma), EG_CONF_ERROR);
    ck_assert_str_eq(eg_unit_cf_log(&u),
                     "[emerg] \"one\" directive is duplicate, in "
                     "environment variable ENGRAM_UNIT_ONE\n");
}
END_TEST


START_TEST(errors_after_apply_name_the_file_again)
{
    eg_unit_setenv("ENGRAM_UNIT_ONE", "v");

    ck_assert_ptr_null(eg_unit_env_apply(eg_unit_env_comma));
    ck_assert_ptr_null(u.cf.env);

    eg_conf_log_error(EG_LOG_EMERG, &u.cf, 0, "later");

    ck_assert_str_eq(eg_unit_cf_log(&u), "[emerg] later in test.conf:7\n");
}
END_TEST


START_TEST(table_naming_an_unknown_directive_is_an_alert)
{
    eg_unit_setenv("ENGRAM_UNIT_WORDS", "a");

    ck_assert_ptr_eq(eg_unit_env_apply(eg_unit_env_broken), EG_CONF_ERROR);
    ck_assert_str_eq(eg_unit_cf_log(&u),
                     "[alert] ENGRAM_UNIT_WORDS names unknown directive "
                     "\"no_such_directive\"\n");
}
END_TEST


Suite *
eg_unit_env_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("env");

    tc = tcase_create("built-in");
    tcase_add_checked_fixture(tc, eg_unit_env_setup, eg_unit_env_teardown);
    tcase_add_test(tc, override_wins_over_the_file_directive);
    tcase_add_test(tc, override_applies_when_the_file_is_silent);
    tcase_add_test(tc, overridden_file_directive_is_not_parsed_at_all);
    tcase_add_test(tc, overridden_file_directive_still_needs_valid_arguments);
    tcase_add_test(tc, override_wins_over_a_g_directive);
    tcase_add_test(tc, override_of_a_repeated_directive_is_not_duplicate);
    tcase_add_test(tc, empty_value_counts_as_unset);
    tcase_add_test(tc, empty_value_leaves_the_default);
    tcase_add_test(tc, invalid_flag_value_names_the_variable);
    tcase_add_test(tc, invalid_handler_value_names_the_variable);
    tcase_add_test(tc, out_of_range_value_names_the_variable);
    tcase_add_test(tc, too_many_words_name_the_variable);
    tcase_add_test(tc, time_value_goes_through_the_directive_parser);
    tcase_add_test(tc, unsplit_value_keeps_its_blanks);
    tcase_add_test(tc, space_split_value_gives_several_arguments);
    tcase_add_test(tc, override_applies_inside_the_events_block);
    tcase_add_test(tc, override_applies_without_an_events_block);
    tcase_add_test(tc, invalid_value_in_an_event_variable_names_it);
    tcase_add_test(tc,
                   invalid_event_variable_is_reported_without_a_block_too);
    suite_add_tcase(s, tc);

    tc = tcase_create("splitting");
    tcase_add_checked_fixture(tc, eg_unit_env_setup, eg_unit_env_teardown);
    tcase_add_test(tc, overrides_reports_only_set_non_empty_variables);
    tcase_add_test(tc, overrides_of_a_module_without_a_table_is_never);
    tcase_add_test(tc, apply_ignores_unset_variables);
    tcase_add_test(tc, comma_split_gives_one_argument_per_item);
    tcase_add_test(tc, comma_split_trims_blanks_and_skips_empty_items);
    tcase_add_test(tc, space_split_gives_one_argument_per_word);
    tcase_add_test(tc, comma_and_space_split_together);
    tcase_add_test(tc, no_split_keeps_the_value_whole);
    tcase_add_test(tc, split_value_of_only_separators_has_no_arguments);
    tcase_add_test(tc, space_split_feeds_a_two_argument_directive);
    tcase_add_test(tc, several_variables_of_a_module_all_apply);
    tcase_add_test(tc, setter_message_names_the_variable);
    tcase_add_test(tc, errors_after_apply_name_the_file_again);
    tcase_add_test(tc, table_naming_an_unknown_directive_is_an_alert);
    suite_add_tcase(s, tc);

    return s;
}
