/*
 * The generic slot setters, called as the parser calls them: a conf whose
 * args hold the directive and its words, a command, and the struct the
 * command writes into.  Each setter: what it stores, what it refuses and
 * how it says so, and what a second occurrence of the directive does.
 */

#include <eg_unit.h>


typedef struct {
    eg_flag_t            flag;
    eg_str_t             str;
    eg_array_t          *strs;      /* of eg_str_t */
    eg_array_t          *kvs;       /* of eg_keyval_t */
    eg_int_t             num;       /* 1 .. 100 */
    eg_int_t             any;       /* no bounds */
    size_t               size;      /* 512 .. 1m */
    eg_msec_t            msec;      /* 10ms .. 60s */
    time_t               sec;       /* 1s .. 1h */
    eg_uint_t            mode;
    eg_url_t             addr;      /* port optional, 7946 by default */
    eg_url_t             addr_plain;    /* no post: port required */
} eg_unit_slots_conf_t;


static eg_conf_num_bounds_t  eg_unit_num_bounds = { 1, 100 };
static eg_conf_num_bounds_t  eg_unit_size_bounds = { 512, 1024 * 1024 };
static eg_conf_num_bounds_t  eg_unit_msec_bounds = { 10, 60000 };
static eg_conf_num_bounds_t  eg_unit_sec_bounds = { 1, 3600 };

static eg_conf_enum_t  eg_unit_modes[] = {
    { eg_string("fast"), 1 },
    { eg_string("safe"), 2 },
    { eg_null_string, 0 }
};

static eg_conf_addr_t  eg_unit_addr_post = { 7946, EG_URL_PORT_OPTIONAL };


static eg_command_t  eg_unit_slots_commands[] = {

    { eg_string("flag"),
      EG_MAIN_CONF|EG_CONF_FLAG,
      eg_conf_set_flag_slot,
      0,
      offsetof(eg_unit_slots_conf_t, flag),
      NULL },

    { eg_string("str"),
      EG_MAIN_CONF|EG_CONF_TAKE1,
      eg_conf_set_str_slot,
      0,
      offsetof(eg_unit_slots_conf_t, str),
      NULL },

    { eg_string("strs"),
      EG_MAIN_CONF|EG_CONF_1MORE,
      eg_conf_set_str_array_slot,
      0,
      offsetof(eg_unit_slots_conf_t, strs),
      NULL },

    { eg_string("kv"),
      EG_MAIN_CONF|EG_CONF_TAKE2,
      eg_conf_set_keyval_slot,
      0,
      offsetof(eg_unit_slots_conf_t, kvs),
      NULL },

    { eg_string("num"),
      EG_MAIN_CONF|EG_CONF_TAKE1,
      eg_conf_set_num_slot,
      0,
      offsetof(eg_unit_slots_conf_t, num),
      &eg_unit_num_bounds },

    { eg_string("any"),
      EG_MAIN_CONF|EG_CONF_TAKE1,
      eg_conf_set_num_slot,
      0,
      offsetof(eg_unit_slots_conf_t, any),
      NULL },

    { eg_string("size"),
      EG_MAIN_CONF|EG_CONF_TAKE1,
      eg_conf_set_size_slot,
      0,
      offsetof(eg_unit_slots_conf_t, size),
      &eg_unit_size_bounds },

    { eg_string("msec"),
      EG_MAIN_CONF|EG_CONF_TAKE1,
      eg_conf_set_msec_slot,
      0,
      offsetof(eg_unit_slots_conf_t, msec),
      &eg_unit_msec_bounds },

    { eg_string("sec"),
      EG_MAIN_CONF|EG_CONF_TAKE1,
      eg_conf_set_sec_slot,
      0,
      offsetof(eg_unit_slots_conf_t, sec),
      &eg_unit_sec_bounds },

    { eg_string("mode"),
      EG_MAIN_CONF|EG_CONF_TAKE1,
      eg_conf_set_enum_slot,
      0,
      offsetof(eg_unit_slots_conf_t, mode),
      eg_unit_modes },

    { eg_string("addr"),
      EG_MAIN_CONF|EG_CONF_TAKE1,
      eg_conf_set_addr_slot,
      0,
      offsetof(eg_unit_slots_conf_t, addr),
      &eg_unit_addr_post },

    { eg_string("addr_plain"),
      EG_MAIN_CONF|EG_CONF_TAKE1,
      eg_conf_set_addr_slot,
      0,
      offsetof(eg_unit_slots_conf_t, addr_plain),
      NULL },

      eg_null_command
};


