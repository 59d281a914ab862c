/*
 * String helpers: number parsers (strict: no sign, no blanks, no
 * overflow), sizes and times with units, comparisons, copies, and the
 * always-terminating snprintf.
 */

#include <eg_unit.h>


static eg_int_t
eg_unit_atoi(const char *text)
{
    return eg_atoi((u_char *) text, strlen(text));
}


static eg_int_t
eg_unit_hextoi(const char *text)
{
    return eg_hextoi((u_char *) text, strlen(text));
}


static ssize_t
eg_unit_size(const char *text)
{
    eg_str_t  s;

    s.len = strlen(text);
    s.data = (u_char *) text;

    return eg_parse_size(&s);
}


static eg_int_t
eg_unit_sec(const char *text)
{
    eg_str_t  s;

    s.len = strlen(text);
    s.data = (u_char *) text;

    return eg_parse_time(&s, 0);
}


static eg_int_t
eg_unit_msec(const char *text)
{
    eg_str_t  s;

    s.len = strlen(text);
    s.data = (u_char *) text;

    return eg_parse_time(&s, 1);
}


/* eg_atoi */

START_TEST(atoi_parses_decimal_digits)
{
    ck_assert_int_eq(eg_unit_atoi("0"), 0);
    ck_assert_int_eq(eg_unit_atoi("7"), 7);
    ck_assert_int_eq(eg_unit_atoi("12345"), 12345);
    ck_assert_int_eq(eg_unit_atoi("007"), 7);
}
END_TEST


START_TEST(atoi_reads_only_the_given_length)
{
    ck_assert_int_eq(eg_atoi((u_char *) "12345", 2), 12);
}
END_TEST


START_TEST(atoi_accepts_the_largest_value)
{
    ck_assert_int_eq(eg_unit_atoi("9223372036854775807"),
                     EG_MAX_INT_T_VALUE);
}
END_TEST


START_TEST(atoi_rejects_overflow)
{
    ck_assert_int_eq(eg_unit_atoi("9223372036854775808"), EG_ERROR);
    ck_assert_int_eq(eg_unit_atoi("9223372036854775810"), EG_ERROR);
    ck_assert_int_eq(eg_unit_atoi("99999999999999999999"), EG_ERROR);
}
END_TEST


START_TEST(atoi_rejects_empty_input)
{
    ck_assert_int_eq(eg_atoi((u_char *) "", 0), EG_ERROR);
}
END_TEST


START_TEST(atoi_rejects_signs_blanks_and_stray_characters)
{
    ck_assert_int_eq(eg_unit_atoi("-1"), EG_ERROR);
    ck_assert_int_eq(eg_unit_atoi("+1"), EG_ERROR);
    ck_assert_int_eq(eg_unit_atoi(" 1"), EG_ERROR);
    ck_assert_int_eq(eg_unit_atoi("1 "), EG_ERROR);
    ck_assert_int_eq(eg_unit_atoi("12a"), EG_ERROR);
    ck_assert_int_eq(eg_unit_atoi("0x10"), EG_ERROR);
}
END_TEST


START_TEST(atosz_parses_like_atoi)
{
    ck_assert_int_eq(eg_atosz((u_char *) "4096", 4), 4096);
    ck_assert_int_eq(eg_atosz((u_char *) "4k", 2), EG_ERROR);
}
END_TEST


/* eg_hextoi */

START_TEST(hextoi_parses_either_case)
{
    ck_assert_int_eq(eg_unit_hextoi("0"), 0);
    ck_assert_int_eq(eg_unit_hextoi("ff"), 255);
    ck_assert_int_eq(eg_unit_hextoi("FF"), 255);
    ck_assert_int_eq(eg_unit_hextoi("DeadBeef"), 0xdeadbeef);
}
END_TEST


START_TEST(hextoi_accepts_the_largest_value)
{
    ck_assert_int_eq(eg_unit_hextoi("7fffffffffffffff"), EG_MAX_INT_T_VALUE);
}
END_TEST


