/*
 * Intrusive red-black tree.  Nodes embed an eg_rbtree_node_t; the tree
 * owns a sentinel (the shared black leaf) and an insert function that
 * places a new node by whatever order its users need: timers order by
 * expiry and allow equal keys, other trees break ties on a second key.
 */

#ifndef EG_RBTREE_H_INCLUDED
#define EG_RBTREE_H_INCLUDED


typedef eg_uint_t  eg_rbtree_key_t;
typedef eg_int_t   eg_rbtree_key_int_t;

typedef struct eg_rbtree_node_s  eg_rbtree_node_t;

struct eg_rbtree_node_s {
    eg_rbtree_key_t       key;      /* primary order */
    eg_rbtree_node_t     *left;
    eg_rbtree_node_t     *right;
    eg_rbtree_node_t     *parent;
    u_char                color;    /* 1 red, 0 black */
    u_char                data;     /* spare byte for the user */
};


typedef struct eg_rbtree_s  eg_rbtree_t;

/* places node under root as a plain binary search tree would */
typedef void (*eg_rbtree_insert_pt)(eg_rbtree_node_t *root,
    eg_rbtree_node_t *node, eg_rbtree_node_t *sentinel);

struct eg_rbtree_s {
    eg_rbtree_node_t     *root;
    eg_rbtree_node_t     *sentinel;
    eg_rbtree_insert_pt   insert;
};


#define eg_rbtree_init(tree, s, i)                                           \
    eg_rbtree_sentinel_init(s);                                              \
    (tree)->root = s;                                                        \
    (tree)->sentinel = s;                                                    \
    (tree)->insert = i

#define eg_rbtree_data(node, type, link)                                     \
    (type *) ((u_char *) (node) - offsetof(type, link))

#define eg_rbt_red(node)            ((node)->color = 1)
#define eg_rbt_black(node)          ((node)->color = 0)
#define eg_rbt_is_red(node)         ((node)->color)
#define eg_rbt_is_black(node)       (!eg_rbt_is_red(node))
#define eg_rbt_copy_color(n1, n2)   (n1->color = n2->color)

#define eg_rbtree_sentinel_init(node)  eg_rbt_black(node)

#define eg_rbtree_empty(tree)       ((tree)->root == (tree)->sentinel)


void eg_rbtree_insert(eg_rbtree_t *tree, eg_rbtree_node_t *node);
void eg_rbtree_delete(eg_rbtree_t *tree, eg_rbtree_node_t *node);

/* orders by key; equal keys go right, so insertion order is kept */
void eg_rbtree_insert_value(eg_rbtree_node_t *root, eg_rbtree_node_t *node,
    eg_rbtree_node_t *sentinel);

/* orders by key modulo wrap-around, for timers */
void eg_rbtree_insert_timer_value(eg_rbtree_node_t *root,
    eg_rbtree_node_t *node, eg_rbtree_node_t *sentinel);

eg_rbtree_node_t *eg_rbtree_min(eg_rbtree_node_t *node,
    eg_rbtree_node_t *sentinel);
eg_rbtree_node_t *eg_rbtree_next(eg_rbtree_t *tree, eg_rbtree_node_t *node);

#endif /* EG_RBTREE_H_INCLUDED */