static eg_unit_cf_t          u;
static eg_unit_slots_conf_t  conf;


static void
eg_unit_slots_setup(void)
{
    eg_unit_cf_init(&u);

    eg_memzero(&conf, sizeof(eg_unit_slots_conf_t));

    conf.flag = EG_CONF_UNSET;
    conf.strs = EG_CONF_UNSET_PTR;
    conf.kvs = NULL;
    conf.num = EG_CONF_UNSET;
    conf.any = EG_CONF_UNSET;
    conf.size = EG_CONF_UNSET_SIZE;
    conf.msec = EG_CONF_UNSET_MSEC;
    conf.sec = EG_CONF_UNSET;
    conf.mode = EG_CONF_UNSET_UINT;
}


static void
eg_unit_slots_teardown(void)
{
    eg_unit_cf_done(&u);
}


/* calls the setter of the directive named by args[0] */
static char *
eg_unit_set(void)
{
    eg_str_t      *name;
    eg_command_t  *cmd;

    name = u.cf.args->elts;

    for (cmd = eg_unit_slots_commands; cmd->name.len; cmd++) {
        if (eg_str_cmp(&cmd->name, name) == 0) {
            return cmd->set(&u.cf, cmd, &conf);
        }
    }

    ck_abort_msg("no directive \"%s\" in the test table", name->data);

    return EG_CONF_ERROR;
}


/* a setter that returned a message for the parser to complete */
#define eg_unit_assert_rv_text(rv, text)                                     \
    ck_assert_msg((rv) != EG_CONF_OK && (rv) != EG_CONF_ERROR                \
                  && strcmp(rv, text) == 0,                                  \
                  "the setter did not return \"%s\"", text)

#define eg_unit_assert_ok(rv)                                                \
    do {                                                                     \
        ck_assert_msg((rv) == EG_CONF_OK, "the setter refused the value");   \
        ck_assert_str_eq(eg_unit_cf_log(&u), "");                            \
    } while (0)


/* flag */

START_TEST(flag_slot_turns_on)
{
    eg_unit_cf_args(&u, "flag", "on", NULL);

    eg_unit_assert_ok(eg_unit_set());
    ck_assert_int_eq(conf.flag, 1);
}
END_TEST


START_TEST(flag_slot_turns_off)
{
    eg_unit_cf_args(&u, "flag", "off", NULL);

    eg_unit_assert_ok(eg_unit_set());
    ck_assert_int_eq(conf.flag, 0);
}
END_TEST


START_TEST(flag_slot_ignores_case)
{
    eg_unit_cf_args(&u, "flag", "OFF", NULL);

    eg_unit_assert_ok(eg_unit_set());
    ck_assert_int_eq(conf.flag, 0);
}
END_TEST


START_TEST(flag_slot_refuses_other_words)
{
    eg_unit_cf_args(&u, "flag", "yes", NULL);

    ck_assert_ptr_eq(eg_unit_set(), EG_CONF_ERROR);
    ck_assert_int_eq(conf.flag, EG_CONF_UNSET);
    ck_assert_str_eq(eg_unit_cf_log(&u),
                     "[emerg] invalid value \"yes\" in \"flag\" directive, "
                     "it must be \"on\" or \"off\" in test.conf:7\n");
}
END_TEST


START_TEST(flag_slot_refuses_a_prefix_of_on)
{
    eg_unit_cf_args(&u, "flag", "o", NULL);

    ck_assert_ptr_eq(eg_unit_set(), EG_CONF_ERROR);
    ck_assert_int_eq(conf.flag, EG_CONF_UNSET);
}
END_TEST