START_TEST(hextoi_rejects_overflow)
{
    ck_assert_int_eq(eg_unit_hextoi("8000000000000000"), EG_ERROR);
    ck_assert_int_eq(eg_unit_hextoi("10000000000000000"), EG_ERROR);
}
END_TEST


START_TEST(hextoi_rejects_empty_and_non_hex_input)
{
    ck_assert_int_eq(eg_hextoi((u_char *) "", 0), EG_ERROR);
    ck_assert_int_eq(eg_unit_hextoi("g"), EG_ERROR);
    ck_assert_int_eq(eg_unit_hextoi("0x1"), EG_ERROR);
    ck_assert_int_eq(eg_unit_hextoi("-1"), EG_ERROR);
}
END_TEST


/* eg_parse_size */

START_TEST(parse_size_reads_bare_bytes)
{
    ck_assert_int_eq(eg_unit_size("0"), 0);
    ck_assert_int_eq(eg_unit_size("10"), 10);
}
END_TEST


START_TEST(parse_size_applies_k_m_g_in_either_case)
{
    ck_assert_int_eq(eg_unit_size("64k"), 64 * 1024);
    ck_assert_int_eq(eg_unit_size("64K"), 64 * 1024);
    ck_assert_int_eq(eg_unit_size("16m"), 16 * 1024 * 1024);
    ck_assert_int_eq(eg_unit_size("16M"), 16 * 1024 * 1024);
    ck_assert_int_eq(eg_unit_size("1g"), 1024 * 1024 * 1024);
    ck_assert_int_eq(eg_unit_size("2G"), (ssize_t) 2 * 1024 * 1024 * 1024);
}
END_TEST


START_TEST(parse_size_rejects_a_unit_without_a_number)
{
    ck_assert_int_eq(eg_unit_size("k"), EG_ERROR);
    ck_assert_int_eq(eg_unit_size(""), EG_ERROR);
}
END_TEST


START_TEST(parse_size_rejects_unknown_units)
{
    ck_assert_int_eq(eg_unit_size("12x"), EG_ERROR);
    ck_assert_int_eq(eg_unit_size("12kb"), EG_ERROR);
    ck_assert_int_eq(eg_unit_size("1t"), EG_ERROR);
}
END_TEST


START_TEST(parse_size_rejects_overflow_after_scaling)
{
    /* 2^53 k is 2^63 bytes, one past the largest ssize_t */
    ck_assert_int_eq(eg_unit_size("9007199254740991k"),
                     (ssize_t) 9007199254740991 * 1024);
    ck_assert_int_eq(eg_unit_size("9007199254740992k"), EG_ERROR);
    ck_assert_int_eq(eg_unit_size("8589934592g"), EG_ERROR);
    ck_assert_int_eq(eg_unit_size("9223372036854775808"), EG_ERROR);
}
END_TEST


/* eg_parse_time */

START_TEST(parse_time_reads_milliseconds)
{
    ck_assert_int_eq(eg_unit_msec("500ms"), 500);
}
END_TEST


START_TEST(parse_time_reads_seconds)
{
    ck_assert_int_eq(eg_unit_sec("30s"), 30);
    ck_assert_int_eq(eg_unit_msec("30s"), 30000);
}
END_TEST


START_TEST(parse_time_adds_units_in_decreasing_order)
{
    ck_assert_int_eq(eg_unit_sec("1m30s"), 90);
    ck_assert_int_eq(eg_unit_msec("1m30s"), 90000);
    ck_assert_int_eq(eg_unit_msec("1h1m1s1ms"), 3661001);
}
END_TEST


START_TEST(parse_time_reads_every_unit)
{
    ck_assert_int_eq(eg_unit_sec("1h"), 3600);
    ck_assert_int_eq(eg_unit_sec("1m"), 60);
    ck_assert_int_eq(eg_unit_sec("1d"), 86400);
    ck_assert_int_eq(eg_unit_sec("1w"), 7 * 86400);
    ck_assert_int_eq(eg_unit_sec("1M"), 30 * 86400);
    ck_assert_int_eq(eg_unit_sec("1y"), 365 * 86400);
}
END_TEST


