/*
 * The configuration parser, driven as engram drives it: a file in the
 * scratch directory, -g directives, eg_init_cycle() in test mode.  Every
 * error path is here with its exact message and its "in FILE:LINE".
 */

#include <eg_unit.h>


static eg_unit_conf_t  uc;


static void
eg_unit_conf_teardown(void)
{
    eg_unit_conf_done(&uc);
}


/* runs text, expects failure and returns the log */
static const char *
eg_unit_conf_fails(const char *text, const char *param)
{
    ck_assert_msg(eg_unit_conf_run(&uc, text, param) == NULL,
                  "the configuration was accepted");

    return eg_unit_conf_log(&uc);
}


/* runs text, expects success and no message at all */
static eg_cycle_t *
eg_unit_conf_ok(const char *text, const char *param)
{
    eg_cycle_t  *cycle;

    cycle = eg_unit_conf_run(&uc, text, param);

    ck_assert_msg(cycle != NULL, "the configuration was refused: %s",
                  eg_unit_conf_log(&uc));
    ck_assert_str_eq(eg_unit_conf_log(&uc), "");

    return cycle;
}


/* what the pid directive stored, for checking tokenization */
static eg_str_t *
eg_unit_pid(const char *text)
{
    return &eg_unit_core_conf(eg_unit_conf_ok(text, NULL))->pid;
}


/* deep-01.conf includes deep-02.conf ... up to deep-n.conf, the last */
static void
eg_unit_include_chain(eg_uint_t n)
{
    char       name[32], text[64];
    eg_uint_t  i;

    for (i = 1; i <= n; i++) {
        (void) snprintf(name, sizeof(name), "deep-%02lu.conf",
                        (unsigned long) i);

        if (i < n) {
            (void) snprintf(text, sizeof(text), "include deep-%02lu.conf;\n",
                            (unsigned long) i + 1);

        } else {
            (void) snprintf(text, sizeof(text), "daemon off;\n");
        }

        eg_unit_write_file(name, text);
    }
}


/* accepted input */

START_TEST(empty_file_is_accepted)
{
    (void) eg_unit_conf_ok("", NULL);
}
END_TEST


START_TEST(directives_set_their_values)
{
    eg_core_conf_t  *ccf;

    ccf = eg_unit_core_conf(eg_unit_conf_ok("daemon off;\n"
                                            "master_process on;\n"
                                            "worker_processes 3;\n",
                                            NULL));

    ck_assert_int_eq(ccf->daemon, 0);
    ck_assert_int_eq(ccf->master, 1);
    ck_assert_int_eq(ccf->worker_processes, 3);
}
END_TEST


START_TEST(blank_characters_separate_words)
{
    eg_core_conf_t  *ccf;

    ccf = eg_unit_core_conf(eg_unit_conf_ok("\t daemon\r\n\toff ;", NULL));

    ck_assert_int_eq(ccf->daemon, 0);
}
END_TEST


START_TEST(comment_runs_to_the_end_of_the_line)
{
    eg_core_conf_t  *ccf;

    ccf = eg_unit_core_conf(eg_unit_conf_ok("# worker_processes 9;\n"
                                            "daemon off; # daemon on;\n",
                                            NULL));

    ck_assert_int_eq(ccf->daemon, 0);
    ck_assert_int_eq(ccf->worker_processes, 1);
}
END_TEST


START_TEST(comment_may_sit_between_arguments)
{
    eg_core_conf_t  *ccf;

    ccf = eg_unit_core_conf(eg_unit_conf_ok("daemon # why not\n off;",
                                            NULL));

    ck_assert_int_eq(ccf->daemon, 0);
}
END_TEST


START_TEST(comment_at_the_end_of_the_file_needs_no_newline)
{
    (void) eg_unit_conf_ok("daemon off;\n# the end", NULL);
}
END_TEST


START_TEST(hash_inside_a_word_is_not_a_comment)
{
    eg_unit_assert_str_eq(eg_unit_pid("pid /tmp/a#b;"), "/tmp/a#b");
}
END_TEST


START_TEST(double_quotes_keep_blanks_and_specials)
{
    eg_unit_assert_str_eq(eg_unit_pid("pid \"/tmp/a b;{}#.pid\";"),
                          "/tmp/a b;{}#.pid");
}
END_TEST


START_TEST(single_quotes_keep_double_quotes)
{
    eg_unit_assert_str_eq(eg_unit_pid("pid '/tmp/a\"b';"), "/tmp/a\"b");
}
END_TEST


START_TEST(escaped_double_quote_stays_in_the_word)
{
    eg_unit_assert_str_eq(eg_unit_pid("pid \"/tmp/a\\\"b\";"), "/tmp/a\"b");
}
END_TEST