START_TEST(flag_slot_repeated_is_duplicate)
{
    eg_unit_cf_args(&u, "flag", "on", NULL);
    eg_unit_assert_ok(eg_unit_set());

    eg_unit_cf_args(&u, "flag", "off", NULL);
    eg_unit_assert_rv_text(eg_unit_set(), "is duplicate");

    ck_assert_int_eq(conf.flag, 1);
}
END_TEST


/* str */

START_TEST(str_slot_stores_the_argument)
{
    eg_unit_cf_args(&u, "str", "/var/run/engram.pid", NULL);

    eg_unit_assert_ok(eg_unit_set());
    eg_unit_assert_str_eq(&conf.str, "/var/run/engram.pid");
    ck_assert_ptr_eq(conf.str.data, ((eg_str_t *) u.cf.args->elts)[1].data);
}
END_TEST


START_TEST(str_slot_repeated_is_duplicate)
{
    eg_unit_cf_args(&u, "str", "first", NULL);
    eg_unit_assert_ok(eg_unit_set());

    eg_unit_cf_args(&u, "str", "second", NULL);
    eg_unit_assert_rv_text(eg_unit_set(), "is duplicate");

    eg_unit_assert_str_eq(&conf.str, "first");
}
END_TEST


START_TEST(str_slot_counts_an_empty_string_as_set)
{
    eg_unit_cf_args(&u, "str", "", NULL);
    eg_unit_assert_ok(eg_unit_set());

    eg_unit_cf_args(&u, "str", "again", NULL);
    eg_unit_assert_rv_text(eg_unit_set(), "is duplicate");
}
END_TEST


/* str_array */

START_TEST(str_array_slot_collects_every_argument)
{
    eg_str_t  *s;

    eg_unit_cf_args(&u, "strs", "a", "bb", "ccc", NULL);

    eg_unit_assert_ok(eg_unit_set());

    ck_assert_ptr_ne(conf.strs, EG_CONF_UNSET_PTR);
    ck_assert_uint_eq(conf.strs->nelts, 3);

    s = conf.strs->elts;
    eg_unit_assert_str_eq(&s[0], "a");
    eg_unit_assert_str_eq(&s[1], "bb");
    eg_unit_assert_str_eq(&s[2], "ccc");
}
END_TEST


START_TEST(str_array_slot_repeated_appends)
{
    eg_str_t  *s;

    eg_unit_cf_args(&u, "strs", "a", NULL);
    eg_unit_assert_ok(eg_unit_set());

    eg_unit_cf_args(&u, "strs", "b", "c", NULL);
    eg_unit_assert_ok(eg_unit_set());

    ck_assert_uint_eq(conf.strs->nelts, 3);

    s = conf.strs->elts;
    eg_unit_assert_str_eq(&s[0], "a");
    eg_unit_assert_str_eq(&s[2], "c");
}
END_TEST


START_TEST(str_array_slot_starts_from_null_as_well)
{
    conf.strs = NULL;

    eg_unit_cf_args(&u, "strs", "x", NULL);

    eg_unit_assert_ok(eg_unit_set());
    ck_assert_ptr_nonnull(conf.strs);
    ck_assert_uint_eq(conf.strs->nelts, 1);
}
END_TEST


/* keyval */

START_TEST(keyval_slot_stores_key_and_value)
{
    eg_keyval_t  *kv;

    eg_unit_cf_args(&u, "kv", "zone", "eu-west-1", NULL);

    eg_unit_assert_ok(eg_unit_set());
    ck_assert_ptr_nonnull(conf.kvs);
    ck_assert_uint_eq(conf.kvs->nelts, 1);

    kv = conf.kvs->elts;
    eg_unit_assert_str_eq(&kv[0].key, "zone");
    eg_unit_assert_str_eq(&kv[0].value, "eu-west-1");
}
END_TEST