START_TEST(parse_time_bare_number_is_seconds)
{
    ck_assert_int_eq(eg_unit_sec("30"), 30);
    ck_assert_int_eq(eg_unit_msec("30"), 30000);
    ck_assert_int_eq(eg_unit_sec("0"), 0);
}
END_TEST


START_TEST(parse_time_trailing_bare_number_after_minutes_is_seconds)
{
    ck_assert_int_eq(eg_unit_sec("1m30"), 90);
}
END_TEST


START_TEST(parse_time_rejects_a_bare_number_after_seconds)
{
    ck_assert_int_eq(eg_unit_sec("30s5"), EG_ERROR);
    ck_assert_int_eq(eg_unit_msec("1ms5"), EG_ERROR);
}
END_TEST


START_TEST(parse_time_rejects_units_out_of_order)
{
    ck_assert_int_eq(eg_unit_sec("30s1m"), EG_ERROR);
    ck_assert_int_eq(eg_unit_sec("1m1h"), EG_ERROR);
    ck_assert_int_eq(eg_unit_msec("5ms1s"), EG_ERROR);
}
END_TEST


START_TEST(parse_time_rejects_a_repeated_unit)
{
    ck_assert_int_eq(eg_unit_sec("1m1m"), EG_ERROR);
    ck_assert_int_eq(eg_unit_sec("1s2s"), EG_ERROR);
}
END_TEST


START_TEST(parse_time_refuses_ms_in_seconds_mode)
{
    ck_assert_int_eq(eg_unit_sec("500ms"), EG_ERROR);
    ck_assert_int_eq(eg_unit_sec("1s500ms"), EG_ERROR);
}
END_TEST


START_TEST(parse_time_rejects_a_unit_without_a_number)
{
    ck_assert_int_eq(eg_unit_sec("s"), EG_ERROR);
    ck_assert_int_eq(eg_unit_sec("1ms"), EG_ERROR);
    ck_assert_int_eq(eg_unit_msec("1mms"), EG_ERROR);
    ck_assert_int_eq(eg_unit_sec(""), EG_ERROR);
}
END_TEST


START_TEST(parse_time_rejects_unknown_units_and_blanks)
{
    ck_assert_int_eq(eg_unit_sec("5x"), EG_ERROR);
    ck_assert_int_eq(eg_unit_sec("5 s"), EG_ERROR);
    ck_assert_int_eq(eg_unit_sec("-5s"), EG_ERROR);
}
END_TEST


START_TEST(parse_time_accepts_the_largest_value)
{
    ck_assert_int_eq(eg_unit_sec("9223372036854775807"), EG_MAX_INT_T_VALUE);
    ck_assert_int_eq(eg_unit_msec("9223372036854775807ms"),
                     EG_MAX_INT_T_VALUE);
}
END_TEST


START_TEST(parse_time_rejects_overflow)
{
    ck_assert_int_eq(eg_unit_sec("9223372036854775808"), EG_ERROR);
    ck_assert_int_eq(eg_unit_sec("9223372036854775808s"), EG_ERROR);
    ck_assert_int_eq(eg_unit_sec("300000000000y"), EG_ERROR);
    ck_assert_int_eq(eg_unit_msec("9223372036854775807"), EG_ERROR);
    ck_assert_int_eq(eg_unit_msec("9223372036854776s"), EG_ERROR);
}
END_TEST


START_TEST(parse_time_rejects_overflow_of_the_sum)
{
    /* each part fits, the total does not */
    ck_assert_int_eq(eg_unit_sec("292471208677y28w"), EG_ERROR);
    ck_assert_int_eq(eg_unit_sec("292471208677y27w"),
                     (eg_int_t) 292471208677 * 365 * 86400
                     + 27 * 7 * 86400);
}
END_TEST


/* comparisons and searches */

