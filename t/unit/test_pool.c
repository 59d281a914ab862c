/*
 * Pools, arrays and lists: small allocations from blocks, large ones from
 * malloc(), alignment, early release of large blocks, cleanup handlers;
 * arrays that grow in place or move; lists whose elements never move.
 */

#include <eg_unit.h>


static eg_log_t    eg_unit_quiet_log;
static eg_pool_t  *pool;

static int         cleanup_order[8];
static eg_uint_t   cleanup_n;


static void
eg_unit_pool_setup(void)
{
    eg_memzero(&eg_unit_quiet_log, sizeof(eg_log_t));
    eg_unit_quiet_log.log_level = EG_LOG_EMERG;

    pool = eg_create_pool(1024, &eg_unit_quiet_log);
    ck_assert_ptr_nonnull(pool);

    cleanup_n = 0;
}


static void
eg_unit_pool_teardown(void)
{
    if (pool) {
        eg_destroy_pool(pool);
        pool = NULL;
    }
}


static eg_uint_t
eg_unit_aligned(void *p)
{
    return ((uintptr_t) p & (EG_ALIGNMENT - 1)) == 0;
}


static eg_uint_t
eg_unit_large_count(eg_pool_t *p)
{
    eg_uint_t         n;
    eg_pool_large_t  *l;

    n = 0;

    for (l = p->large; l; l = l->next) {
        n++;
    }

    return n;
}


static void
eg_unit_cleanup_record(void *data)
{
    cleanup_order[cleanup_n++] = *(int *) data;
}


/* pools */

START_TEST(create_pool_rounds_a_tiny_size_up)
{
    eg_pool_t  *p;

    p = eg_create_pool(1, &eg_unit_quiet_log);
    ck_assert_ptr_nonnull(p);

    ck_assert_uint_eq((size_t) (p->block.end - (u_char *) p),
                      sizeof(eg_pool_t) + EG_MIN_POOL_SIZE);
    ck_assert_uint_eq(p->max, EG_MIN_POOL_SIZE);

    eg_destroy_pool(p);
}
END_TEST


START_TEST(pool_serves_at_most_max_alloc_from_pool_from_blocks)
{
    eg_pool_t  *p;

    p = eg_create_pool(EG_DEFAULT_POOL_SIZE, &eg_unit_quiet_log);
    ck_assert_ptr_nonnull(p);

    ck_assert_uint_eq(p->max, EG_MAX_ALLOC_FROM_POOL);

    eg_destroy_pool(p);
}
END_TEST


START_TEST(palloc_returns_aligned_memory)
{
    size_t     sizes[] = { 1, 3, 7, 13, 1, 2, 5 };
    eg_uint_t  i;
    u_char    *p;

    for (i = 0; i < eg_nelems(sizes); i++) {
        p = eg_palloc(pool, sizes[i]);
        ck_assert_ptr_nonnull(p);
        ck_assert_msg(eg_unit_aligned(p), "allocation %lu is unaligned",
                      (unsigned long) i);
        eg_memset(p, 0xa5, sizes[i]);
    }
}
END_TEST


START_TEST(pnalloc_packs_bytes_without_alignment)
{
    u_char  *p1, *p2, *p3;

    p1 = eg_pnalloc(pool, 1);
    p2 = eg_pnalloc(pool, 1);
    p3 = eg_pnalloc(pool, 3);

    ck_assert_ptr_eq(p2, p1 + 1);
    ck_assert_ptr_eq(p3, p2 + 1);
}
END_TEST


START_TEST(pcalloc_zeroes_reused_memory)
{
    u_char     *p, *q;
    eg_uint_t   i;

    p = eg_palloc(pool, 100);
    eg_memset(p, 0xaa, 100);

    eg_reset_pool(pool);

    q = eg_pcalloc(pool, 100);
    ck_assert_ptr_eq(q, p);

    for (i = 0; i < 100; i++) {
        ck_assert_int_eq(q[i], 0);
    }
}
END_TEST


