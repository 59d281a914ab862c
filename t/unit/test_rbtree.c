/*
 * Red-black tree: random inserts and deletes, checked after every step
 * against the red-black invariants, the parent links and an in-order
 * walk; the two insert functions (by value, by timer value).
 */

#include <eg_unit.h>


#define EG_UNIT_NODES  512


typedef struct {
    eg_rbtree_node_t     node;
    eg_uint_t            seq;       /* order of insertion */
    eg_uint_t            in_tree;
} eg_unit_item_t;


static eg_rbtree_t       tree;
static eg_rbtree_node_t  sentinel;
static eg_unit_item_t    items[EG_UNIT_NODES];


static void
eg_unit_rbtree_setup(void)
{
    eg_memzero(items, sizeof(items));
    eg_rbtree_init(&tree, &sentinel, eg_rbtree_insert_value);
}


/* returns the black height of the subtree; asserts on any violation */
static eg_int_t
eg_unit_rbtree_check_node(eg_rbtree_node_t *node, eg_rbtree_node_t *parent,
    eg_uint_t *count)
{
    eg_int_t  lh, rh;

    if (node == &sentinel) {
        return 1;
    }

    eg_unit_require(node->parent == parent, "broken parent link at key %lu",
                    (unsigned long) node->key);

    eg_unit_require(eg_rbt_is_black(node)
                    || (eg_rbt_is_black(node->left)
                        && eg_rbt_is_black(node->right)),
                    "red node %lu has a red child",
                    (unsigned long) node->key);

    lh = eg_unit_rbtree_check_node(node->left, node, count);
    rh = eg_unit_rbtree_check_node(node->right, node, count);

    eg_unit_require(lh == rh, "black heights differ under key %lu",
                    (unsigned long) node->key);

    (*count)++;

    return lh + (eg_rbt_is_black(node) ? 1 : 0);
}


/* the invariants, then an in-order walk that must be sorted */
static void
eg_unit_rbtree_check(eg_uint_t expected, eg_uint_t timer_order)
{
    eg_uint_t          count, walked;
    eg_rbtree_node_t  *node, *prev;

    eg_unit_require(eg_rbt_is_black(&sentinel), "the sentinel turned red");
    eg_unit_require(eg_rbt_is_black(tree.root), "the root is red");

    count = 0;

    (void) eg_unit_rbtree_check_node(tree.root, NULL, &count);

    eg_unit_require(count == expected, "%lu nodes in the tree, not %lu",
                    (unsigned long) count, (unsigned long) expected);

    if (eg_rbtree_empty(&tree)) {
        return;
    }

    walked = 0;
    prev = NULL;

    for (node = eg_rbtree_min(tree.root, &sentinel);
         node;
         node = eg_rbtree_next(&tree, node))
    {
        if (prev) {
            eg_unit_require(timer_order
                            ? (eg_rbtree_key_int_t) (node->key - prev->key)
                              >= 0
                            : node->key >= prev->key,
                            "key %lu walked after key %lu",
                            (unsigned long) node->key,
                            (unsigned long) prev->key);
        }

        prev = node;
        walked++;
    }

    eg_unit_require(walked == expected, "walked %lu nodes, not %lu",
                    (unsigned long) walked, (unsigned long) expected);
}


START_TEST(empty_tree_has_the_sentinel_as_root)
{
    ck_assert(eg_rbtree_empty(&tree));
    eg_unit_rbtree_check(0, 0);
}
END_TEST


START_TEST(first_node_becomes_a_black_root)
{
    items[0].node.key = 42;
    eg_rbtree_insert(&tree, &items[0].node);

    ck_assert_ptr_eq(tree.root, &items[0].node);
    ck_assert(eg_rbt_is_black(tree.root));
    ck_assert_ptr_null(tree.root->parent);
    eg_unit_rbtree_check(1, 0);
}
END_TEST


START_TEST(ascending_inserts_stay_balanced)
{
    eg_uint_t          i, height;
    eg_rbtree_node_t  *node;

    for (i = 0; i < EG_UNIT_NODES; i++) {
        items[i].node.key = i;
        eg_rbtree_insert(&tree, &items[i].node);
        eg_unit_rbtree_check(i + 1, 0);
    }

    /* the leftmost path of a red-black tree is at most 2 log2(n + 1) */
    height = 0;

    for (node = tree.root; node != &sentinel; node = node->left) {
        height++;
    }

    ck_assert_uint_le(height, 2 * 9);
}
END_TEST