START_TEST(strcasecmp_ignores_case)
{
    ck_assert_int_eq(eg_strcasecmp((u_char *) "On", (u_char *) "oN"), 0);
    ck_assert_int_eq(eg_strcasecmp((u_char *) "", (u_char *) ""), 0);
}
END_TEST


START_TEST(strcasecmp_orders_case_insensitively)
{
    ck_assert_int_lt(eg_strcasecmp((u_char *) "abc", (u_char *) "ABD"), 0);
    ck_assert_int_gt(eg_strcasecmp((u_char *) "B", (u_char *) "a"), 0);
}
END_TEST


START_TEST(strcasecmp_sorts_a_prefix_first)
{
    ck_assert_int_lt(eg_strcasecmp((u_char *) "on", (u_char *) "onx"), 0);
    ck_assert_int_gt(eg_strcasecmp((u_char *) "onx", (u_char *) "ON"), 0);
}
END_TEST


START_TEST(strncasecmp_compares_at_most_n_bytes)
{
    ck_assert_int_eq(eg_strncasecmp((u_char *) "HELLO", (u_char *) "help", 3),
                     0);
    ck_assert_int_lt(eg_strncasecmp((u_char *) "HELLO", (u_char *) "help", 4),
                     0);
    ck_assert_int_eq(eg_strncasecmp((u_char *) "a", (u_char *) "b", 0), 0);
}
END_TEST


START_TEST(str_cmp_orders_by_content_then_length)
{
    eg_str_t  a = eg_string("abc");
    eg_str_t  b = eg_string("abd");
    eg_str_t  ab = eg_string("ab");
    eg_str_t  empty = eg_null_string;

    ck_assert_int_eq(eg_str_cmp(&a, &a), 0);
    ck_assert_int_lt(eg_str_cmp(&a, &b), 0);
    ck_assert_int_gt(eg_str_cmp(&b, &a), 0);
    ck_assert_int_lt(eg_str_cmp(&ab, &a), 0);
    ck_assert_int_lt(eg_str_cmp(&empty, &ab), 0);
    ck_assert_int_eq(eg_str_cmp(&empty, &empty), 0);
}
END_TEST


START_TEST(strnstr_finds_the_first_occurrence)
{
    u_char  *s = (u_char *) "one two two";

    ck_assert_ptr_eq(eg_strnstr(s, "two", 11), s + 4);
    ck_assert_ptr_eq(eg_strnstr(s, "one", 11), s);
    ck_assert_ptr_eq(eg_strnstr(s, "two two", 11), s + 4);
}
END_TEST


START_TEST(strnstr_looks_only_within_len)
{
    u_char  *s = (u_char *) "one two";

    ck_assert_ptr_null(eg_strnstr(s, "two", 6));
    ck_assert_ptr_eq(eg_strnstr(s, "two", 7), s + 4);
}
END_TEST


START_TEST(strnstr_reports_a_missing_needle)
{
    u_char  *s = (u_char *) "one two";

    ck_assert_ptr_null(eg_strnstr(s, "three", 7));
    ck_assert_ptr_null(eg_strnstr(s, "one two three", 7));
    ck_assert_ptr_null(eg_strnstr(s, "x", 0));
}
END_TEST


START_TEST(strnstr_finds_an_empty_needle_at_the_start)
{
    u_char  *s = (u_char *) "abc";

    ck_assert_ptr_eq(eg_strnstr(s, "", 3), s);
}
END_TEST


START_TEST(strlchr_stops_at_last)
{
    u_char  *s = (u_char *) "a:b:c";

    ck_assert_ptr_eq(eg_strlchr(s, s + 5, ':'), s + 1);
    ck_assert_ptr_null(eg_strlchr(s, s + 1, ':'));
    ck_assert_ptr_null(eg_strlchr(s, s + 5, '#'));
}
END_TEST


START_TEST(strlow_lowers_exactly_n_bytes)
{
    u_char  dst[8];

    eg_memset(dst, 'x', sizeof(dst));
    eg_strlow(dst, (u_char *) "HeLLo", 5);

    ck_assert_mem_eq(dst, "hellox", 6);
}
END_TEST