START_TEST(escaped_single_quote_stays_in_the_word)
{
    eg_unit_assert_str_eq(eg_unit_pid("pid '/tmp/a\\'b';"), "/tmp/a'b");
}
END_TEST


START_TEST(escaped_backslash_becomes_one_backslash)
{
    eg_unit_assert_str_eq(eg_unit_pid("pid \"/tmp/a\\\\b\";"), "/tmp/a\\b");
}
END_TEST


START_TEST(escaped_n_and_t_become_newline_and_tab)
{
    eg_unit_assert_str_eq(eg_unit_pid("pid \"/tmp/a\\nb\\tc\\rd\";"),
                          "/tmp/a\nb\tc\rd");
}
END_TEST


START_TEST(escaped_other_characters_stand_for_themselves)
{
    eg_unit_assert_str_eq(eg_unit_pid("pid \"/tmp/\\a\\;\\{\";"),
                          "/tmp/a;{");
}
END_TEST


START_TEST(escapes_work_in_bare_words)
{
    eg_unit_assert_str_eq(eg_unit_pid("pid /tmp/a\\ b\\;c;"), "/tmp/a b;c");
}
END_TEST


START_TEST(quoted_word_may_be_followed_by_a_semicolon_or_brace)
{
    eg_event_conf_t  *ecf;

    ecf = eg_unit_event_conf(eg_unit_conf_ok("\"events\"{"
                                             "'worker_connections' '64';}",
                                             NULL));

    ck_assert_uint_eq(ecf->connections, 64);
}
END_TEST


