/*
 * Red-black tree (Cormen et al., "Introduction to Algorithms", ch. 13),
 * written with a shared sentinel leaf so that the fix-up loops never test
 * for NULL.  Invariants: the root and the sentinel are black, a red node
 * has black children, every path from a node to its leaves has the same
 * number of black nodes.  Together they bound the height by 2 log2(n + 1).
 */

#include <eg_config.h>
#include <eg_core.h>


static void eg_rbtree_rotate_left(eg_rbtree_node_t **root,
    eg_rbtree_node_t *sentinel, eg_rbtree_node_t *node);
static void eg_rbtree_rotate_right(eg_rbtree_node_t **root,
    eg_rbtree_node_t *sentinel, eg_rbtree_node_t *node);


void
eg_rbtree_insert(eg_rbtree_t *tree, eg_rbtree_node_t *node)
{
    eg_rbtree_node_t  **root, *uncle, *sentinel, *parent, *grand;

    root = &tree->root;
    sentinel = tree->sentinel;

    if (*root == sentinel) {
        node->parent = NULL;
        node->left = sentinel;
        node->right = sentinel;
        eg_rbt_black(node);
        *root = node;
        return;
    }

    tree->insert(*root, node, sentinel);

    /* restore the invariants: only "red node with red parent" can break */

    while (node != *root && eg_rbt_is_red(node->parent)) {
        parent = node->parent;
        grand = parent->parent;

        if (parent == grand->left) {
            uncle = grand->right;

            if (eg_rbt_is_red(uncle)) {
                eg_rbt_black(parent);
                eg_rbt_black(uncle);
                eg_rbt_red(grand);
                node = grand;
                continue;
            }

            if (node == parent->right) {
                node = parent;
                eg_rbtree_rotate_left(root, sentinel, node);
                parent = node->parent;
            }

            eg_rbt_black(parent);
            eg_rbt_red(grand);
            eg_rbtree_rotate_right(root, sentinel, grand);

        } else {
            uncle = grand->left;

            if (eg_rbt_is_red(uncle)) {
                eg_rbt_black(parent);
                eg_rbt_black(uncle);
                eg_rbt_red(grand);
                node = grand;
                continue;
            }

            if (node == parent->left) {
                node = parent;
                eg_rbtree_rotate_right(root, sentinel, node);
                parent = node->parent;
            }

            eg_rbt_black(parent);
            eg_rbt_red(grand);
            eg_rbtree_rotate_left(root, sentinel, grand);
        }
    }

    eg_rbt_black(*root);
}


