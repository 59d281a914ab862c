/*
 * The slab allocator in a real shared mapping: every size class, runs of
 * pages, coalescing of freed runs, exhaustion; and the process-shared
 * mutex that guards it, including a child that dies holding it.
 */

#include <eg_unit.h>


#define EG_UNIT_ZONE_SIZE   (64 * EG_SLAB_PAGE_SIZE)


static eg_slab_pool_t  *sp;


static void
eg_unit_slab_setup(void)
{
    void      *addr;
    eg_str_t   name = eg_string("unit");

    addr = mmap(NULL, EG_UNIT_ZONE_SIZE, PROT_READ|PROT_WRITE,
                MAP_ANON|MAP_SHARED, -1, 0);
    ck_assert_msg(addr != MAP_FAILED, "mmap() failed: %s", strerror(errno));

    sp = addr;

    ck_assert_int_eq(eg_slab_init(sp, EG_UNIT_ZONE_SIZE, &name), EG_OK);

    /* exhaustion is tested on purpose: keep stderr quiet */
    sp->log_nomem = 0;
}


static void
eg_unit_slab_teardown(void)
{
    if (sp == NULL) {
        return;
    }

    eg_shmtx_destroy(&sp->mutex);
    (void) munmap((void *) sp, EG_UNIT_ZONE_SIZE);
    sp = NULL;
}


static eg_uint_t
eg_unit_page_of(void *p)
{
    return (eg_uint_t) (((u_char *) p - sp->start) >> EG_SLAB_PAGE_SHIFT);
}


static eg_uint_t
eg_unit_in_zone(void *p, size_t size)
{
    return (u_char *) p >= sp->start
           && (u_char *) p + size <= sp->start
                                     + (sp->npages << EG_SLAB_PAGE_SHIFT);
}


/* waits for a child and returns its exit code, or -1 if it was killed */
static int
eg_unit_wait(pid_t pid)
{
    int  status;

    ck_assert_int_eq(waitpid(pid, &status, 0), pid);

    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}


/* the zone */

START_TEST(init_lays_out_whole_pages_after_the_descriptors)
{
    ck_assert_uint_eq((uintptr_t) sp->start % EG_SLAB_PAGE_SIZE, 0);
    ck_assert_ptr_eq((u_char *) sp->pages,
                     (u_char *) sp + sizeof(eg_slab_pool_t));
    ck_assert((u_char *) (sp->pages + sp->npages) <= sp->start);
    ck_assert(sp->start + (sp->npages << EG_SLAB_PAGE_SHIFT) <= sp->end);
    ck_assert_uint_gt(sp->npages, 50);
    ck_assert_uint_eq(sp->pfree, sp->npages);
    ck_assert_ptr_eq(sp->addr, sp);
    ck_assert_str_eq((char *) sp->name, "unit");
}
END_TEST


START_TEST(init_refuses_a_zone_without_room_for_a_page)
{
    static uint64_t  small[(sizeof(eg_slab_pool_t) + EG_SLAB_PAGE_SIZE)
                           / sizeof(uint64_t)];

    ck_assert_int_eq(eg_slab_init((eg_slab_pool_t *) small, sizeof(small),
                                  NULL),
                     EG_ERROR);
    ck_assert_int_eq(eg_slab_init((eg_slab_pool_t *) small,
                                  sizeof(eg_slab_pool_t) / 2, NULL),
                     EG_ERROR);
}
END_TEST


START_TEST(init_truncates_a_long_zone_name)
{
    eg_str_t  name = eg_string("a-very-long-zone-name-that-does-not-fit");

    eg_shmtx_destroy(&sp->mutex);
    ck_assert_int_eq(eg_slab_init(sp, EG_UNIT_ZONE_SIZE, &name), EG_OK);

    ck_assert_uint_eq(strlen((char *) sp->name), sizeof(sp->name) - 1);
    ck_assert_int_eq(strncmp((char *) sp->name, "a-very-long-zone-name",
                             21), 0);
}
END_TEST


/* size classes */