START_TEST(small_allocations_spill_into_new_blocks)
{
    u_char     *p[64];
    eg_uint_t   i, j;

    for (i = 0; i < 64; i++) {
        p[i] = eg_palloc(pool, 100);
        ck_assert_ptr_nonnull(p[i]);
        ck_assert(eg_unit_aligned(p[i]));
        eg_memset(p[i], (int) i, 100);
    }

    ck_assert_ptr_nonnull(pool->block.next);
    ck_assert_ptr_null(pool->large);

    /* nothing overlapped */
    for (i = 0; i < 64; i++) {
        for (j = 0; j < 100; j++) {
            eg_unit_require(p[i][j] == i, "allocation %lu was overwritten",
                            (unsigned long) i);
        }
    }
}
END_TEST


START_TEST(full_blocks_are_skipped_after_repeated_failures)
{
    eg_uint_t  i;

    for (i = 0; i < 10; i++) {
        ck_assert_ptr_nonnull(eg_palloc(pool, pool->max));
    }

    ck_assert_ptr_ne(pool->current, &pool->block);
}
END_TEST


START_TEST(allocation_of_exactly_max_comes_from_a_block)
{
    ck_assert_ptr_nonnull(eg_palloc(pool, pool->max));
    ck_assert_ptr_null(pool->large);
}
END_TEST


START_TEST(allocation_above_max_is_a_large_block)
{
    void  *p;

    p = eg_palloc(pool, pool->max + 1);

    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(pool->large);
    ck_assert_ptr_eq(pool->large->alloc, p);
}
END_TEST


START_TEST(pfree_releases_a_large_block)
{
    void  *p;

    p = eg_palloc(pool, 8192);

    ck_assert_int_eq(eg_pfree(pool, p), EG_OK);
    ck_assert_ptr_null(pool->large->alloc);
}
END_TEST


START_TEST(pfree_declines_a_pointer_freed_already)
{
    void  *p;

    p = eg_palloc(pool, 8192);

    ck_assert_int_eq(eg_pfree(pool, p), EG_OK);
    ck_assert_int_eq(eg_pfree(pool, p), EG_DECLINED);
}
END_TEST


START_TEST(pfree_declines_a_small_allocation)
{
    void  *p;

    p = eg_palloc(pool, 16);

    ck_assert_int_eq(eg_pfree(pool, p), EG_DECLINED);
}
END_TEST


START_TEST(large_block_slot_freed_is_reused)
{
    void  *p, *q;

    p = eg_palloc(pool, 8192);
    ck_assert_int_eq(eg_pfree(pool, p), EG_OK);

    q = eg_palloc(pool, 10000);

    ck_assert_uint_eq(eg_unit_large_count(pool), 1);
    ck_assert_ptr_eq(pool->large->alloc, q);
}
END_TEST


START_TEST(large_blocks_are_freed_on_destroy)
{
    eg_uint_t  i;

    /* the leak checker of the sanitizer build is the real assertion */
    for (i = 0; i < 10; i++) {
        ck_assert_ptr_nonnull(eg_palloc(pool, 5000 + i));
    }

    ck_assert_uint_eq(eg_unit_large_count(pool), 10);
}
END_TEST


START_TEST(cleanup_handlers_run_on_destroy_last_added_first)
{
    int                 i;
    eg_pool_cleanup_t  *c;

    for (i = 1; i <= 3; i++) {
        c = eg_pool_cleanup_add(pool, sizeof(int));
        ck_assert_ptr_nonnull(c);

        *(int *) c->data = i;
        c->handler = eg_unit_cleanup_record;
    }

    ck_assert_uint_eq(cleanup_n, 0);

    eg_destroy_pool(pool);
    pool = NULL;

    ck_assert_uint_eq(cleanup_n, 3);
    ck_assert_int_eq(cleanup_order[0], 3);
    ck_assert_int_eq(cleanup_order[1], 2);
    ck_assert_int_eq(cleanup_order[2], 1);
}
END_TEST


START_TEST(cleanup_without_a_handler_is_skipped)
{
    eg_pool_cleanup_t  *c;

    c = eg_pool_cleanup_add(pool, 0);

    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_null(c->data);
    ck_assert(c->handler == NULL);

    eg_destroy_pool(pool);
    pool = NULL;
}
END_TEST