/* copies and formatting */

START_TEST(cpystrn_copies_and_terminates)
{
    u_char   buf[16], *p;

    p = eg_cpystrn(buf, (u_char *) "hello", sizeof(buf));

    ck_assert_str_eq((char *) buf, "hello");
    ck_assert_ptr_eq(p, buf + 5);
}
END_TEST


START_TEST(cpystrn_truncates_to_n_minus_one_bytes)
{
    u_char   buf[16], *p;

    eg_memset(buf, 'x', sizeof(buf));

    p = eg_cpystrn(buf, (u_char *) "hello world", 6);

    ck_assert_str_eq((char *) buf, "hello");
    ck_assert_ptr_eq(p, buf + 5);
    ck_assert_int_eq(buf[6], 'x');
}
END_TEST


START_TEST(cpystrn_with_n_of_one_writes_only_the_terminator)
{
    u_char   buf[4], *p;

    eg_memset(buf, 'x', sizeof(buf));

    p = eg_cpystrn(buf, (u_char *) "abc", 1);

    ck_assert_int_eq(buf[0], '\0');
    ck_assert_int_eq(buf[1], 'x');
    ck_assert_ptr_eq(p, buf);
}
END_TEST


START_TEST(cpystrn_with_n_of_zero_writes_nothing)
{
    u_char   buf[4], *p;

    eg_memset(buf, 'x', sizeof(buf));

    p = eg_cpystrn(buf, (u_char *) "abc", 0);

    ck_assert_int_eq(buf[0], 'x');
    ck_assert_ptr_eq(p, buf);
}
END_TEST


START_TEST(slprintf_returns_the_terminating_nul)
{
    u_char   buf[32], *p;

    p = eg_slprintf(buf, buf + sizeof(buf), "%s:%d", "port", 80);

    ck_assert_str_eq((char *) buf, "port:80");
    ck_assert_ptr_eq(p, buf + 7);
    ck_assert_int_eq(*p, '\0');
}
END_TEST


START_TEST(slprintf_truncates_and_terminates)
{
    u_char   buf[8], *p;

    eg_memset(buf, 'x', sizeof(buf));

    p = eg_slprintf(buf, buf + sizeof(buf), "%s", "hello world");

    ck_assert_str_eq((char *) buf, "hello w");
    ck_assert_ptr_eq(p, buf + sizeof(buf) - 1);
}
END_TEST


START_TEST(slprintf_exact_fit_is_not_truncated)
{
    u_char   buf[8], *p;

    p = eg_slprintf(buf, buf + sizeof(buf), "%s", "1234567");

    ck_assert_str_eq((char *) buf, "1234567");
    ck_assert_ptr_eq(p, buf + 7);
}
END_TEST


START_TEST(slprintf_with_no_room_writes_nothing)
{
    u_char   buf[4], *p;

    eg_memset(buf, 'x', sizeof(buf));

    p = eg_slprintf(buf, buf, "%s", "abc");

    ck_assert_ptr_eq(p, buf);
    ck_assert_int_eq(buf[0], 'x');
}
END_TEST


START_TEST(slprintf_appends_in_a_chain)
{
    u_char   buf[8], *p, *last;

    last = buf + sizeof(buf);

    p = eg_slprintf(buf, last, "%s", "abcd");
    p = eg_slprintf(p, last, "%s", "efgh");
    p = eg_slprintf(p, last, "%s", "ijkl");

    ck_assert_str_eq((char *) buf, "abcdefg");
    ck_assert_ptr_eq(p, last - 1);
}
END_TEST