START_TEST(keyval_slot_repeated_appends_in_order)
{
    eg_keyval_t  *kv;

    eg_unit_cf_args(&u, "kv", "a", "1", NULL);
    eg_unit_assert_ok(eg_unit_set());

    eg_unit_cf_args(&u, "kv", "a", "2", NULL);
    eg_unit_assert_ok(eg_unit_set());

    ck_assert_uint_eq(conf.kvs->nelts, 2);

    kv = conf.kvs->elts;
    eg_unit_assert_str_eq(&kv[0].value, "1");
    eg_unit_assert_str_eq(&kv[1].value, "2");
}
END_TEST


START_TEST(keyval_slot_starts_from_unset_as_well)
{
    conf.kvs = EG_CONF_UNSET_PTR;

    eg_unit_cf_args(&u, "kv", "k", "v", NULL);

    eg_unit_assert_ok(eg_unit_set());
    ck_assert_ptr_ne(conf.kvs, EG_CONF_UNSET_PTR);
    ck_assert_uint_eq(conf.kvs->nelts, 1);
}
END_TEST


/* num */

START_TEST(num_slot_parses_a_number_within_bounds)
{
    eg_unit_cf_args(&u, "num", "42", NULL);

    eg_unit_assert_ok(eg_unit_set());
    ck_assert_int_eq(conf.num, 42);
}
END_TEST


START_TEST(num_slot_accepts_both_bounds)
{
    eg_unit_cf_args(&u, "num", "1", NULL);
    eg_unit_assert_ok(eg_unit_set());
    ck_assert_int_eq(conf.num, 1);

    conf.num = EG_CONF_UNSET;

    eg_unit_cf_args(&u, "num", "100", NULL);
    eg_unit_assert_ok(eg_unit_set());
    ck_assert_int_eq(conf.num, 100);
}
END_TEST


START_TEST(num_slot_refuses_a_value_below_the_low_bound)
{
    eg_unit_cf_args(&u, "num", "0", NULL);

    ck_assert_ptr_eq(eg_unit_set(), EG_CONF_ERROR);
    ck_assert_str_eq(eg_unit_cf_log(&u),
                     "[emerg] value \"0\" in \"num\" directive is out of "
                     "range, it must be between 1 and 100 "
                     "in test.conf:7\n");
}
END_TEST


START_TEST(num_slot_refuses_a_value_above_the_high_bound)
{
    eg_unit_cf_args(&u, "num", "101", NULL);

    ck_assert_ptr_eq(eg_unit_set(), EG_CONF_ERROR);
    ck_assert_str_eq(eg_unit_cf_log(&u),
                     "[emerg] value \"101\" in \"num\" directive is out of "
                     "range, it must be between 1 and 100 "
                     "in test.conf:7\n");
}
END_TEST


START_TEST(num_slot_refuses_a_non_number)
{
    eg_unit_cf_args(&u, "num", "12a", NULL);

    ck_assert_ptr_eq(eg_unit_set(), EG_CONF_ERROR);
    ck_assert_str_eq(eg_unit_cf_log(&u),
                     "[emerg] invalid value \"12a\" in \"num\" directive "
                     "in test.conf:7\n");
}
END_TEST


START_TEST(num_slot_refuses_a_negative_number)
{
    eg_unit_cf_args(&u, "any", "-1", NULL);

    ck_assert_ptr_eq(eg_unit_set(), EG_CONF_ERROR);
    ck_assert_str_eq(eg_unit_cf_log(&u),
                     "[emerg] invalid value \"-1\" in \"any\" directive "
                     "in test.conf:7\n");
}
END_TEST


START_TEST(num_slot_refuses_overflow)
{
    eg_unit_cf_args(&u, "any", "9223372036854775808", NULL);

    ck_assert_ptr_eq(eg_unit_set(), EG_CONF_ERROR);
    ck_assert_str_eq(eg_unit_cf_log(&u),
                     "[emerg] invalid value \"9223372036854775808\" in "
                     "\"any\" directive in test.conf:7\n");
}
END_TEST