START_TEST(every_size_class_serves_aligned_slots_from_one_page)
{
    size_t      size;
    u_char     *a, *b;
    eg_uint_t   cls;

    size = (size_t) 1 << _i;
    cls = (eg_uint_t) _i - EG_SLAB_MIN_SHIFT;

    a = eg_slab_alloc(sp, size);
    b = eg_slab_alloc(sp, size);

    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_ne(a, b);
    ck_assert(eg_unit_in_zone(a, size) && eg_unit_in_zone(b, size));
    ck_assert_uint_eq((uintptr_t) a % size, 0);
    ck_assert_uint_eq((uintptr_t) b % size, 0);
    ck_assert_uint_eq(eg_unit_page_of(a), eg_unit_page_of(b));

    eg_memset(a, 0x11, size);
    eg_memset(b, 0x22, size);
    ck_assert_int_eq(a[size - 1], 0x11);

    ck_assert_uint_eq(sp->pfree, sp->npages - 1);
    ck_assert_uint_eq(sp->stats[cls].used, 2);
    ck_assert_uint_eq(sp->stats[cls].total, EG_SLAB_PAGE_SIZE >> _i);

    eg_slab_free(sp, a);
    eg_slab_free(sp, b);

    ck_assert_uint_eq(sp->pfree, sp->npages);
    ck_assert_uint_eq(sp->stats[cls].used, 0);
    ck_assert_uint_eq(sp->stats[cls].total, 0);
}
END_TEST


START_TEST(sizes_round_up_to_the_next_class)
{
    void  *p;

    p = eg_slab_alloc(sp, 17);
    ck_assert_uint_eq(sp->stats[1].reqs, 1);
    ck_assert_uint_eq((uintptr_t) p % 32, 0);
    eg_slab_free(sp, p);

    p = eg_slab_alloc(sp, 1);
    ck_assert_uint_eq(sp->stats[0].reqs, 1);
    eg_slab_free(sp, p);

    p = eg_slab_alloc(sp, EG_SLAB_PAGE_SIZE / 2);
    ck_assert_uint_eq(sp->stats[EG_SLAB_CLASSES - 1].reqs, 1);
    eg_slab_free(sp, p);
}
END_TEST


START_TEST(size_zero_gets_the_smallest_slot)
{
    void  *p;

    p = eg_slab_alloc(sp, 0);

    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(sp->stats[0].used, 1);

    eg_slab_free(sp, p);
}
END_TEST


START_TEST(full_class_page_is_followed_by_a_new_page)
{
    void       *p[EG_SLAB_PAGE_SIZE / 16], *extra;
    eg_uint_t   i, n;

    n = EG_SLAB_PAGE_SIZE / 16;

    for (i = 0; i < n; i++) {
        p[i] = eg_slab_alloc(sp, 16);
        ck_assert_ptr_nonnull(p[i]);
        ck_assert_uint_eq(eg_unit_page_of(p[i]), eg_unit_page_of(p[0]));
    }

    ck_assert_uint_eq(sp->pfree, sp->npages - 1);

    extra = eg_slab_alloc(sp, 16);

    ck_assert_uint_ne(eg_unit_page_of(extra), eg_unit_page_of(p[0]));
    ck_assert_uint_eq(sp->pfree, sp->npages - 2);

    eg_slab_free(sp, extra);
    ck_assert_uint_eq(sp->pfree, sp->npages - 1);

    for (i = 0; i < n; i++) {
        eg_slab_free(sp, p[i]);
    }

    ck_assert_uint_eq(sp->pfree, sp->npages);
}
END_TEST


START_TEST(freed_slot_is_served_again)
{
    void  *a, *b;

    a = eg_slab_alloc(sp, 64);
    (void) eg_slab_alloc(sp, 64);

    eg_slab_free(sp, a);
    b = eg_slab_alloc(sp, 64);

    ck_assert_ptr_eq(b, a);
}
END_TEST


START_TEST(slot_freed_in_a_full_page_is_served_again)
{
    void       *p[EG_SLAB_PAGE_SIZE / 256];
    eg_uint_t   i, n;

    n = EG_SLAB_PAGE_SIZE / 256;

    for (i = 0; i < n; i++) {
        p[i] = eg_slab_alloc(sp, 256);
    }

    eg_slab_free(sp, p[7]);

    ck_assert_ptr_eq(eg_slab_alloc(sp, 256), p[7]);
    ck_assert_uint_eq(sp->pfree, sp->npages - 1);
}
END_TEST


/* page runs */