void
eg_rbtree_insert_value(eg_rbtree_node_t *temp, eg_rbtree_node_t *node,
    eg_rbtree_node_t *sentinel)
{
    eg_rbtree_node_t  **p;

    for ( ;; ) {
        p = (node->key < temp->key) ? &temp->left : &temp->right;

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    eg_rbt_red(node);
}


void
eg_rbtree_insert_timer_value(eg_rbtree_node_t *temp, eg_rbtree_node_t *node,
    eg_rbtree_node_t *sentinel)
{
    eg_rbtree_node_t  **p;

    for ( ;; ) {

        /*
         * Compare as a signed difference so that the order stays right
         * when the key wraps around; timers never span half the range.
         */

        p = ((eg_rbtree_key_int_t) (node->key - temp->key) < 0)
            ? &temp->left : &temp->right;

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    eg_rbt_red(node);
}


void
eg_rbtree_delete(eg_rbtree_t *tree, eg_rbtree_node_t *node)
{
    eg_uint_t           red;
    eg_rbtree_node_t  **root, *sentinel, *subst, *temp, *w;

    root = &tree->root;
    sentinel = tree->sentinel;

    /* subst is the node that leaves its place; temp takes subst's place */

    if (node->left == sentinel) {
        temp = node->right;
        subst = node;

    } else if (node->right == sentinel) {
        temp = node->left;
        subst = node;

    } else {
        subst = eg_rbtree_min(node->right, sentinel);
        temp = subst->right;
    }

    if (subst == *root) {
        *root = temp;
        eg_rbt_black(temp);
        temp->parent = NULL;

        node->left = NULL;
        node->right = NULL;
        node->parent = NULL;
        node->key = 0;
        return;
    }

    red = eg_rbt_is_red(subst);

    if (subst == subst->parent->left) {
        subst->parent->left = temp;

    } else {
        subst->parent->right = temp;
    }

    if (subst == node) {
        temp->parent = subst->parent;

    } else {

        if (subst->parent == node) {
            temp->parent = subst;

        } else {
            temp->parent = subst->parent;
        }

        /* subst takes node's place, links and colour */

        subst->left = node->left;
        subst->right = node->right;
        subst->parent = node->parent;
        eg_rbt_copy_color(subst, node);

        if (node == *root) {
            *root = subst;

        } else if (node == node->parent->left) {
            node->parent->left = subst;

        } else {
            node->parent->right = subst;
        }

        if (subst->left != sentinel) {
            subst->left->parent = subst;
        }

        if (subst->right != sentinel) {
            subst->right->parent = subst;
        }
    }

    node->left = NULL;
    node->right = NULL;
    node->parent = NULL;
    node->key = 0;

    if (red) {
        return;
    }

    /* a black node left: temp carries an extra black to push up or out */

    while (temp != *root && eg_rbt_is_black(temp)) {

        if (temp == temp->parent->left) {
            w = temp->parent->right;

            if (eg_rbt_is_red(w)) {
                eg_rbt_black(w);
                eg_rbt_red(temp->parent);
                eg_rbtree_rotate_left(root, sentinel, temp->parent);
                w = temp->parent->right;
            }

            if (eg_rbt_is_black(w->left) && eg_rbt_is_black(w->right)) {
                eg_rbt_red(w);
                temp = temp->parent;
                continue;
            }

            if (eg_rbt_is_black(w->right)) {
                eg_rbt_black(w->left);
                eg_rbt_red(w);
                eg_rbtree_rotate_right(root, sentinel, w);
                w = temp->parent->right;
            }

            eg_rbt_copy_color(w, temp->parent);
            eg_rbt_black(temp->parent);
            eg_rbt_black(w->right);
            eg_rbtree_rotate_left(root, sentinel, temp->parent);
            temp = *root;

        } else {
            w = temp->parent->left;

            if (eg_rbt_is_red(w)) {
                eg_rbt_black(w);
                eg_rbt_red(temp->parent);
                eg_rbtree_rotate_right(root, sentinel, temp->parent);
                w = temp->parent->left;
            }

            if (eg_rbt_is_black(w->left) && eg_rbt_is_black(w->right)) {
                eg_rbt_red(w);
                temp = temp->parent;
                continue;
            }

            if (eg_rbt_is_black(w->left)) {
                eg_rbt_black(w->right);
                eg_rbt_red(w);
                eg_rbtree_rotate_left(root, sentinel, w);
                w = temp->parent->left;
            }

            eg_rbt_copy_color(w, temp->parent);
            eg_rbt_black(temp->parent);
            eg_rbt_black(w->left);
            eg_rbtree_rotate_right(root, sentinel, temp->parent);
            temp = *root;
        }
    }

    eg_rbt_black(temp);
}


static void
eg_rbtree_rotate_left(eg_rbtree_node_t **root, eg_rbtree_node_t *sentinel,
    eg_rbtree_node_t *node)
{
    eg_rbtree_node_t  *temp;

    temp = node->right;
    node->right = temp->left;

    if (temp->left != sentinel) {
        temp->left->parent = node;
    }

    temp->parent = node->parent;

    if (node == *root) {
        *root = temp;

    } else if (node == node->parent->left) {
        node->parent->left = temp;

    } else {
        node->parent->right = temp;
    }

    temp->left = node;
    node->parent = temp;
}


static void
eg_rbtree_rotate_right(eg_rbtree_node_t **root, eg_rbtree_node_t *sentinel,
    eg_rbtree_node_t *node)
{
    eg_rbtree_node_t  *temp;

    temp = node->left;
    node->left = temp->right;

    if (temp->right != sentinel) {
        temp->right->parent = node;
    }

    temp->parent = node->parent;

    if (node == *root) {
        *root = temp;

    } else if (node == node->parent->right) {
        node->parent->right = temp;

    } else {
        node->parent->left = temp;
    }

    temp->right = node;
    node->parent = temp;
}


eg_rbtree_node_t *
eg_rbtree_min(eg_rbtree_node_t *node, eg_rbtree_node_t *sentinel)
{
    while (node->left != sentinel) {
        node = node->left;
    }

    return node;
}


eg_rbtree_node_t *
eg_rbtree_next(eg_rbtree_t *tree, eg_rbtree_node_t *node)
{
    eg_rbtree_node_t  *root, *sentinel, *parent;

    sentinel = tree->sentinel;

    if (node->right != sentinel) {
        return eg_rbtree_min(node->right, sentinel);
    }

    root = tree->root;

    for ( ;; ) {
        parent = node->parent;

        if (node == root) {
            return NULL;
        }

        if (node == parent->left) {
            return parent;
        }

        node = parent;
    }
}