START_TEST(cleanup_data_is_aligned_pool_memory)
{
    eg_pool_cleanup_t  *c;

    c = eg_pool_cleanup_add(pool, 24);

    ck_assert_ptr_nonnull(c->data);
    ck_assert(eg_unit_aligned(c->data));
    eg_memset(c->data, 0, 24);
}
END_TEST


START_TEST(reset_pool_frees_large_blocks_and_rewinds)
{
    u_char  *first, *again;

    first = eg_palloc(pool, 8);
    (void) eg_palloc(pool, 900);
    (void) eg_palloc(pool, 900);
    (void) eg_palloc(pool, 8192);

    eg_reset_pool(pool);

    ck_assert_ptr_null(pool->large);
    ck_assert_ptr_eq(pool->current, &pool->block);

    again = eg_palloc(pool, 8);
    ck_assert_ptr_eq(again, first);
}
END_TEST


START_TEST(pstrdup_copies_and_terminates)
{
    u_char    *p;
    eg_str_t   s = eg_string("hello");

    p = eg_pstrdup(pool, &s);

    ck_assert_ptr_ne(p, s.data);
    ck_assert_str_eq((char *) p, "hello");
}
END_TEST


START_TEST(pstrdup_of_an_empty_string_is_a_terminator)
{
    u_char    *p;
    eg_str_t   s = eg_null_string;

    p = eg_pstrdup(pool, &s);

    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p[0], '\0');
}
END_TEST


START_TEST(calloc_zeroes_heap_memory)
{
    u_char     *p;
    eg_uint_t   i;

    p = eg_calloc(256, &eg_unit_quiet_log);
    ck_assert_ptr_nonnull(p);

    for (i = 0; i < 256; i++) {
        ck_assert_int_eq(p[i], 0);
    }

    eg_free(p);
}
END_TEST


/* arrays */

START_TEST(array_create_makes_an_empty_array)
{
    eg_array_t  *a;

    a = eg_array_create(pool, 4, sizeof(int));

    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(a->nelts, 0);
    ck_assert_uint_eq(a->nalloc, 4);
    ck_assert_uint_eq(a->size, sizeof(int));
    ck_assert_ptr_eq(a->pool, pool);
}
END_TEST


START_TEST(array_push_appends_in_order)
{
    int         *v, *elts;
    eg_array_t  *a;

    a = eg_array_create(pool, 4, sizeof(int));

    v = eg_array_push(a);
    *v = 10;
    v = eg_array_push(a);
    *v = 20;

    elts = a->elts;

    ck_assert_uint_eq(a->nelts, 2);
    ck_assert_int_eq(elts[0], 10);
    ck_assert_int_eq(elts[1], 20);
}
END_TEST


START_TEST(array_grows_in_place_when_last_in_its_block)
{
    void        *elts;
    eg_array_t  *a;

    a = eg_array_create(pool, 2, sizeof(int));
    elts = a->elts;

    *(int *) eg_array_push(a) = 1;
    *(int *) eg_array_push(a) = 2;
    *(int *) eg_array_push(a) = 3;

    ck_assert_ptr_eq(a->elts, elts);
    ck_assert_uint_eq(a->nalloc, 3);
    ck_assert_int_eq(((int *) a->elts)[2], 3);
}
END_TEST


START_TEST(array_moves_and_doubles_when_not_last_in_its_block)
{
    int         *elts;
    void        *old;
    eg_array_t  *a;

    a = eg_array_create(pool, 2, sizeof(int));
    old = a->elts;

    *(int *) eg_array_push(a) = 1;
    *(int *) eg_array_push(a) = 2;

    /* something else now sits after the elements */
    ck_assert_ptr_nonnull(eg_palloc(pool, 8));

    *(int *) eg_array_push(a) = 3;

    elts = a->elts;

    ck_assert_ptr_ne(a->elts, old);
    ck_assert_uint_eq(a->nalloc, 4);
    ck_assert_uint_eq(a->nelts, 3);
    ck_assert_int_eq(elts[0], 1);
    ck_assert_int_eq(elts[1], 2);
    ck_assert_int_eq(elts[2], 3);
}
END_TEST