START_TEST(quoted_empty_string_is_an_argument)
{
    const char  *log;

    log = eg_unit_conf_fails("daemon \"\";", NULL);

    ck_assert_str_eq(log, "[emerg] invalid value \"\" in \"daemon\" "
                          "directive, it must be \"on\" or \"off\" "
                          "in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(block_directive_parses_its_body)
{
    eg_event_conf_t  *ecf;

    ecf = eg_unit_event_conf(eg_unit_conf_ok("events {\n"
                                             "    worker_connections 1024;\n"
                                             "    multi_accept off;\n"
                                             "}\n",
                                             NULL));

    ck_assert_uint_eq(ecf->connections, 1024);
    ck_assert_int_eq(ecf->multi_accept, 0);
}
END_TEST


START_TEST(empty_block_is_accepted)
{
    (void) eg_unit_conf_ok("events {}", NULL);
}
END_TEST


/* line numbers */

START_TEST(line_numbers_count_blank_lines_and_comments)
{
    const char  *log;

    log = eg_unit_conf_fails("\n# comment\n\ndaemon off;\nfoo;\n", NULL);

    ck_assert_str_eq(log, "[emerg] unknown directive \"foo\" "
                          "in TMP/engram.conf:5\n");
}
END_TEST


START_TEST(line_numbers_count_newlines_inside_quotes)
{
    const char  *log;

    log = eg_unit_conf_fails("pid \"/tmp/a\nb\";\nfoo;", NULL);

    ck_assert_str_eq(log, "[emerg] unknown directive \"foo\" "
                          "in TMP/engram.conf:3\n");
}
END_TEST


START_TEST(line_numbers_count_an_escaped_newline_in_quotes)
{
    const char  *log;

    log = eg_unit_conf_fails("pid \"/tmp/a\\\nb\";\nfoo;", NULL);

    ck_assert_str_eq(log, "[emerg] unknown directive \"foo\" "
                          "in TMP/engram.conf:3\n");
}
END_TEST


START_TEST(line_numbers_count_an_escaped_newline_in_a_bare_word)
{
    const char  *log;

    log = eg_unit_conf_fails("pid /tmp/a\\\nb;\nfoo;", NULL);

    ck_assert_str_eq(log, "[emerg] unknown directive \"foo\" "
                          "in TMP/engram.conf:3\n");
}
END_TEST


START_TEST(error_names_the_line_where_the_directive_ends)
{
    const char  *log;

    log = eg_unit_conf_fails("\nworker_processes\n1\n2;", NULL);

    ck_assert_str_eq(log, "[emerg] invalid number of arguments in "
                          "\"worker_processes\" directive "
                          "in TMP/engram.conf:4\n");
}
END_TEST


/* directive errors */

START_TEST(unknown_directive_is_an_error)
{
    const char  *log;

    log = eg_unit_conf_fails("daemon off;\nfoo bar;\n", NULL);

    ck_assert_str_eq(log, "[emerg] unknown directive \"foo\" "
                          "in TMP/engram.conf:2\n");
}
END_TEST


START_TEST(directive_names_are_case_sensitive)
{
    const char  *log;

    log = eg_unit_conf_fails("Daemon off;", NULL);

    ck_assert_str_eq(log, "[emerg] unknown directive \"Daemon\" "
                          "in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(block_level_directive_at_top_level_is_not_allowed_here)
{
    const char  *log;

    log = eg_unit_conf_fails("worker_connections 100;", NULL);

    ck_assert_str_eq(log, "[emerg] \"worker_connections\" directive is not "
                          "allowed here in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(top_level_directive_in_a_block_is_not_allowed_here)
{
    const char  *log;

    log = eg_unit_conf_fails("events {\n    daemon off;\n}\n", NULL);

    ck_assert_str_eq(log, "[emerg] \"daemon\" directive is not allowed here "
                          "in TMP/engram.conf:2\n");
}
END_TEST


START_TEST(too_few_arguments_is_invalid_number_of_arguments)
{
    const char  *log;

    log = eg_unit_conf_fails("daemon;", NULL);

    ck_assert_str_eq(log, "[emerg] invalid number of arguments in "
                          "\"daemon\" directive in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(too_many_arguments_is_invalid_number_of_arguments)
{
    const char  *log;

    log = eg_unit_conf_fails("worker_processes 1 2;", NULL);

    ck_assert_str_eq(log, "[emerg] invalid number of arguments in "
                          "\"worker_processes\" directive "
                          "in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(flag_with_two_arguments_is_invalid_number_of_arguments)
{
    const char  *log;

    log = eg_unit_conf_fails("daemon on off;", NULL);

    ck_assert_str_eq(log, "[emerg] invalid number of arguments in "
                          "\"daemon\" directive in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(one_or_more_without_arguments_is_invalid_number_of_arguments)
{
    const char  *log;

    log = eg_unit_conf_fails("error_log;", NULL);

    ck_assert_str_eq(log, "[emerg] invalid number of arguments in "
                          "\"error_log\" directive in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(arguments_to_a_no_argument_block_are_invalid)
{
    const char  *log;

    log = eg_unit_conf_fails("events epoll {}", NULL);

    ck_assert_str_eq(log, "[emerg] invalid number of arguments in "
                          "\"events\" directive in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(simple_directive_followed_by_a_block_is_not_terminated)
{
    const char  *log;

    log = eg_unit_conf_fails("daemon off {}", NULL);

    ck_assert_str_eq(log, "[emerg] directive \"daemon\" is not terminated "
                          "by \";\" in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(block_directive_without_a_block_has_no_opening_brace)
{
    const char  *log;

    log = eg_unit_conf_fails("events;", NULL);

    ck_assert_str_eq(log, "[emerg] directive \"events\" has no opening "
                          "\"{\" in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(repeated_directive_is_duplicate)
{
    const char  *log;

    log = eg_unit_conf_fails("daemon on;\ndaemon off;\n", NULL);

    ck_assert_str_eq(log, "[emerg] \"daemon\" directive is duplicate "
                          "in TMP/engram.conf:2\n");
}
END_TEST


START_TEST(repeated_block_is_duplicate)
{
    const char  *log;

    log = eg_unit_conf_fails("events {}\n\nevents {}\n", NULL);

    ck_assert_str_eq(log, "[emerg] \"events\" directive is duplicate "
                          "in TMP/engram.conf:3\n");
}
END_TEST


START_TEST(invalid_value_names_the_directive_and_line)
{
    const char  *log;

    log = eg_unit_conf_fails("\ndaemon maybe;", NULL);

    ck_assert_str_eq(log, "[emerg] invalid value \"maybe\" in \"daemon\" "
                          "directive, it must be \"on\" or \"off\" "
                          "in TMP/engram.conf:2\n");
}
END_TEST


START_TEST(error_inside_a_block_names_its_line)
{
    const char  *log;

    log = eg_unit_conf_fails("events {\n"
                             "    worker_connections 8;\n"
                             "}\n", NULL);

    ck_assert_str_eq(log, "[emerg] value \"8\" in \"worker_connections\" "
                          "directive is out of range, it must be between "
                          "16 and 1048576 in TMP/engram.conf:2\n");
}
END_TEST


/* punctuation errors */

START_TEST(closing_brace_at_top_level_is_unexpected)
{
    const char  *log;

    log = eg_unit_conf_fails("daemon off;\n}\n", NULL);

    ck_assert_str_eq(log, "[emerg] unexpected \"}\" in TMP/engram.conf:2\n");
}
END_TEST


START_TEST(closing_brace_inside_a_directive_is_unexpected)
{
    const char  *log;

    log = eg_unit_conf_fails("events {\n    multi_accept on }\n", NULL);

    ck_assert_str_eq(log, "[emerg] unexpected \"}\" in TMP/engram.conf:2\n");
}
END_TEST


START_TEST(opening_brace_without_a_directive_is_unexpected)
{
    const char  *log;

    log = eg_unit_conf_fails("daemon off;\n{ }", NULL);

    ck_assert_str_eq(log, "[emerg] unexpected \"{\" in TMP/engram.conf:2\n");
}
END_TEST


START_TEST(semicolon_without_a_directive_is_unexpected)
{
    const char  *log;

    log = eg_unit_conf_fails("daemon off;;", NULL);

    ck_assert_str_eq(log, "[emerg] unexpected \";\" in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(end_of_file_inside_a_directive_expects_semicolon_or_brace)
{
    const char  *log;

    log = eg_unit_conf_fails("daemon off;\n\ndaemon\noff\n", NULL);

    ck_assert_str_eq(log, "[emerg] unexpected end of file, expecting "
                          "\";\" or \"}\" in TMP/engram.conf:3\n");
}
END_TEST


START_TEST(end_of_file_inside_a_block_expects_closing_brace)
{
    const char  *log;

    log = eg_unit_conf_fails("events {\n    worker_connections 64;\n",
                             NULL);

    ck_assert_str_eq(log, "[emerg] unexpected end of file, expecting "
                          "\"}\" in TMP/engram.conf:3\n");
}
END_TEST


START_TEST(end_of_file_in_a_quoted_string_is_an_error)
{
    const char  *log;

    log = eg_unit_conf_fails("pid \"/tmp/a\n", NULL);

    ck_assert_str_eq(log, "[emerg] unexpected end of file in a quoted "
                          "string in TMP/engram.conf:2\n");
}
END_TEST


START_TEST(backslash_at_the_end_of_the_file_leaves_the_quote_open)
{
    const char  *log;

    log = eg_unit_conf_fails("pid '/tmp/a\\", NULL);

    ck_assert_str_eq(log, "[emerg] unexpected end of file in a quoted "
                          "string in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(character_after_a_quoted_string_is_unexpected)
{
    const char  *log;

    log = eg_unit_conf_fails("pid \"/tmp/a\"b;", NULL);

    ck_assert_str_eq(log, "[emerg] unexpected \"b\" after a quoted string "
                          "in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(quote_right_after_a_quoted_string_is_unexpected)
{
    const char  *log;

    log = eg_unit_conf_fails("pid 'a''b';", NULL);

    ck_assert_str_eq(log, "[emerg] unexpected \"'\" after a quoted string "
                          "in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(nul_byte_in_a_word_is_rejected)
{
    static const char  text[] = "daemon o\0n;";
    const char        *log;

    eg_unit_write_bytes(EG_UNIT_MAIN_CONF, text, sizeof(text) - 1);

    log = eg_unit_conf_fails(NULL, NULL);

    ck_assert_str_eq(log, "[emerg] unexpected NUL byte "
                          "in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(nul_byte_in_a_quoted_string_is_rejected)
{
    static const char  text[] = "\npid \"/tmp/a\0b\";";
    const char        *log;

    eg_unit_write_bytes(EG_UNIT_MAIN_CONF, text, sizeof(text) - 1);

    log = eg_unit_conf_fails(NULL, NULL);

    ck_assert_str_eq(log, "[emerg] unexpected NUL byte "
                          "in TMP/engram.conf:2\n");
}
END_TEST


START_TEST(nul_byte_between_words_is_rejected)
{
    static const char  text[] = "daemon \0off;";
    const char        *log;

    eg_unit_write_bytes(EG_UNIT_MAIN_CONF, text, sizeof(text) - 1);

    log = eg_unit_conf_fails(NULL, NULL);

    ck_assert_str_eq(log, "[emerg] unexpected NUL byte "
                          "in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(nul_byte_after_a_backslash_is_rejected)
{
    static const char  bare[] = "pid /tmp/a\\\0b;";
    static const char  quoted[] = "pid \"/tmp/a\\\0b\";";
    const char        *log;

    eg_unit_write_bytes(EG_UNIT_MAIN_CONF, bare, sizeof(bare) - 1);

    log = eg_unit_conf_fails(NULL, NULL);

    ck_assert_str_eq(log, "[emerg] unexpected NUL byte "
                          "in TMP/engram.conf:1\n");

    eg_unit_conf_done(&uc);

    eg_unit_write_bytes(EG_UNIT_MAIN_CONF, quoted, sizeof(quoted) - 1);

    log = eg_unit_conf_fails(NULL, NULL);

    ck_assert_str_eq(log, "[emerg] unexpected NUL byte "
                          "in TMP/engram.conf:1\n");
}
END_TEST


/* files and includes */

START_TEST(missing_main_file_is_an_open_error)
{
    const char  *log;
    char         path[PATH_MAX];

    eg_unit_path(path, sizeof(path), EG_UNIT_MAIN_CONF);
    (void) unlink(path);

    log = eg_unit_conf_fails(NULL, NULL);

    ck_assert_str_eq(log, "[emerg] open() \"TMP/engram.conf\" failed "
                          "(2: No such file or directory)\n");
}
END_TEST


START_TEST(include_reads_a_file_relative_to_the_main_one)
{
    eg_core_conf_t  *ccf;

    eg_unit_write_file("inc-core.conf", "worker_processes 5;\n");

    ccf = eg_unit_core_conf(eg_unit_conf_ok("include inc-core.conf;\n"
                                            "daemon off;\n", NULL));

    ck_assert_int_eq(ccf->worker_processes, 5);
    ck_assert_int_eq(ccf->daemon, 0);
}
END_TEST


START_TEST(include_of_a_missing_file_is_an_open_error)
{
    const char  *log;

    log = eg_unit_conf_fails("daemon off;\ninclude missing.conf;\n", NULL);

    ck_assert_str_eq(log, "[emerg] open() \"TMP/missing.conf\" failed "
                          "(2: No such file or directory) "
                          "in TMP/engram.conf:2\n");
}
END_TEST


START_TEST(include_of_a_directory_is_refused)
{
    const char  *log;

    eg_unit_mkdir("inc-dir");

    log = eg_unit_conf_fails("include inc-dir;", NULL);

    ck_assert_str_eq(log, "[emerg] \"TMP/inc-dir\" is not a regular file "
                          "in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(include_of_a_file_over_four_megabytes_is_refused)
{
    int          fd;
    char         path[PATH_MAX];
    const char  *log;

    /* a sparse file: the size is refused before anything is read */
    eg_unit_path(path, sizeof(path), "inc-huge.conf");

    fd = open(path, O_WRONLY|O_CREAT|O_TRUNC, 0644);
    ck_assert_int_ne(fd, -1);
    ck_assert_int_eq(ftruncate(fd, 4 * 1024 * 1024 + 1), 0);
    (void) close(fd);

    log = eg_unit_conf_fails("include inc-huge.conf;", NULL);

    ck_assert_str_eq(log, "[emerg] \"TMP/inc-huge.conf\" is too large "
                          "(more than 4194304 bytes) "
                          "in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(include_glob_matching_nothing_is_accepted)
{
    eg_unit_mkdir("inc-empty");

    (void) eg_unit_conf_ok("include inc-empty/*.conf;\n", NULL);
}
END_TEST


START_TEST(include_glob_in_a_missing_directory_matches_nothing)
{
    (void) eg_unit_conf_ok("include inc-nowhere/*.conf;\n", NULL);
}
END_TEST


START_TEST(include_glob_reports_other_directory_errors)
{
    char         dir[300], text[400], expect[600];
    const char  *log;

    /* a directory name longer than NAME_MAX cannot even be looked up */
    eg_memset(dir, 'd', sizeof(dir) - 1);
    dir[sizeof(dir) - 1] = '\0';

    (void) snprintf(text, sizeof(text), "include %s/*.conf;", dir);
    (void) snprintf(expect, sizeof(expect),
                    "[emerg] glob() \"TMP/%s/*.conf\" failed "
                    "(%d: %s) in TMP/engram.conf:1\n",
                    dir, ENAMETOOLONG, strerror(ENAMETOOLONG));

    log = eg_unit_conf_fails(text, NULL);

    ck_assert_str_eq(log, expect);
}
END_TEST


START_TEST(include_glob_reads_every_match_in_order)
{
    eg_core_conf_t  *ccf;

    eg_unit_mkdir("inc-glob");
    eg_unit_write_file("inc-glob/a.conf", "worker_processes 2;\n");
    eg_unit_write_file("inc-glob/b.conf", "daemon off;\n");
    eg_unit_write_file("inc-glob/c.txt", "this is not parsed\n");

    ccf = eg_unit_core_conf(eg_unit_conf_ok("include inc-glob/*.conf;",
                                            NULL));

    ck_assert_int_eq(ccf->worker_processes, 2);
    ck_assert_int_eq(ccf->daemon, 0);
}
END_TEST


START_TEST(include_glob_stops_at_the_first_bad_file)
{
    const char  *log;

    eg_unit_mkdir("inc-bad");
    eg_unit_write_file("inc-bad/a.conf", "daemon off;\nfoo;\n");
    eg_unit_write_file("inc-bad/b.conf", "bar;\n");

    log = eg_unit_conf_fails("include inc-bad/*.conf;", NULL);

    ck_assert_str_eq(log, "[emerg] unknown directive \"foo\" "
                          "in TMP/inc-bad/a.conf:2\n");
}
END_TEST


START_TEST(error_in_an_included_file_names_that_file)
{
    const char  *log;

    eg_unit_write_file("inc-err.conf", "\n\ndaemon;\n");

    log = eg_unit_conf_fails("daemon off;\ninclude inc-err.conf;\n", NULL);

    ck_assert_str_eq(log, "[emerg] invalid number of arguments in "
                          "\"daemon\" directive "
                          "in TMP/inc-err.conf:3\n");
}
END_TEST


START_TEST(line_numbers_resume_after_an_include)
{
    const char  *log;

    eg_unit_write_file("inc-lines.conf", "\n\n\n\ndaemon off;\n");

    log = eg_unit_conf_fails("include inc-lines.conf;\nfoo;\n", NULL);

    ck_assert_str_eq(log, "[emerg] unknown directive \"foo\" "
                          "in TMP/engram.conf:2\n");
}
END_TEST


START_TEST(include_works_inside_a_block)
{
    eg_event_conf_t  *ecf;

    eg_unit_write_file("inc-events.conf", "worker_connections 256;\n");

    ecf = eg_unit_event_conf(eg_unit_conf_ok("events {\n"
                                             "    include inc-events.conf;\n"
                                             "}\n", NULL));

    ck_assert_uint_eq(ecf->connections, 256);
}
END_TEST


START_TEST(included_file_cannot_close_the_enclosing_block)
{
    const char  *log;

    eg_unit_write_file("inc-close.conf", "worker_connections 256;\n}\n");

    log = eg_unit_conf_fails("events {\n"
                             "    include inc-close.conf;\n", NULL);

    ck_assert_str_eq(log, "[emerg] unexpected \"}\" "
                          "in TMP/inc-close.conf:2\n");
}
END_TEST


START_TEST(include_needs_exactly_one_argument)
{
    const char  *log;

    log = eg_unit_conf_fails("include a.conf b.conf;", NULL);

    ck_assert_str_eq(log, "[emerg] invalid number of arguments in "
                          "\"include\" directive in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(includes_sixteen_deep_are_accepted)
{
    /* the main file and fifteen nested includes: sixteen files open */
    eg_unit_include_chain(15);

    ck_assert_int_eq(eg_unit_core_conf(eg_unit_conf_ok(
                         "include deep-01.conf;", NULL))->daemon, 0);
}
END_TEST


START_TEST(includes_seventeen_deep_are_refused)
{
    const char  *log;

    eg_unit_include_chain(16);

    log = eg_unit_conf_fails("include deep-01.conf;", NULL);

    ck_assert_str_eq(log, "[emerg] includes nested too deeply (at most 16) "
                          "while including \"TMP/deep-16.conf\" "
                          "in TMP/deep-15.conf:1\n");
}
END_TEST


START_TEST(file_including_itself_is_refused)
{
    const char  *log;

    log = eg_unit_conf_fails("\ninclude engram.conf;\n", NULL);

    ck_assert_str_eq(log, "[emerg] includes nested too deeply (at most 16) "
                          "while including \"TMP/engram.conf\" "
                          "in TMP/engram.conf:2\n");
}
END_TEST


/* -g directives */

START_TEST(g_directives_are_applied)
{
    eg_core_conf_t  *ccf;

    ccf = eg_unit_core_conf(eg_unit_conf_ok("",
                                            "daemon off; "
                                            "worker_processes 4;"));

    ck_assert_int_eq(ccf->daemon, 0);
    ck_assert_int_eq(ccf->worker_processes, 4);
}
END_TEST


START_TEST(g_directives_and_the_file_are_combined)
{
    eg_core_conf_t  *ccf;

    ccf = eg_unit_core_conf(eg_unit_conf_ok("worker_processes 2;",
                                            "daemon off;"));

    ck_assert_int_eq(ccf->daemon, 0);
    ck_assert_int_eq(ccf->worker_processes, 2);
}
END_TEST


START_TEST(g_directive_repeated_in_the_file_is_duplicate)
{
    const char  *log;

    log = eg_unit_conf_fails("daemon on;", "daemon off;");

    ck_assert_str_eq(log, "[emerg] \"daemon\" directive is duplicate "
                          "in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(g_errors_name_the_command_line)
{
    const char  *log;

    log = eg_unit_conf_fails("", "daemon off; foo;");

    ck_assert_str_eq(log, "[emerg] unknown directive \"foo\" "
                          "in command line:1\n");
}
END_TEST


START_TEST(g_block_directives_are_refused)
{
    const char  *log;

    log = eg_unit_conf_fails("", "events { worker_connections 64; }");

    ck_assert_str_eq(log, "[emerg] block directives are not supported "
                          "in -g option in command line:1\n");
}
END_TEST


START_TEST(g_closing_brace_is_unexpected)
{
    const char  *log;

    log = eg_unit_conf_fails("", "daemon off; }");

    ck_assert_str_eq(log, "[emerg] unexpected \"}\" in command line:1\n");
}
END_TEST


START_TEST(g_unterminated_directive_is_an_error)
{
    const char  *log;

    log = eg_unit_conf_fails("", "daemon off");

    ck_assert_str_eq(log, "[emerg] unexpected end of file, expecting "
                          "\";\" or \"}\" in command line:1\n");
}
END_TEST


START_TEST(g_include_reads_a_file)
{
    eg_core_conf_t  *ccf;

    eg_unit_write_file("inc-g.conf", "worker_processes 6;\n");

    ccf = eg_unit_core_conf(eg_unit_conf_ok("", "include inc-g.conf;"));

    ck_assert_int_eq(ccf->worker_processes, 6);
}
END_TEST


/* core directives with handlers of their own */

START_TEST(worker_processes_auto_is_accepted)
{
    ck_assert_int_ge(eg_unit_core_conf(eg_unit_conf_ok(
                         "worker_processes auto;", NULL))->worker_processes,
                     1);
}
END_TEST


START_TEST(worker_processes_out_of_range_is_refused)
{
    const char  *log;

    log = eg_unit_conf_fails("worker_processes 513;", NULL);

    ck_assert_str_eq(log, "[emerg] invalid value \"513\" in "
                          "\"worker_processes\" directive, it must be "
                          "\"auto\" or a number from 1 to 512 "
                          "in TMP/engram.conf:1\n");
}
END_TEST


START_TEST(events_use_names_the_available_methods)
{
    const char  *log;

    log = eg_unit_conf_fails("events { use select; }", NULL);

    ck_assert_msg(strncmp(log, "[emerg] invalid event type \"select\" in "
                               "\"use\" directive, it must be one of ",
                          sizeof("[emerg] invalid event type \"select\" in "
                                 "\"use\" directive, it must be one of ")
                          - 1) == 0,
                  "unexpected log: %s", log);
    ck_assert_ptr_nonnull(strstr(log, " in TMP/engram.conf:1\n"));
}
END_TEST


START_TEST(error_log_with_an_invalid_level_is_refused)
{
    const char  *log;

    log = eg_unit_conf_fails("error_log stderr loud;", NULL);

    ck_assert_str_eq(log, "[emerg] invalid log level \"loud\" in "
                          "\"error_log\" directive, it must be one of "
                          "emerg, alert, crit, error, warn, notice, info, "
                          "debug in TMP/engram.conf:1\n");
}
END_TEST


Suite *
eg_unit_conf_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("conf");

    tc = tcase_create("syntax");
    tcase_add_checked_fixture(tc, NULL, eg_unit_conf_teardown);
    tcase_add_test(tc, empty_file_is_accepted);
    tcase_add_test(tc, directives_set_their_values);
    tcase_add_test(tc, blank_characters_separate_words);
    tcase_add_test(tc, comment_runs_to_the_end_of_the_line);
    tcase_add_test(tc, comment_may_sit_between_arguments);
    tcase_add_test(tc, comment_at_the_end_of_the_file_needs_no_newline);
    tcase_add_test(tc, hash_inside_a_word_is_not_a_comment);
    tcase_add_test(tc, double_quotes_keep_blanks_and_specials);
    tcase_add_test(tc, single_quotes_keep_double_quotes);
    tcase_add_test(tc, escaped_double_quote_stays_in_the_word);
    tcase_add_test(tc, escaped_single_quote_stays_in_the_word);
    tcase_add_test(tc, escaped_backslash_becomes_one_backslash);
    tcase_add_test(tc, escaped_n_and_t_become_newline_and_tab);
    tcase_add_test(tc, escaped_other_characters_stand_for_themselves);
    tcase_add_test(tc, escapes_work_in_bare_words);
    tcase_add_test(tc, quoted_word_may_be_followed_by_a_semicolon_or_brace);
    tcase_add_test(tc, quoted_empty_string_is_an_argument);
    tcase_add_test(tc, block_directive_parses_its_body);
    tcase_add_test(tc, empty_block_is_accepted);
    tcase_add_test(tc, line_numbers_count_blank_lines_and_comments);
    tcase_add_test(tc, line_numbers_count_newlines_inside_quotes);
    tcase_add_test(tc, line_numbers_count_an_escaped_newline_in_quotes);
    tcase_add_test(tc, line_numbers_count_an_escaped_newline_in_a_bare_word);
    tcase_add_test(tc, error_names_the_line_where_the_directive_ends);
    suite_add_tcase(s, tc);

    tc = tcase_create("directive errors");
    tcase_add_checked_fixture(tc, NULL, eg_unit_conf_teardown);
    tcase_add_test(tc, unknown_directive_is_an_error);
    tcase_add_test(tc, directive_names_are_case_sensitive);
    tcase_add_test(tc, block_level_directive_at_top_level_is_not_allowed_here);
    tcase_add_test(tc, top_level_directive_in_a_block_is_not_allowed_here);
    tcase_add_test(tc, too_few_arguments_is_invalid_number_of_arguments);
    tcase_add_test(tc, too_many_arguments_is_invalid_number_of_arguments);
    tcase_add_test(tc,
                   flag_with_two_arguments_is_invalid_number_of_arguments);
    tcase_add_test(tc,
                 one_or_more_without_arguments_is_invalid_number_of_arguments);
    tcase_add_test(tc, arguments_to_a_no_argument_block_are_invalid);
    tcase_add_test(tc, simple_directive_followed_by_a_block_is_not_terminated);
    tcase_add_test(tc, block_directive_without_a_block_has_no_opening_brace);
    tcase_add_test(tc, repeated_directive_is_duplicate);
    tcase_add_test(tc, repeated_block_is_duplicate);
    tcase_add_test(tc, invalid_value_names_the_directive_and_line);
    tcase_add_test(tc, error_inside_a_block_names_its_line);
    suite_add_tcase(s, tc);

    tc = tcase_create("punctuation errors");
    tcase_add_checked_fixture(tc, NULL, eg_unit_conf_teardown);
    tcase_add_test(tc, closing_brace_at_top_level_is_unexpected);
    tcase_add_test(tc, closing_brace_inside_a_directive_is_unexpected);
    tcase_add_test(tc, opening_brace_without_a_directive_is_unexpected);
    tcase_add_test(tc, semicolon_without_a_directive_is_unexpected);
    tcase_add_test(tc,
                   end_of_file_inside_a_directive_expects_semicolon_or_brace);
    tcase_add_test(tc, end_of_file_inside_a_block_expects_closing_brace);
    tcase_add_test(tc, end_of_file_in_a_quoted_string_is_an_error);
    tcase_add_test(tc, backslash_at_the_end_of_the_file_leaves_the_quote_open);
    tcase_add_test(tc, character_after_a_quoted_string_is_unexpected);
    tcase_add_test(tc, quote_right_after_a_quoted_string_is_unexpected);
    tcase_add_test(tc, nul_byte_in_a_word_is_rejected);
    tcase_add_test(tc, nul_byte_in_a_quoted_string_is_rejected);
    tcase_add_test(tc, nul_byte_between_words_is_rejected);
    tcase_add_test(tc, nul_byte_after_a_backslash_is_rejected);
    suite_add_tcase(s, tc);

    tc = tcase_create("include");
    tcase_add_checked_fixture(tc, NULL, eg_unit_conf_teardown);
    tcase_add_test(tc, missing_main_file_is_an_open_error);
    tcase_add_test(tc, include_reads_a_file_relative_to_the_main_one);
    tcase_add_test(tc, include_of_a_missing_file_is_an_open_error);
    tcase_add_test(tc, include_of_a_directory_is_refused);
    tcase_add_test(tc, include_of_a_file_over_four_megabytes_is_refused);
    tcase_add_test(tc, include_glob_matching_nothing_is_accepted);
    tcase_add_test(tc, include_glob_in_a_missing_directory_matches_nothing);
    tcase_add_test(tc, include_glob_reports_other_directory_errors);
    tcase_add_test(tc, include_glob_reads_every_match_in_order);
    tcase_add_test(tc, include_glob_stops_at_the_first_bad_file);
    tcase_add_test(tc, error_in_an_included_file_names_that_file);
    tcase_add_test(tc, line_numbers_resume_after_an_include);
    tcase_add_test(tc, include_works_inside_a_block);
    tcase_add_test(tc, included_file_cannot_close_the_enclosing_block);
    tcase_add_test(tc, include_needs_exactly_one_argument);
    tcase_add_test(tc, includes_sixteen_deep_are_accepted);
    tcase_add_test(tc, includes_seventeen_deep_are_refused);
    tcase_add_test(tc, file_including_itself_is_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("command line");
    tcase_add_checked_fixture(tc, NULL, eg_unit_conf_teardown);
    tcase_add_test(tc, g_directives_are_applied);
    tcase_add_test(tc, g_directives_and_the_file_are_combined);
    tcase_add_test(tc, g_directive_repeated_in_the_file_is_duplicate);
    tcase_add_test(tc, g_errors_name_the_command_line);
    tcase_add_test(tc, g_block_directives_are_refused);
    tcase_add_test(tc, g_closing_brace_is_unexpected);
    tcase_add_test(tc, g_unterminated_directive_is_an_error);
    tcase_add_test(tc, g_include_reads_a_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("core directives");
    tcase_add_checked_fixture(tc, NULL, eg_unit_conf_teardown);
    tcase_add_test(tc, worker_processes_auto_is_accepted);
    tcase_add_test(tc, worker_processes_out_of_range_is_refused);
    tcase_add_test(tc, events_use_names_the_available_methods);
    tcase_add_test(tc, error_log_with_an_invalid_level_is_refused);
    suite_add_tcase(s, tc);

    return s;
}