START_TEST(random_inserts_and_deletes_keep_the_invariants)
{
    uint64_t   state;
    eg_uint_t  i, op, n;

    state = 0x9e3779b97f4a7c15ULL;
    n = 0;

    for (op = 0; op < 6000; op++) {
        i = (eg_uint_t) (eg_unit_random(&state) % EG_UNIT_NODES);

        if (items[i].in_tree) {
            eg_rbtree_delete(&tree, &items[i].node);
            items[i].in_tree = 0;
            n--;

        } else {
            /* a small key range, so that equal keys are common */
            items[i].node.key = (eg_rbtree_key_t)
                                (eg_unit_random(&state) % 200);
            eg_rbtree_insert(&tree, &items[i].node);
            items[i].in_tree = 1;
            n++;
        }

        eg_unit_rbtree_check(n, 0);
    }

    ck_assert_uint_gt(n, 0);
}
END_TEST


START_TEST(deleting_every_node_empties_the_tree)
{
    uint64_t   state;
    eg_uint_t  i, j, order[EG_UNIT_NODES], tmp;

    for (i = 0; i < EG_UNIT_NODES; i++) {
        items[i].node.key = i * 7 % 101;
        eg_rbtree_insert(&tree, &items[i].node);
        order[i] = i;
    }

    /* delete in a shuffled order */
    state = 12345;

    for (i = EG_UNIT_NODES - 1; i > 0; i--) {
        j = (eg_uint_t) (eg_unit_random(&state) % (i + 1));
        tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }

    for (i = 0; i < EG_UNIT_NODES; i++) {
        eg_rbtree_delete(&tree, &items[order[i]].node);
        eg_unit_rbtree_check(EG_UNIT_NODES - i - 1, 0);
    }

    ck_assert(eg_rbtree_empty(&tree));
}
END_TEST


START_TEST(deleting_the_root_repeatedly_keeps_the_invariants)
{
    eg_uint_t  i;

    for (i = 0; i < 100; i++) {
        items[i].node.key = i;
        eg_rbtree_insert(&tree, &items[i].node);
    }

    for (i = 100; i > 0; i--) {
        eg_rbtree_delete(&tree, tree.root);
        eg_unit_rbtree_check(i - 1, 0);
    }

    ck_assert(eg_rbtree_empty(&tree));
}
END_TEST


START_TEST(deleted_node_is_unlinked)
{
    items[0].node.key = 1;
    items[1].node.key = 2;
    eg_rbtree_insert(&tree, &items[0].node);
    eg_rbtree_insert(&tree, &items[1].node);

    eg_rbtree_delete(&tree, &items[1].node);

    ck_assert_ptr_null(items[1].node.left);
    ck_assert_ptr_null(items[1].node.right);
    ck_assert_ptr_null(items[1].node.parent);
    eg_unit_rbtree_check(1, 0);
}
END_TEST


START_TEST(in_order_walk_visits_keys_sorted)
{
    eg_uint_t          i;
    eg_rbtree_key_t    expect;
    eg_rbtree_node_t  *node;

    for (i = 0; i < 64; i++) {
        items[i].node.key = (i * 37) % 64;     /* a permutation of 0..63 */
        eg_rbtree_insert(&tree, &items[i].node);
    }

    expect = 0;

    for (node = eg_rbtree_min(tree.root, &sentinel);
         node;
         node = eg_rbtree_next(&tree, node))
    {
        ck_assert_uint_eq(node->key, expect);
        expect++;
    }

    ck_assert_uint_eq(expect, 64);
}
END_TEST


START_TEST(next_of_the_largest_node_is_null)
{
    eg_uint_t  i;

    for (i = 0; i < 10; i++) {
        items[i].node.key = i;
        eg_rbtree_insert(&tree, &items[i].node);
    }

    ck_assert_ptr_null(eg_rbtree_next(&tree, &items[9].node));
    ck_assert_ptr_eq(eg_rbtree_min(tree.root, &sentinel), &items[0].node);
}
END_TEST