Suite *
eg_unit_string_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("string");

    tc = tcase_create("numbers");
    tcase_add_test(tc, atoi_parses_decimal_digits);
    tcase_add_test(tc, atoi_reads_only_the_given_length);
    tcase_add_test(tc, atoi_accepts_the_largest_value);
    tcase_add_test(tc, atoi_rejects_overflow);
    tcase_add_test(tc, atoi_rejects_empty_input);
    tcase_add_test(tc, atoi_rejects_signs_blanks_and_stray_characters);
    tcase_add_test(tc, atosz_parses_like_atoi);
    tcase_add_test(tc, hextoi_parses_either_case);
    tcase_add_test(tc, hextoi_accepts_the_largest_value);
    tcase_add_test(tc, hextoi_rejects_overflow);
    tcase_add_test(tc, hextoi_rejects_empty_and_non_hex_input);
    suite_add_tcase(s, tc);

    tc = tcase_create("size");
    tcase_add_test(tc, parse_size_reads_bare_bytes);
    tcase_add_test(tc, parse_size_applies_k_m_g_in_either_case);
    tcase_add_test(tc, parse_size_rejects_a_unit_without_a_number);
    tcase_add_test(tc, parse_size_rejects_unknown_units);
    tcase_add_test(tc, parse_size_rejects_overflow_after_scaling);
    suite_add_tcase(s, tc);

    tc = tcase_create("time");
    tcase_add_test(tc, parse_time_reads_milliseconds);
    tcase_add_test(tc, parse_time_reads_seconds);
    tcase_add_test(tc, parse_time_adds_units_in_decreasing_order);
    tcase_add_test(tc, parse_time_reads_every_unit);
    tcase_add_test(tc, parse_time_bare_number_is_seconds);
    tcase_add_test(tc,
                   parse_time_trailing_bare_number_after_minutes_is_seconds);
    tcase_add_test(tc, parse_time_rejects_a_bare_number_after_seconds);
    tcase_add_test(tc, parse_time_rejects_units_out_of_order);
    tcase_add_test(tc, parse_time_rejects_a_repeated_unit);
    tcase_add_test(tc, parse_time_refuses_ms_in_seconds_mode);
    tcase_add_test(tc, parse_time_rejects_a_unit_without_a_number);
    tcase_add_test(tc, parse_time_rejects_unknown_units_and_blanks);
    tcase_add_test(tc, parse_time_accepts_the_largest_value);
    tcase_add_test(tc, parse_time_rejects_overflow);
    tcase_add_test(tc, parse_time_rejects_overflow_of_the_sum);
    suite_add_tcase(s, tc);

    tc = tcase_create("compare");
    tcase_add_test(tc, strcasecmp_ignores_case);
    tcase_add_test(tc, strcasecmp_orders_case_insensitively);
    tcase_add_test(tc, strcasecmp_sorts_a_prefix_first);
    tcase_add_test(tc, strncasecmp_compares_at_most_n_bytes);
    tcase_add_test(tc, str_cmp_orders_by_content_then_length);
    tcase_add_test(tc, strnstr_finds_the_first_occurrence);
    tcase_add_test(tc, strnstr_looks_only_within_len);
    tcase_add_test(tc, strnstr_reports_a_missing_needle);
    tcase_add_test(tc, strnstr_finds_an_empty_needle_at_the_start);
    tcase_add_test(tc, strlchr_stops_at_last);
    tcase_add_test(tc, strlow_lowers_exactly_n_bytes);
    suite_add_tcase(s, tc);

    tc = tcase_create("copy");
    tcase_add_test(tc, cpystrn_copies_and_terminates);
    tcase_add_test(tc, cpystrn_truncates_to_n_minus_one_bytes);
    tcase_add_test(tc, cpystrn_with_n_of_one_writes_only_the_terminator);
    tcase_add_test(tc, cpystrn_with_n_of_zero_writes_nothing);
    tcase_add_test(tc, slprintf_returns_the_terminating_nul);
    tcase_add_test(tc, slprintf_truncates_and_terminates);
    tcase_add_test(tc, slprintf_exact_fit_is_not_truncated);
    tcase_add_test(tc, slprintf_with_no_room_writes_nothing);
    tcase_add_test(tc, slprintf_appends_in_a_chain);
    suite_add_tcase(s, tc);

    return s;
}