START_TEST(num_slot_without_bounds_takes_any_value)
{
    eg_unit_cf_args(&u, "any", "9223372036854775807", NULL);

    eg_unit_assert_ok(eg_unit_set());
    ck_assert_int_eq(conf.any, EG_MAX_INT_T_VALUE);
}
END_TEST


START_TEST(num_slot_repeated_is_duplicate)
{
    eg_unit_cf_args(&u, "num", "5", NULL);
    eg_unit_assert_ok(eg_unit_set());

    eg_unit_cf_args(&u, "num", "6", NULL);
    eg_unit_assert_rv_text(eg_unit_set(), "is duplicate");

    ck_assert_int_eq(conf.num, 5);
}
END_TEST


/* size */

START_TEST(size_slot_parses_units)
{
    eg_unit_cf_args(&u, "size", "64k", NULL);

    eg_unit_assert_ok(eg_unit_set());
    ck_assert_uint_eq(conf.size, 64 * 1024);
}
END_TEST


START_TEST(size_slot_accepts_the_high_bound)
{
    eg_unit_cf_args(&u, "size", "1m", NULL);

    eg_unit_assert_ok(eg_unit_set());
    ck_assert_uint_eq(conf.size, 1024 * 1024);
}
END_TEST


START_TEST(size_slot_refuses_an_unknown_unit)
{
    eg_unit_cf_args(&u, "size", "12x", NULL);

    ck_assert_ptr_eq(eg_unit_set(), EG_CONF_ERROR);
    ck_assert_uint_eq(conf.size, EG_CONF_UNSET_SIZE);
    ck_assert_str_eq(eg_unit_cf_log(&u),
                     "[emerg] invalid value \"12x\" in \"size\" directive "
                     "in test.conf:7\n");
}
END_TEST


START_TEST(size_slot_refuses_a_value_out_of_bounds)
{
    eg_unit_cf_args(&u, "size", "2m", NULL);

    ck_assert_ptr_eq(eg_unit_set(), EG_CONF_ERROR);
    ck_assert_str_eq(eg_unit_cf_log(&u),
                     "[emerg] value \"2m\" in \"size\" directive is out of "
                     "range, it must be between 512 and 1048576 "
                     "in test.conf:7\n");
}
END_TEST


START_TEST(size_slot_repeated_is_duplicate)
{
    eg_unit_cf_args(&u, "size", "1k", NULL);
    eg_unit_assert_ok(eg_unit_set());

    eg_unit_cf_args(&u, "size", "2k", NULL);
    eg_unit_assert_rv_text(eg_unit_set(), "is duplicate");

    ck_assert_uint_eq(conf.size, 1024);
}
END_TEST


/* msec */

START_TEST(msec_slot_reads_milliseconds)
{
    eg_unit_cf_args(&u, "msec", "500ms", NULL);

    eg_unit_assert_ok(eg_unit_set());
    ck_assert_uint_eq(conf.msec, 500);
}
END_TEST


START_TEST(msec_slot_converts_seconds)
{
    eg_unit_cf_args(&u, "msec", "1m", NULL);

    eg_unit_assert_ok(eg_unit_set());
    ck_assert_uint_eq(conf.msec, 60000);
}
END_TEST


START_TEST(msec_slot_reads_a_bare_number_as_seconds)
{
    eg_unit_cf_args(&u, "msec", "5", NULL);

    eg_unit_assert_ok(eg_unit_set());
    ck_assert_uint_eq(conf.msec, 5000);
}
END_TEST


START_TEST(msec_slot_refuses_an_invalid_time)
{
    eg_unit_cf_args(&u, "msec", "1s1m", NULL);

    ck_assert_ptr_eq(eg_unit_set(), EG_CONF_ERROR);
    ck_assert_uint_eq(conf.msec, EG_CONF_UNSET_MSEC);
    ck_assert_str_eq(eg_unit_cf_log(&u),
                     "[emerg] invalid value \"1s1m\" in \"msec\" directive "
                     "in test.conf:7\n");
}
END_TEST