START_TEST(request_over_half_a_page_takes_a_whole_page)
{
    u_char  *p;

    p = eg_slab_alloc(sp, EG_SLAB_PAGE_SIZE / 2 + 1);

    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq((uintptr_t) p % EG_SLAB_PAGE_SIZE, 0);
    ck_assert_uint_eq(sp->pfree, sp->npages - 1);

    eg_memset(p, 0x5a, EG_SLAB_PAGE_SIZE);
    eg_slab_free(sp, p);

    ck_assert_uint_eq(sp->pfree, sp->npages);
}
END_TEST


START_TEST(request_of_several_pages_takes_a_run)
{
    u_char  *p, *q;

    p = eg_slab_alloc(sp, 3 * EG_SLAB_PAGE_SIZE);
    q = eg_slab_alloc(sp, EG_SLAB_PAGE_SIZE + 1);

    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq(sp->pfree, sp->npages - 5);
    ck_assert(q >= p + 3 * EG_SLAB_PAGE_SIZE
              || q + 2 * EG_SLAB_PAGE_SIZE <= p);

    eg_memset(p, 1, 3 * EG_SLAB_PAGE_SIZE);
    eg_memset(q, 2, 2 * EG_SLAB_PAGE_SIZE);

    eg_slab_free(sp, p);
    ck_assert_uint_eq(sp->pfree, sp->npages - 2);

    eg_slab_free(sp, q);
    ck_assert_uint_eq(sp->pfree, sp->npages);
}
END_TEST


START_TEST(freed_run_is_reused_by_a_smaller_request)
{
    u_char  *a, *b, *c, *d;

    a = eg_slab_alloc(sp, 4 * EG_SLAB_PAGE_SIZE);
    b = eg_slab_alloc(sp, EG_SLAB_PAGE_SIZE);

    eg_slab_free(sp, a);

    c = eg_slab_alloc(sp, 2 * EG_SLAB_PAGE_SIZE);
    d = eg_slab_alloc(sp, 2 * EG_SLAB_PAGE_SIZE);

    /* both fit in the hole a left, before b */
    ck_assert(c >= a && c < b);
    ck_assert(d >= a && d < b);
}
END_TEST


START_TEST(freed_pages_coalesce_into_a_zone_wide_run)
{
    void       *p[128];
    eg_uint_t   i, n;

    n = sp->npages;
    ck_assert_uint_le(n, 128);

    for (i = 0; i < n; i++) {
        p[i] = eg_slab_alloc(sp, EG_SLAB_PAGE_SIZE);
        ck_assert_ptr_nonnull(p[i]);
    }

    ck_assert_ptr_null(eg_slab_alloc(sp, EG_SLAB_PAGE_SIZE));

    /* every other page first, so that each later free joins two runs */
    for (i = 0; i < n; i += 2) {
        eg_slab_free(sp, p[i]);
    }

    ck_assert_ptr_null(eg_slab_alloc(sp, 2 * EG_SLAB_PAGE_SIZE));

    for (i = 1; i < n; i += 2) {
        eg_slab_free(sp, p[i]);
    }

    ck_assert_uint_eq(sp->pfree, n);
    ck_assert_ptr_eq(eg_slab_alloc(sp, n << EG_SLAB_PAGE_SHIFT), sp->start);
}
END_TEST


START_TEST(freed_runs_coalesce_in_any_order)
{
    uint64_t    state;
    void       *p[24];
    size_t      sizes[24];
    eg_uint_t   i, j, order[24], tmp;

    state = 2024;

    for (i = 0; i < 24; i++) {
        sizes[i] = (size_t) (1 + eg_unit_random(&state) % 2)
                   * EG_SLAB_PAGE_SIZE;
        p[i] = eg_slab_alloc(sp, sizes[i]);
        ck_assert_ptr_nonnull(p[i]);
        order[i] = i;
    }

    for (i = 23; i > 0; i--) {
        j = (eg_uint_t) (eg_unit_random(&state) % (i + 1));
        tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }

    for (i = 0; i < 24; i++) {
        eg_slab_free(sp, p[order[i]]);
    }

    ck_assert_uint_eq(sp->pfree, sp->npages);
    ck_assert_ptr_eq(eg_slab_alloc(sp, sp->npages << EG_SLAB_PAGE_SHIFT),
                     sp->start);
}
END_TEST