START_TEST(array_push_n_reserves_contiguous_elements)
{
    int         *v;
    eg_uint_t    i;
    eg_array_t  *a;

    a = eg_array_create(pool, 2, sizeof(int));
    *(int *) eg_array_push(a) = -1;

    v = eg_array_push_n(a, 5);
    ck_assert_ptr_nonnull(v);

    for (i = 0; i < 5; i++) {
        v[i] = (int) i;
    }

    ck_assert_uint_eq(a->nelts, 6);
    ck_assert_uint_ge(a->nalloc, 6);
    ck_assert_int_eq(((int *) a->elts)[0], -1);
    ck_assert_int_eq(((int *) a->elts)[5], 4);
}
END_TEST


START_TEST(array_keeps_its_content_through_many_growths)
{
    int         *elts;
    eg_uint_t    i;
    eg_array_t  *a;

    a = eg_array_create(pool, 1, sizeof(int));

    for (i = 0; i < 5000; i++) {
        *(int *) eg_array_push(a) = (int) i;

        if (i % 7 == 0) {
            (void) eg_palloc(pool, 24);     /* force some moves */
        }
    }

    elts = a->elts;

    for (i = 0; i < 5000; i++) {
        eg_unit_require(elts[i] == (int) i, "element %lu is wrong",
                        (unsigned long) i);
    }
}
END_TEST


START_TEST(array_created_with_no_room_still_grows)
{
    eg_array_t  *a;

    a = eg_array_create(pool, 0, sizeof(long));
    ck_assert_ptr_nonnull(a);

    *(long *) eg_array_push(a) = 7;
    *(long *) eg_array_push(a) = 8;

    ck_assert_uint_eq(a->nelts, 2);
    ck_assert_int_eq(((long *) a->elts)[1], 8);
}
END_TEST


START_TEST(array_init_sets_up_an_embedded_array)
{
    eg_array_t  a;

    ck_assert_int_eq(eg_array_init(&a, pool, 3, sizeof(eg_str_t)), EG_OK);

    ck_assert_uint_eq(a.nelts, 0);
    ck_assert_uint_eq(a.nalloc, 3);
    ck_assert_ptr_nonnull(a.elts);
}
END_TEST


START_TEST(array_destroy_gives_back_memory_at_the_top_of_a_block)
{
    u_char      *last;
    eg_array_t  *a;

    last = pool->current->last;

    a = eg_array_create(pool, 4, 16);
    eg_array_destroy(a);

    ck_assert_ptr_eq(pool->current->last, (u_char *) a);
    ck_assert_ptr_eq((u_char *) a, eg_align_ptr(last, EG_ALIGNMENT));
}
END_TEST


/* lists */

START_TEST(list_push_fills_the_first_part)
{
    eg_uint_t   i;
    eg_list_t  *l;

    l = eg_list_create(pool, 4, sizeof(int));

    for (i = 0; i < 4; i++) {
        *(int *) eg_list_push(l) = (int) i;
    }

    ck_assert_uint_eq(l->part.nelts, 4);
    ck_assert_ptr_null(l->part.next);
    ck_assert_ptr_eq(l->last, &l->part);
}
END_TEST


START_TEST(list_push_adds_parts_when_one_is_full)
{
    eg_uint_t   i;
    eg_list_t  *l;

    l = eg_list_create(pool, 4, sizeof(int));

    for (i = 0; i < 10; i++) {
        *(int *) eg_list_push(l) = (int) i;
    }

    ck_assert_uint_eq(l->part.nelts, 4);
    ck_assert_uint_eq(l->part.next->nelts, 4);
    ck_assert_uint_eq(l->part.next->next->nelts, 2);
    ck_assert_ptr_null(l->part.next->next->next);
    ck_assert_ptr_eq(l->last, l->part.next->next);
}
END_TEST


