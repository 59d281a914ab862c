/*
 * Timers.  The tests own the clock: they set eg_current_msec and call
 * eg_event_expire_timers() as the event loop would after waking, so
 * nothing here depends on real time.
 */

#include <eg_unit.h>


#define EG_UNIT_EVENTS  8


static eg_event_t   ev[EG_UNIT_EVENTS];
static eg_uint_t    fired[64];
static eg_uint_t    nfired;
static eg_uint_t    last_expiry;


static void
eg_unit_record(eg_event_t *e)
{
    ck_assert_msg(e->timedout, "the handler ran without timedout");
    ck_assert_msg(!e->timer_set, "the handler ran with timer_set");

    fired[nfired++] = (eg_uint_t) (e - ev);
}


/* the events carry their expiry in index: each must come after the last */
static void
eg_unit_check_order(eg_event_t *e)
{
    eg_unit_require(e->index <= eg_current_msec, "a timer ran early");
    eg_unit_require(e->index >= last_expiry, "a timer ran out of order");

    last_expiry = e->index;
    nfired++;
}


/* adds the timer of the next event at once, from inside a handler */
static void
eg_unit_chain(eg_event_t *e)
{
    eg_unit_record(e);

    if (e + 1 < ev + EG_UNIT_EVENTS) {
        eg_event_add_timer(e + 1, 0);
    }
}


static void
eg_unit_timer_setup(void)
{
    eg_uint_t  i;

    ck_assert_int_eq(eg_event_timer_init(NULL), EG_OK);

    eg_memzero(ev, sizeof(ev));

    for (i = 0; i < EG_UNIT_EVENTS; i++) {
        ev[i].handler = eg_unit_record;
    }

    nfired = 0;
    last_expiry = 0;
    eg_current_msec = 100000;
}


START_TEST(find_timer_is_infinite_without_timers)
{
    ck_assert_uint_eq(eg_event_find_timer(), EG_TIMER_INFINITE);
}
END_TEST


START_TEST(find_timer_reports_the_wait_for_the_earliest)
{
    eg_event_add_timer(&ev[0], 5000);
    eg_event_add_timer(&ev[1], 1500);
    eg_event_add_timer(&ev[2], 3000);

    ck_assert_uint_eq(eg_event_find_timer(), 1500);

    eg_current_msec += 1000;

    ck_assert_uint_eq(eg_event_find_timer(), 500);
}
END_TEST


START_TEST(find_timer_is_zero_for_an_overdue_timer)
{
    eg_event_add_timer(&ev[0], 100);

    eg_current_msec += 5000;

    ck_assert_uint_eq(eg_event_find_timer(), 0);
}
END_TEST


START_TEST(add_timer_marks_the_event)
{
    eg_event_add_timer(&ev[0], 1000);

    ck_assert(ev[0].timer_set);
    ck_assert_uint_eq(ev[0].timer.key, 101000);
}
END_TEST


START_TEST(expire_leaves_timers_that_are_not_due)
{
    eg_event_add_timer(&ev[0], 1000);

    eg_current_msec += 999;
    eg_event_expire_timers();

    ck_assert_uint_eq(nfired, 0);
    ck_assert(ev[0].timer_set);
    ck_assert(!ev[0].timedout);
}
END_TEST


START_TEST(expire_runs_a_timer_at_its_exact_time)
{
    eg_event_add_timer(&ev[0], 1000);

    eg_current_msec += 1000;
    eg_event_expire_timers();

    ck_assert_uint_eq(nfired, 1);
    ck_assert(ev[0].timedout);
    ck_assert(!ev[0].timer_set);
}
END_TEST


START_TEST(expire_runs_due_timers_in_expiry_order)
{
    eg_event_add_timer(&ev[0], 3000);
    eg_event_add_timer(&ev[1], 1000);
    eg_event_add_timer(&ev[2], 2000);
    eg_event_add_timer(&ev[3], 9000);

    eg_current_msec += 5000;
    eg_event_expire_timers();

    ck_assert_uint_eq(nfired, 3);
    ck_assert_uint_eq(fired[0], 1);
    ck_assert_uint_eq(fired[1], 2);
    ck_assert_uint_eq(fired[2], 0);
    ck_assert(ev[3].timer_set);
    ck_assert_uint_eq(eg_event_find_timer(), 4000);
}
END_TEST