START_TEST(random_use_of_every_class_leaves_a_whole_zone)
{
    uint64_t    state;
    u_char     *p[256];
    size_t      size[256];
    eg_uint_t   i, op, k;

    state = 31337;
    eg_memzero(p, sizeof(p));

    for (op = 0; op < 4000; op++) {
        i = (eg_uint_t) (eg_unit_random(&state) % 256);

        if (p[i]) {
            /* nobody wrote over it */
            for (k = 0; k < size[i]; k++) {
                eg_unit_require(p[i][k] == (u_char) i,
                                "allocation %lu was overwritten",
                                (unsigned long) i);
            }

            eg_slab_free(sp, p[i]);
            p[i] = NULL;
            continue;
        }

        size[i] = (size_t) (1 + eg_unit_random(&state) % 5000);
        p[i] = eg_slab_alloc(sp, size[i]);

        if (p[i]) {
            eg_memset(p[i], (u_char) i, size[i]);
        }
    }

    for (i = 0; i < 256; i++) {
        if (p[i]) {
            eg_slab_free(sp, p[i]);
        }
    }

    ck_assert_uint_eq(sp->pfree, sp->npages);
    ck_assert_ptr_eq(eg_slab_alloc(sp, sp->npages << EG_SLAB_PAGE_SHIFT),
                     sp->start);
}
END_TEST


/* exhaustion */

START_TEST(full_zone_refuses_small_requests)
{
    void  *all;

    all = eg_slab_alloc(sp, sp->npages << EG_SLAB_PAGE_SHIFT);
    ck_assert_ptr_nonnull(all);
    ck_assert_uint_eq(sp->pfree, 0);

    ck_assert_ptr_null(eg_slab_alloc(sp, 16));
    ck_assert_uint_eq(sp->stats[0].fails, 1);

    ck_assert_ptr_null(eg_slab_alloc(sp, EG_SLAB_PAGE_SIZE));

    eg_slab_free(sp, all);

    ck_assert_ptr_nonnull(eg_slab_alloc(sp, 16));
}
END_TEST


START_TEST(request_larger_than_the_zone_is_refused)
{
    ck_assert_ptr_null(eg_slab_alloc(sp, (sp->npages + 1)
                                         << EG_SLAB_PAGE_SHIFT));
    ck_assert_ptr_null(eg_slab_alloc(sp, (size_t) -1));
    ck_assert_uint_eq(sp->pfree, sp->npages);
}
END_TEST


START_TEST(run_larger_than_any_free_run_is_refused)
{
    void  *mid;

    /* one page in the middle splits the zone in two runs */
    (void) eg_slab_alloc(sp, 10 * EG_SLAB_PAGE_SIZE);
    mid = eg_slab_alloc(sp, EG_SLAB_PAGE_SIZE);
    ck_assert_ptr_nonnull(mid);

    ck_assert_ptr_null(eg_slab_alloc(sp, (sp->npages - 10)
                                         << EG_SLAB_PAGE_SHIFT));
}
END_TEST


/* calloc */

START_TEST(calloc_zeroes_a_reused_slot)
{
    u_char     *p, *q;
    eg_uint_t   i;

    p = eg_slab_alloc(sp, 100);
    eg_memset(p, 0xff, 100);
    eg_slab_free(sp, p);

    q = eg_slab_calloc(sp, 100);

    ck_assert_ptr_eq(q, p);

    for (i = 0; i < 100; i++) {
        ck_assert_int_eq(q[i], 0);
    }
}
END_TEST


START_TEST(calloc_zeroes_a_reused_run)
{
    u_char     *p, *q;
    eg_uint_t   i;

    p = eg_slab_alloc(sp, 3 * EG_SLAB_PAGE_SIZE);
    eg_memset(p, 0xff, 3 * EG_SLAB_PAGE_SIZE);
    eg_slab_free(sp, p);

    q = eg_slab_calloc(sp, 3 * EG_SLAB_PAGE_SIZE);

    ck_assert_ptr_eq(q, p);

    for (i = 0; i < 3 * EG_SLAB_PAGE_SIZE; i++) {
        eg_unit_require(q[i] == 0, "byte %lu is not zero", (unsigned long) i);
    }
}
END_TEST


START_TEST(calloc_of_an_exhausted_zone_is_null)
{
    ck_assert_ptr_nonnull(eg_slab_alloc(sp, sp->npages
                                            << EG_SLAB_PAGE_SHIFT));
    ck_assert_ptr_null(eg_slab_calloc(sp, 8));
}
END_TEST


/* misuse is fatal, never silent corruption */