START_TEST(msec_slot_refuses_a_value_out_of_bounds)
{
    eg_unit_cf_args(&u, "msec", "5ms", NULL);

    ck_assert_ptr_eq(eg_unit_set(), EG_CONF_ERROR);
    ck_assert_str_eq(eg_unit_cf_log(&u),
                     "[emerg] value \"5ms\" in \"msec\" directive is out of "
                     "range, it must be between 10 and 60000 "
                     "in test.conf:7\n");
}
END_TEST


START_TEST(msec_slot_repeated_is_duplicate)
{
    eg_unit_cf_args(&u, "msec", "1s", NULL);
    eg_unit_assert_ok(eg_unit_set());

    eg_unit_cf_args(&u, "msec", "2s", NULL);
    eg_unit_assert_rv_text(eg_unit_set(), "is duplicate");

    ck_assert_uint_eq(conf.msec, 1000);
}
END_TEST


/* sec */

START_TEST(sec_slot_reads_seconds)
{
    eg_unit_cf_args(&u, "sec", "1m30s", NULL);

    eg_unit_assert_ok(eg_unit_set());
    ck_assert_int_eq(conf.sec, 90);
}
END_TEST


START_TEST(sec_slot_refuses_milliseconds)
{
    eg_unit_cf_args(&u, "sec", "500ms", NULL);

    ck_assert_ptr_eq(eg_unit_set(), EG_CONF_ERROR);
    ck_assert_int_eq(conf.sec, EG_CONF_UNSET);
    ck_assert_str_eq(eg_unit_cf_log(&u),
                     "[emerg] invalid value \"500ms\" in \"sec\" directive "
                     "in test.conf:7\n");
}
END_TEST


START_TEST(sec_slot_refuses_a_value_out_of_bounds)
{
    eg_unit_cf_args(&u, "sec", "2h", NULL);

    ck_assert_ptr_eq(eg_unit_set(), EG_CONF_ERROR);
    ck_assert_str_eq(eg_unit_cf_log(&u),
                     "[emerg] value \"2h\" in \"sec\" directive is out of "
                     "range, it must be between 1 and 3600 "
                     "in test.conf:7\n");
}
END_TEST


START_TEST(sec_slot_repeated_is_duplicate)
{
    eg_unit_cf_args(&u, "sec", "10", NULL);
    eg_unit_assert_ok(eg_unit_set());

    eg_unit_cf_args(&u, "sec", "20", NULL);
    eg_unit_assert_rv_text(eg_unit_set(), "is duplicate");

    ck_assert_int_eq(conf.sec, 10);
}
END_TEST


/* enum */

START_TEST(enum_slot_stores_the_value_of_the_name)
{
    eg_unit_cf_args(&u, "mode", "safe", NULL);

    eg_unit_assert_ok(eg_unit_set());
    ck_assert_uint_eq(conf.mode, 2);
}
END_TEST


START_TEST(enum_slot_ignores_case)
{
    eg_unit_cf_args(&u, "mode", "FAST", NULL);

    eg_unit_assert_ok(eg_unit_set());
    ck_assert_uint_eq(conf.mode, 1);
}
END_TEST


START_TEST(enum_slot_lists_the_choices_for_an_unknown_name)
{
    eg_unit_cf_args(&u, "mode", "slow", NULL);

    ck_assert_ptr_eq(eg_unit_set(), EG_CONF_ERROR);
    ck_assert_uint_eq(conf.mode, EG_CONF_UNSET_UINT);
    ck_assert_str_eq(eg_unit_cf_log(&u),
                     "[emerg] invalid value \"slow\" in \"mode\" directive, "
                     "it must be one of \"fast\", \"safe\" "
                     "in test.conf:7\n");
}
END_TEST


START_TEST(enum_slot_refuses_a_prefix_of_a_name)
{
    eg_unit_cf_args(&u, "mode", "fas", NULL);

    ck_assert_ptr_eq(eg_unit_set(), EG_CONF_ERROR);
    ck_assert_uint_eq(conf.mode, EG_CONF_UNSET_UINT);
}
END_TEST