START_TEST(insert_value_keeps_equal_keys_in_insertion_order)
{
    eg_uint_t          i, seq;
    eg_unit_item_t    *item;
    eg_rbtree_node_t  *node;

    for (i = 0; i < 50; i++) {
        items[i].node.key = 5;
        items[i].seq = i;
        eg_rbtree_insert(&tree, &items[i].node);
    }

    seq = 0;

    for (node = eg_rbtree_min(tree.root, &sentinel);
         node;
         node = eg_rbtree_next(&tree, node))
    {
        item = eg_rbtree_data(node, eg_unit_item_t, node);
        ck_assert_uint_eq(item->seq, seq);
        seq++;
    }

    ck_assert_uint_eq(seq, 50);
}
END_TEST


START_TEST(insert_timer_value_orders_across_wrap_around)
{
    uint64_t           state;
    eg_uint_t          i, n;
    eg_rbtree_key_t    base;
    eg_rbtree_node_t  *node;

    eg_rbtree_init(&tree, &sentinel, eg_rbtree_insert_timer_value);

    /* keys on both sides of the wrap: base - 1000 .. base + 1000 */
    base = 0;
    state = 777;

    for (i = 0; i < 300; i++) {
        items[i].node.key = base - 1000
                            + (eg_rbtree_key_t) (eg_unit_random(&state)
                                                 % 2000);
        eg_rbtree_insert(&tree, &items[i].node);
    }

    eg_unit_rbtree_check(300, 1);

    /* the smallest key is the earliest, even though it is numerically big */
    node = eg_rbtree_min(tree.root, &sentinel);
    ck_assert_uint_gt(node->key, base + 1000);

    n = 0;

    for ( /* void */ ; node; node = eg_rbtree_next(&tree, node)) {
        n++;
    }

    ck_assert_uint_eq(n, 300);
}
END_TEST


START_TEST(insert_timer_value_keeps_the_invariants_under_deletes)
{
    uint64_t   state;
    eg_uint_t  i, op, n;

    eg_rbtree_init(&tree, &sentinel, eg_rbtree_insert_timer_value);

    state = 4242;
    n = 0;

    for (op = 0; op < 3000; op++) {
        i = (eg_uint_t) (eg_unit_random(&state) % 256);

        if (items[i].in_tree) {
            eg_rbtree_delete(&tree, &items[i].node);
            items[i].in_tree = 0;
            n--;

        } else {
            items[i].node.key = (eg_rbtree_key_t) -500
                                + (eg_rbtree_key_t) (eg_unit_random(&state)
                                                     % 1000);
            eg_rbtree_insert(&tree, &items[i].node);
            items[i].in_tree = 1;
            n++;
        }

        eg_unit_rbtree_check(n, 1);
    }
}
END_TEST


Suite *
eg_unit_rbtree_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("rbtree");

    tc = tcase_create("invariants");
    tcase_add_checked_fixture(tc, eg_unit_rbtree_setup, NULL);
    tcase_add_test(tc, empty_tree_has_the_sentinel_as_root);
    tcase_add_test(tc, first_node_becomes_a_black_root);
    tcase_add_test(tc, ascending_inserts_stay_balanced);
    tcase_add_test(tc, random_inserts_and_deletes_keep_the_invariants);
    tcase_add_test(tc, deleting_every_node_empties_the_tree);
    tcase_add_test(tc, deleting_the_root_repeatedly_keeps_the_invariants);
    tcase_add_test(tc, deleted_node_is_unlinked);
    suite_add_tcase(s, tc);

    tc = tcase_create("order");
    tcase_add_checked_fixture(tc, eg_unit_rbtree_setup, NULL);
    tcase_add_test(tc, in_order_walk_visits_keys_sorted);
    tcase_add_test(tc, next_of_the_largest_node_is_null);
    tcase_add_test(tc, insert_value_keeps_equal_keys_in_insertion_order);
    tcase_add_test(tc, insert_timer_value_orders_across_wrap_around);
    tcase_add_test(tc, insert_timer_value_keeps_the_invariants_under_deletes);
    suite_add_tcase(s, tc);

    return s;
}