START_TEST(freeing_a_slot_twice_aborts)
{
    void  *p;

    p = eg_slab_alloc(sp, 32);
    (void) eg_slab_alloc(sp, 32);

    eg_slab_free(sp, p);
    eg_slab_free(sp, p);
}
END_TEST


START_TEST(freeing_a_run_twice_aborts)
{
    void  *p;

    p = eg_slab_alloc(sp, 2 * EG_SLAB_PAGE_SIZE);

    eg_slab_free(sp, p);
    eg_slab_free(sp, p);
}
END_TEST


START_TEST(freeing_a_pointer_inside_a_slot_aborts)
{
    u_char  *p;

    p = eg_slab_alloc(sp, 64);

    eg_slab_free(sp, p + 8);
}
END_TEST


START_TEST(freeing_a_pointer_outside_the_zone_aborts)
{
    eg_slab_free(sp, (u_char *) sp->start - 1);
}
END_TEST


/* the mutex */

START_TEST(trylock_fails_while_the_mutex_is_held)
{
    eg_shmtx_lock(&sp->mutex);

    ck_assert_uint_eq(eg_shmtx_trylock(&sp->mutex), 0);

    eg_shmtx_unlock(&sp->mutex);

    ck_assert_uint_eq(eg_shmtx_trylock(&sp->mutex), 1);
    eg_shmtx_unlock(&sp->mutex);
}
END_TEST


START_TEST(lock_excludes_another_process)
{
    pid_t  pid;

    eg_shmtx_lock(&sp->mutex);

    pid = fork();
    ck_assert_int_ne(pid, -1);

    if (pid == 0) {
        _exit(eg_shmtx_trylock(&sp->mutex) ? 1 : 0);
    }

    ck_assert_int_eq(eg_unit_wait(pid), 0);

    eg_shmtx_unlock(&sp->mutex);
}
END_TEST


START_TEST(unlocked_mutex_is_taken_by_another_process)
{
    pid_t  pid;

    pid = fork();
    ck_assert_int_ne(pid, -1);

    if (pid == 0) {
        if (!eg_shmtx_trylock(&sp->mutex)) {
            _exit(1);
        }

        eg_shmtx_unlock(&sp->mutex);
        _exit(0);
    }

    ck_assert_int_eq(eg_unit_wait(pid), 0);
    ck_assert_uint_eq(eg_shmtx_trylock(&sp->mutex), 1);
    eg_shmtx_unlock(&sp->mutex);
}
END_TEST


START_TEST(owner_dying_with_the_lock_does_not_block_trylock)
{
    pid_t  pid;

    pid = fork();
    ck_assert_int_ne(pid, -1);

    if (pid == 0) {
        eg_shmtx_lock(&sp->mutex);
        _exit(0);                       /* dies holding it */
    }

    ck_assert_int_eq(eg_unit_wait(pid), 0);

    ck_assert_uint_eq(eg_shmtx_trylock(&sp->mutex), 1);
    eg_shmtx_unlock(&sp->mutex);

    /* and the mutex is sound afterwards */
    eg_shmtx_lock(&sp->mutex);
    ck_assert_uint_eq(eg_shmtx_trylock(&sp->mutex), 0);
    eg_shmtx_unlock(&sp->mutex);
}
END_TEST


START_TEST(owner_dying_with_the_lock_does_not_block_lock)
{
    pid_t  pid;

    pid = fork();
    ck_assert_int_ne(pid, -1);

    if (pid == 0) {
        eg_shmtx_lock(&sp->mutex);
        _exit(0);
    }

    ck_assert_int_eq(eg_unit_wait(pid), 0);

    /* would hang (and time out) if the mutex were not robust */
    eg_shmtx_lock(&sp->mutex);
    eg_shmtx_unlock(&sp->mutex);

    ck_assert_ptr_nonnull(eg_slab_alloc(sp, 16));
}
END_TEST


START_TEST(allocation_in_a_child_is_seen_by_the_parent)
{
    u_char  *p;
    pid_t    pid;

    pid = fork();
    ck_assert_int_ne(pid, -1);

    if (pid == 0) {
        p = eg_slab_alloc(sp, 100);

        if (p == NULL) {
            _exit(1);
        }

        (void) memcpy(p, "from the child", sizeof("from the child"));
        sp->data = p;
        _exit(0);
    }

    ck_assert_int_eq(eg_unit_wait(pid), 0);

    ck_assert_ptr_nonnull(sp->data);
    ck_assert_str_eq((char *) sp->data, "from the child");
    ck_assert_uint_eq(sp->stats[3].used, 1);

    /* the parent's next slot is a different one */
    p = eg_slab_alloc(sp, 100);
    ck_assert_ptr_ne(p, sp->data);
}
END_TEST