START_TEST(enum_slot_repeated_is_duplicate)
{
    eg_unit_cf_args(&u, "mode", "fast", NULL);
    eg_unit_assert_ok(eg_unit_set());

    eg_unit_cf_args(&u, "mode", "safe", NULL);
    eg_unit_assert_rv_text(eg_unit_set(), "is duplicate");

    ck_assert_uint_eq(conf.mode, 1);
}
END_TEST


/* addr */

START_TEST(addr_slot_parses_address_and_port)
{
    eg_unit_cf_args(&u, "addr", "10.0.0.1:8000", NULL);

    eg_unit_assert_ok(eg_unit_set());
    ck_assert(conf.addr.literal);
    ck_assert_uint_eq(conf.addr.port, 8000);
    eg_unit_assert_str_eq(&conf.addr.addr.name, "10.0.0.1:8000");
}
END_TEST


START_TEST(addr_slot_applies_the_default_port)
{
    eg_unit_cf_args(&u, "addr", "10.0.0.1", NULL);

    eg_unit_assert_ok(eg_unit_set());
    ck_assert(conf.addr.no_port);
    ck_assert_uint_eq(conf.addr.port, 7946);
    eg_unit_assert_str_eq(&conf.addr.addr.name, "10.0.0.1:7946");
}
END_TEST


START_TEST(addr_slot_refuses_an_invalid_port)
{
    eg_unit_cf_args(&u, "addr", "10.0.0.1:99999", NULL);

    ck_assert_ptr_eq(eg_unit_set(), EG_CONF_ERROR);
    ck_assert_str_eq(eg_unit_cf_log(&u),
                     "[emerg] invalid port in \"10.0.0.1:99999\" of the "
                     "\"addr\" directive in test.conf:7\n");
}
END_TEST


START_TEST(addr_slot_without_post_requires_a_port)
{
    eg_unit_cf_args(&u, "addr_plain", "10.0.0.1", NULL);

    ck_assert_ptr_eq(eg_unit_set(), EG_CONF_ERROR);
    ck_assert_str_eq(eg_unit_cf_log(&u),
                     "[emerg] no port in \"10.0.0.1\" of the "
                     "\"addr_plain\" directive in test.conf:7\n");
}
END_TEST


START_TEST(addr_slot_failure_leaves_the_slot_unset)
{
    eg_unit_cf_args(&u, "addr", "[::1", NULL);
    ck_assert_ptr_eq(eg_unit_set(), EG_CONF_ERROR);

    ck_assert_ptr_null(conf.addr.url.data);

    eg_unit_cf_args(&u, "addr", "[::1]:80", NULL);
    ck_assert_ptr_null(eg_unit_set());
    ck_assert_uint_eq(conf.addr.port, 80);
}
END_TEST


START_TEST(addr_slot_repeated_is_duplicate)
{
    eg_unit_cf_args(&u, "addr", "10.0.0.1:1", NULL);
    eg_unit_assert_ok(eg_unit_set());

    eg_unit_cf_args(&u, "addr", "10.0.0.2:2", NULL);
    eg_unit_assert_rv_text(eg_unit_set(), "is duplicate");

    ck_assert_uint_eq(conf.addr.port, 1);
}
END_TEST