START_TEST(list_elements_never_move)
{
    int             *p[100], *elts;
    eg_uint_t        i, n;
    eg_list_t       *l;
    eg_list_part_t  *part;

    l = eg_list_create(pool, 3, sizeof(int));

    for (i = 0; i < 100; i++) {
        p[i] = eg_list_push(l);
        *p[i] = (int) i;
    }

    n = 0;

    for (part = &l->part; part; part = part->next) {
        elts = part->elts;

        for (i = 0; i < part->nelts; i++) {
            ck_assert_ptr_eq(&elts[i], p[n]);
            ck_assert_int_eq(elts[i], (int) n);
            n++;
        }
    }

    ck_assert_uint_eq(n, 100);
}
END_TEST


START_TEST(list_init_sets_up_an_embedded_list)
{
    eg_list_t  l;

    ck_assert_int_eq(eg_list_init(&l, pool, 2, sizeof(eg_str_t)), EG_OK);

    ck_assert_uint_eq(l.part.nelts, 0);
    ck_assert_ptr_eq(l.last, &l.part);
    ck_assert_ptr_nonnull(eg_list_push(&l));
    ck_assert_uint_eq(l.part.nelts, 1);
}
END_TEST


Suite *
eg_unit_pool_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("pool");

    tc = tcase_create("pool");
    tcase_add_checked_fixture(tc, eg_unit_pool_setup, eg_unit_pool_teardown);
    tcase_add_test(tc, create_pool_rounds_a_tiny_size_up);
    tcase_add_test(tc, pool_serves_at_most_max_alloc_from_pool_from_blocks);
    tcase_add_test(tc, palloc_returns_aligned_memory);
    tcase_add_test(tc, pnalloc_packs_bytes_without_alignment);
    tcase_add_test(tc, pcalloc_zeroes_reused_memory);
    tcase_add_test(tc, small_allocations_spill_into_new_blocks);
    tcase_add_test(tc, full_blocks_are_skipped_after_repeated_failures);
    tcase_add_test(tc, allocation_of_exactly_max_comes_from_a_block);
    tcase_add_test(tc, allocation_above_max_is_a_large_block);
    tcase_add_test(tc, pfree_releases_a_large_block);
    tcase_add_test(tc, pfree_declines_a_pointer_freed_already);
    tcase_add_test(tc, pfree_declines_a_small_allocation);
    tcase_add_test(tc, large_block_slot_freed_is_reused);
    tcase_add_test(tc, large_blocks_are_freed_on_destroy);
    tcase_add_test(tc, cleanup_handlers_run_on_destroy_last_added_first);
    tcase_add_test(tc, cleanup_without_a_handler_is_skipped);
    tcase_add_test(tc, cleanup_data_is_aligned_pool_memory);
    tcase_add_test(tc, reset_pool_frees_large_blocks_and_rewinds);
    tcase_add_test(tc, pstrdup_copies_and_terminates);
    tcase_add_test(tc, pstrdup_of_an_empty_string_is_a_terminator);
    tcase_add_test(tc, calloc_zeroes_heap_memory);
    suite_add_tcase(s, tc);

    tc = tcase_create("array");
    tcase_add_checked_fixture(tc, eg_unit_pool_setup, eg_unit_pool_teardown);
    tcase_add_test(tc, array_create_makes_an_empty_array);
    tcase_add_test(tc, array_push_appends_in_order);
    tcase_add_test(tc, array_grows_in_place_when_last_in_its_block);
    tcase_add_test(tc, array_moves_and_doubles_when_not_last_in_its_block);
    tcase_add_test(tc, array_push_n_reserves_contiguous_elements);
    tcase_add_test(tc, array_keeps_its_content_through_many_growths);
    tcase_add_test(tc, array_created_with_no_room_still_grows);
    tcase_add_test(tc, array_init_sets_up_an_embedded_array);
    tcase_add_test(tc, array_destroy_gives_back_memory_at_the_top_of_a_block);
    suite_add_tcase(s, tc);

    tc = tcase_create("list");
    tcase_add_checked_fixture(tc, eg_unit_pool_setup, eg_unit_pool_teardown);
    tcase_add_test(tc, list_push_fills_the_first_part);
    tcase_add_test(tc, list_push_adds_parts_when_one_is_full);
    tcase_add_test(tc, list_elements_never_move);
    tcase_add_test(tc, list_init_sets_up_an_embedded_list);
    suite_add_tcase(s, tc);

    return s;
}