Suite *
eg_unit_slab_suite(void)
{
    Suite       *s;
    TCase       *tc;
    const char  *fork_mode;

    s = suite_create("slab");

    tc = tcase_create("zone");
    tcase_add_checked_fixture(tc, eg_unit_slab_setup, eg_unit_slab_teardown);
    tcase_add_test(tc, init_lays_out_whole_pages_after_the_descriptors);
    tcase_add_test(tc, init_refuses_a_zone_without_room_for_a_page);
    tcase_add_test(tc, init_truncates_a_long_zone_name);
    suite_add_tcase(s, tc);

    tc = tcase_create("classes");
    tcase_add_checked_fixture(tc, eg_unit_slab_setup, eg_unit_slab_teardown);
    tcase_add_loop_test(tc,
                        every_size_class_serves_aligned_slots_from_one_page,
                        EG_SLAB_MIN_SHIFT, EG_SLAB_MAX_SHIFT + 1);
    tcase_add_test(tc, sizes_round_up_to_the_next_class);
    tcase_add_test(tc, size_zero_gets_the_smallest_slot);
    tcase_add_test(tc, full_class_page_is_followed_by_a_new_page);
    tcase_add_test(tc, freed_slot_is_served_again);
    tcase_add_test(tc, slot_freed_in_a_full_page_is_served_again);
    suite_add_tcase(s, tc);

    tc = tcase_create("runs");
    tcase_add_checked_fixture(tc, eg_unit_slab_setup, eg_unit_slab_teardown);
    tcase_add_test(tc, request_over_half_a_page_takes_a_whole_page);
    tcase_add_test(tc, request_of_several_pages_takes_a_run);
    tcase_add_test(tc, freed_run_is_reused_by_a_smaller_request);
    tcase_add_test(tc, freed_pages_coalesce_into_a_zone_wide_run);
    tcase_add_test(tc, freed_runs_coalesce_in_any_order);
    tcase_add_test(tc, random_use_of_every_class_leaves_a_whole_zone);
    tcase_add_test(tc, full_zone_refuses_small_requests);
    tcase_add_test(tc, request_larger_than_the_zone_is_refused);
    tcase_add_test(tc, run_larger_than_any_free_run_is_refused);
    tcase_add_test(tc, calloc_zeroes_a_reused_slot);
    tcase_add_test(tc, calloc_zeroes_a_reused_run);
    tcase_add_test(tc, calloc_of_an_exhausted_zone_is_null);
    suite_add_tcase(s, tc);

    /* a signal kills the whole runner unless each test has a process */
    fork_mode = getenv("CK_FORK");

    if (fork_mode == NULL || strcmp(fork_mode, "no") != 0) {
        tc = tcase_create("misuse");
        tcase_add_checked_fixture(tc, eg_unit_slab_setup,
                                  eg_unit_slab_teardown);
        tcase_add_test_raise_signal(tc, freeing_a_slot_twice_aborts, SIGABRT);
        tcase_add_test_raise_signal(tc, freeing_a_run_twice_aborts, SIGABRT);
        tcase_add_test_raise_signal(tc, freeing_a_pointer_inside_a_slot_aborts,
                                    SIGABRT);
        tcase_add_test_raise_signal(tc,
                                    freeing_a_pointer_outside_the_zone_aborts,
                                    SIGABRT);
        suite_add_tcase(s, tc);
    }

    tc = tcase_create("shmtx");
    tcase_add_checked_fixture(tc, eg_unit_slab_setup, eg_unit_slab_teardown);
    tcase_add_test(tc, trylock_fails_while_the_mutex_is_held);
    tcase_add_test(tc, lock_excludes_another_process);
    tcase_add_test(tc, unlocked_mutex_is_taken_by_another_process);
    tcase_add_test(tc, owner_dying_with_the_lock_does_not_block_trylock);
    tcase_add_test(tc, owner_dying_with_the_lock_does_not_block_lock);
    tcase_add_test(tc, allocation_in_a_child_is_seen_by_the_parent);
    suite_add_tcase(s, tc);

    return s;
}