Suite *
eg_unit_slots_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("slots");

    tc = tcase_create("flag and strings");
    tcase_add_checked_fixture(tc, eg_unit_slots_setup,
                              eg_unit_slots_teardown);
    tcase_add_test(tc, flag_slot_turns_on);
    tcase_add_test(tc, flag_slot_turns_off);
    tcase_add_test(tc, flag_slot_ignores_case);
    tcase_add_test(tc, flag_slot_refuses_other_words);
    tcase_add_test(tc, flag_slot_refuses_a_prefix_of_on);
    tcase_add_test(tc, flag_slot_repeated_is_duplicate);
    tcase_add_test(tc, str_slot_stores_the_argument);
    tcase_add_test(tc, str_slot_repeated_is_duplicate);
    tcase_add_test(tc, str_slot_counts_an_empty_string_as_set);
    tcase_add_test(tc, str_array_slot_collects_every_argument);
    tcase_add_test(tc, str_array_slot_repeated_appends);
    tcase_add_test(tc, str_array_slot_starts_from_null_as_well);
    tcase_add_test(tc, keyval_slot_stores_key_and_value);
    tcase_add_test(tc, keyval_slot_repeated_appends_in_order);
    tcase_add_test(tc, keyval_slot_starts_from_unset_as_well);
    suite_add_tcase(s, tc);

    tc = tcase_create("numbers");
    tcase_add_checked_fixture(tc, eg_unit_slots_setup,
                              eg_unit_slots_teardown);
    tcase_add_test(tc, num_slot_parses_a_number_within_bounds);
    tcase_add_test(tc, num_slot_accepts_both_bounds);
    tcase_add_test(tc, num_slot_refuses_a_value_below_the_low_bound);
    tcase_add_test(tc, num_slot_refuses_a_value_above_the_high_bound);
    tcase_add_test(tc, num_slot_refuses_a_non_number);
    tcase_add_test(tc, num_slot_refuses_a_negative_number);
    tcase_add_test(tc, num_slot_refuses_overflow);
    tcase_add_test(tc, num_slot_without_bounds_takes_any_value);
    tcase_add_test(tc, num_slot_repeated_is_duplicate);
    tcase_add_test(tc, size_slot_parses_units);
    tcase_add_test(tc, size_slot_accepts_the_high_bound);
    tcase_add_test(tc, size_slot_refuses_an_unknown_unit);
    tcase_add_test(tc, size_slot_refuses_a_value_out_of_bounds);
    tcase_add_test(tc, size_slot_repeated_is_duplicate);
    suite_add_tcase(s, tc);

    tc = tcase_create("times");
    tcase_add_checked_fixture(tc, eg_unit_slots_setup,
                              eg_unit_slots_teardown);
    tcase_add_test(tc, msec_slot_reads_milliseconds);
    tcase_add_test(tc, msec_slot_converts_seconds);
    tcase_add_test(tc, msec_slot_reads_a_bare_number_as_seconds);
    tcase_add_test(tc, msec_slot_refuses_an_invalid_time);
    tcase_add_test(tc, msec_slot_refuses_a_value_out_of_bounds);
    tcase_add_test(tc, msec_slot_repeated_is_duplicate);
    tcase_add_test(tc, sec_slot_reads_seconds);
    tcase_add_test(tc, sec_slot_refuses_milliseconds);
    tcase_add_test(tc, sec_slot_refuses_a_value_out_of_bounds);
    tcase_add_test(tc, sec_slot_repeated_is_duplicate);
    suite_add_tcase(s, tc);

    tc = tcase_create("enum and addr");
    tcase_add_checked_fixture(tc, eg_unit_slots_setup,
                              eg_unit_slots_teardown);
    tcase_add_test(tc, enum_slot_stores_the_value_of_the_name);
    tcase_add_test(tc, enum_slot_ignores_case);
    tcase_add_test(tc, enum_slot_lists_the_choices_for_an_unknown_name);
    tcase_add_test(tc, enum_slot_refuses_a_prefix_of_a_name);
    tcase_add_test(tc, enum_slot_repeated_is_duplicate);
    tcase_add_test(tc, addr_slot_parses_address_and_port);
    tcase_add_test(tc, addr_slot_applies_the_default_port);
    tcase_add_test(tc, addr_slot_refuses_an_invalid_port);
    tcase_add_test(tc, addr_slot_without_post_requires_a_port);
    tcase_add_test(tc, addr_slot_failure_leaves_the_slot_unset);
    tcase_add_test(tc, addr_slot_repeated_is_duplicate);
    suite_add_tcase(s, tc);

    return s;
}