START_TEST(timers_with_equal_expiry_run_in_the_order_added)
{
    eg_uint_t  i;

    for (i = 0; i < EG_UNIT_EVENTS; i++) {
        eg_event_add_timer(&ev[i], 700);
    }

    eg_current_msec += 700;
    eg_event_expire_timers();

    ck_assert_uint_eq(nfired, EG_UNIT_EVENTS);

    for (i = 0; i < EG_UNIT_EVENTS; i++) {
        ck_assert_uint_eq(fired[i], i);
    }
}
END_TEST


START_TEST(del_timer_cancels_it)
{
    eg_event_add_timer(&ev[0], 1000);
    eg_event_add_timer(&ev[1], 2000);

    eg_event_del_timer(&ev[0]);

    ck_assert(!ev[0].timer_set);
    ck_assert_uint_eq(eg_event_find_timer(), 2000);

    eg_current_msec += 5000;
    eg_event_expire_timers();

    ck_assert_uint_eq(nfired, 1);
    ck_assert_uint_eq(fired[0], 1);
}
END_TEST


START_TEST(rearm_within_the_lazy_delay_keeps_the_old_expiry)
{
    eg_event_add_timer(&ev[0], 10000);

    eg_current_msec += EG_TIMER_LAZY_DELAY - 1;
    eg_event_add_timer(&ev[0], 10000);

    ck_assert_uint_eq(ev[0].timer.key, 110000);
}
END_TEST


START_TEST(rearm_earlier_within_the_lazy_delay_keeps_the_old_expiry)
{
    eg_event_add_timer(&ev[0], 10000);
    eg_event_add_timer(&ev[0], 10000 - (EG_TIMER_LAZY_DELAY - 1));

    ck_assert_uint_eq(ev[0].timer.key, 110000);
}
END_TEST


START_TEST(rearm_beyond_the_lazy_delay_moves_the_timer)
{
    eg_event_add_timer(&ev[0], 10000);

    eg_current_msec += EG_TIMER_LAZY_DELAY;
    eg_event_add_timer(&ev[0], 10000);

    ck_assert_uint_eq(ev[0].timer.key, 110000 + EG_TIMER_LAZY_DELAY);
    ck_assert_uint_eq(eg_event_find_timer(), 10000);
}
END_TEST


START_TEST(rearm_much_earlier_moves_the_timer_forward)
{
    eg_event_add_timer(&ev[0], 10000);
    eg_event_add_timer(&ev[1], 5000);

    eg_event_add_timer(&ev[0], 1000);

    ck_assert_uint_eq(eg_event_find_timer(), 1000);

    eg_current_msec += 6000;
    eg_event_expire_timers();

    ck_assert_uint_eq(nfired, 2);
    ck_assert_uint_eq(fired[0], 0);
    ck_assert_uint_eq(fired[1], 1);
}
END_TEST


START_TEST(handler_may_add_a_timer_that_runs_in_the_same_pass)
{
    eg_uint_t  i;

    for (i = 0; i < EG_UNIT_EVENTS; i++) {
        ev[i].handler = eg_unit_chain;
    }

    eg_event_add_timer(&ev[0], 10);

    eg_current_msec += 10;
    eg_event_expire_timers();

    ck_assert_uint_eq(nfired, EG_UNIT_EVENTS);
    ck_assert_uint_eq(eg_event_find_timer(), EG_TIMER_INFINITE);
}
END_TEST


START_TEST(handler_may_rearm_its_own_timer_for_later)
{
    eg_event_add_timer(&ev[0], 100);

    eg_current_msec += 100;
    eg_event_expire_timers();

    ck_assert_uint_eq(nfired, 1);

    eg_event_add_timer(&ev[0], 100);
    ck_assert_uint_eq(eg_event_find_timer(), 100);

    eg_event_expire_timers();
    ck_assert_uint_eq(nfired, 1);
}
END_TEST


START_TEST(no_timers_left_with_an_empty_tree)
{
    ck_assert_uint_eq(eg_event_no_timers_left(), 1);
}
END_TEST


START_TEST(no_timers_left_when_only_cancelable_remain)
{
    ev[0].cancelable = 1;
    ev[1].cancelable = 1;

    eg_event_add_timer(&ev[0], 100);
    eg_event_add_timer(&ev[1], 200);

    ck_assert_uint_eq(eg_event_no_timers_left(), 1);
}
END_TEST


START_TEST(timers_left_while_any_is_not_cancelable)
{
    eg_uint_t  i;

    for (i = 0; i < EG_UNIT_EVENTS; i++) {
        ev[i].cancelable = (i != 5);
        eg_event_add_timer(&ev[i], 100 * (i + 1));
    }

    ck_assert_uint_eq(eg_event_no_timers_left(), 0);

    eg_event_del_timer(&ev[5]);

    ck_assert_uint_eq(eg_event_no_timers_left(), 1);
}
END_TEST


START_TEST(timers_order_across_the_clock_wrap)
{
    eg_current_msec = (eg_msec_t) -100;

    eg_event_add_timer(&ev[0], 300);     /* wraps to 200 */
    eg_event_add_timer(&ev[1], 50);      /* just before the wrap */

    ck_assert_uint_eq(eg_event_find_timer(), 50);

    eg_current_msec += 60;
    eg_event_expire_timers();

    ck_assert_uint_eq(nfired, 1);
    ck_assert_uint_eq(fired[0], 1);
    ck_assert_uint_eq(eg_event_find_timer(), 240);

    eg_current_msec += 240;
    eg_event_expire_timers();

    ck_assert_uint_eq(nfired, 2);
    ck_assert_uint_eq(fired[1], 0);
}
END_TEST


START_TEST(many_random_timers_expire_in_order)
{
    uint64_t    state;
    eg_uint_t   i, round;
    eg_event_t  many[200];

    state = 99;

    eg_memzero(many, sizeof(many));

    for (i = 0; i < 200; i++) {
        many[i].handler = eg_unit_check_order;
        many[i].index = (eg_uint_t) (eg_unit_random(&state) % 100000);
        eg_event_add_timer(&many[i], many[i].index);
        many[i].index += (eg_uint_t) eg_current_msec;   /* the expiry */
    }

    for (round = 0; round < 201; round++) {
        eg_current_msec += 500;
        eg_event_expire_timers();

        for (i = 0; i < 200; i++) {
            eg_unit_require(many[i].timer_set
                            == (many[i].index > eg_current_msec),
                            "timer %lu is wrong", (unsigned long) i);
        }
    }

    ck_assert_uint_eq(nfired, 200);
    ck_assert_uint_eq(eg_event_no_timers_left(), 1);
}
END_TEST


Suite *
eg_unit_timer_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("timer");

    tc = tcase_create("tree");
    tcase_add_checked_fixture(tc, eg_unit_timer_setup, NULL);
    tcase_add_test(tc, find_timer_is_infinite_without_timers);
    tcase_add_test(tc, find_timer_reports_the_wait_for_the_earliest);
    tcase_add_test(tc, find_timer_is_zero_for_an_overdue_timer);
    tcase_add_test(tc, add_timer_marks_the_event);
    tcase_add_test(tc, expire_leaves_timers_that_are_not_due);
    tcase_add_test(tc, expire_runs_a_timer_at_its_exact_time);
    tcase_add_test(tc, expire_runs_due_timers_in_expiry_order);
    tcase_add_test(tc, timers_with_equal_expiry_run_in_the_order_added);
    tcase_add_test(tc, del_timer_cancels_it);
    tcase_add_test(tc, handler_may_add_a_timer_that_runs_in_the_same_pass);
    tcase_add_test(tc, handler_may_rearm_its_own_timer_for_later);
    tcase_add_test(tc, timers_order_across_the_clock_wrap);
    tcase_add_test(tc, many_random_timers_expire_in_order);
    suite_add_tcase(s, tc);

    tc = tcase_create("lazy re-arm");
    tcase_add_checked_fixture(tc, eg_unit_timer_setup, NULL);
    tcase_add_test(tc, rearm_within_the_lazy_delay_keeps_the_old_expiry);
    tcase_add_test(tc,
                   rearm_earlier_within_the_lazy_delay_keeps_the_old_expiry);
    tcase_add_test(tc, rearm_beyond_the_lazy_delay_moves_the_timer);
    tcase_add_test(tc, rearm_much_earlier_moves_the_timer_forward);
    suite_add_tcase(s, tc);

    tc = tcase_create("cancelable");
    tcase_add_checked_fixture(tc, eg_unit_timer_setup, NULL);
    tcase_add_test(tc, no_timers_left_with_an_empty_tree);
    tcase_add_test(tc, no_timers_left_when_only_cancelable_remain);
    tcase_add_test(tc, timers_left_while_any_is_not_cancelable);
    suite_add_tcase(s, tc);

    return s;
}
