/*
 * The cluster API: "cluster_members;" answers GET /cluster/members and
 * "discovery_health;" GET /cluster/discovery/health, as JSON with stable
 * field names (README, "HTTP endpoints").  Both render from a snapshot
 * of the membership view (eg_membership.h): the shared member table in
 * cluster mode, this node alone in single-node mode.
 *
 * Filters on members: ?state=alive,suspect and ?tag=KEY=VALUE or
 * ?tag=KEY (presence), repeatable; all of them must hold.  ?pretty
 * indents the output.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_http.h>
#include <eg_http_cluster_module.h>


#define EG_HTTP_CLUSTER_MAX_TAG_FILTERS  8


typedef struct {
    eg_uint_t            states;        /* bit per EG_MEMBER_*; 0: any */
    eg_uint_t            ntags;
    eg_keyval_t          tags[EG_HTTP_CLUSTER_MAX_TAG_FILTERS];
    unsigned             has_value[EG_HTTP_CLUSTER_MAX_TAG_FILTERS];
    eg_uint_t            pretty;
} eg_http_cluster_filter_t;


static char *eg_http_cluster_members(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static char *eg_http_discovery_health(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static eg_int_t eg_http_cluster_members_handler(eg_http_request_t *r);
static eg_int_t eg_http_discovery_health_handler(eg_http_request_t *r);


static eg_command_t  eg_http_cluster_commands[] = {

    { eg_string("cluster_members"),
      EG_HTTP_LOC_CONF|EG_CONF_NOARGS,
      eg_http_cluster_members,
      0,
      0,
      NULL },

    { eg_string("discovery_health"),
      EG_HTTP_LOC_CONF|EG_CONF_NOARGS,
      eg_http_discovery_health,
      0,
      0,
      NULL },

      eg_null_command
};


static eg_http_module_t  eg_http_cluster_module_ctx = {
    NULL,                                   /* preconfiguration */
    NULL,                                   /* postconfiguration */
    NULL,                                   /* create main configuration */
    NULL,                                   /* init main configuration */
    NULL,                                   /* create server configuration */
    NULL,                                   /* merge server configuration */
    NULL,                                   /* create location configuration */
    NULL                                    /* merge location configuration */
};


eg_module_t  eg_http_cluster_module = {
    EG_MODULE_V1,
    "eg_http_cluster_module",
    EG_HTTP_MODULE,                         /* module type */
    &eg_http_cluster_module_ctx,            /* module context */
    eg_http_cluster_commands,               /* module directives */
    NULL,                                   /* environment overrides */
    NULL,                                   /* init master */
    NULL,                                   /* init module */
    NULL,                                   /* init process */
    NULL,                                   /* exit process */
    NULL                                    /* exit master */
};


static char *
eg_http_cluster_set_handler(eg_conf_t *cf, eg_http_handler_pt handler)
{
    eg_http_core_loc_conf_t  *clcf;

    clcf = eg_http_conf_get_module_loc_conf(cf, eg_http_core_module);

    if (clcf->handler) {
        return "is duplicate: the location has a handler already";
    }

    clcf->handler = handler;

    return EG_CONF_OK;
}


static char *
eg_http_cluster_members(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_unused(cmd);
    eg_unused(conf);

    return eg_http_cluster_set_handler(cf, eg_http_cluster_members_handler);
}


static char *
eg_http_discovery_health(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_unused(cmd);
    eg_unused(conf);

    return eg_http_cluster_set_handler(cf, eg_http_discovery_health_handler);
}


/* %XX and '+' in a query value, in place; EG_ERROR on a bad escape */
static eg_int_t
eg_http_cluster_unescape(eg_str_t *s)
{
    u_char    *src, *dst, *last;
    eg_int_t   hi, lo;

    src = s->data;
    dst = s->data;
    last = s->data + s->len;

    while (src < last) {
        if (*src == '+') {
            *dst++ = ' ';
            src++;
            continue;
        }

        if (*src != '%') {
            *dst++ = *src++;
            continue;
        }

        if (last - src < 3) {
            return EG_ERROR;
        }

        hi = eg_hextoi(src + 1, 1);
        lo = eg_hextoi(src + 2, 1);

        if (hi == EG_ERROR || lo == EG_ERROR) {
            return EG_ERROR;
        }

        *dst++ = (u_char) (hi * 16 + lo);
        src += 3;
    }

    s->len = (size_t) (dst - s->data);

    return EG_OK;
}


static eg_int_t
eg_http_cluster_parse_args(eg_http_request_t *r, eg_http_cluster_filter_t *f)
{
    u_char     *p, *last, *start, *eq, *amp;
    eg_str_t    name, value, state;
    eg_uint_t   s;

    eg_memzero(f, sizeof(eg_http_cluster_filter_t));

    if (r->args.len == 0) {
        return EG_OK;
    }

    /* a copy: unescaping works in place */

    p = eg_pnalloc(r->pool, r->args.len);
    if (p == NULL) {
        return EG_ERROR;
    }

    eg_memcpy(p, r->args.data, r->args.len);
    last = p + r->args.len;

    while (p < last) {
        amp = eg_strlchr(p, last, '&');
        if (amp == NULL) {
            amp = last;
        }

        eq = eg_strlchr(p, amp, '=');

        name.data = p;
        name.len = (size_t) ((eq ? eq : amp) - p);

        value.data = eq ? eq + 1 : amp;
        value.len = (size_t) (amp - value.data);

        p = amp + 1;

        if (!eg_str_eq(&name, "state") && !eg_str_eq(&name, "tag")) {
            /* ?pretty, or a parameter caches and proxies add: not ours */
            if (eg_str_eq(&name, "pretty")) {
                f->pretty = 1;
            }

            continue;
        }

        if (eg_http_cluster_unescape(&value) != EG_OK) {
            return EG_DECLINED;
        }

        if (eg_str_eq(&name, "state")) {
            start = value.data;

            while (start <= value.data + value.len) {
                eq = eg_strlchr(start, value.data + value.len, ',');
                if (eq == NULL) {
                    eq = value.data + value.len;
                }

                state.data = start;
                state.len = (size_t) (eq - start);

                s = eg_member_state_by_name(&state);

                if (s == EG_MEMBER_STATES) {
                    return EG_DECLINED;
                }

                f->states |= 1u << s;
                start = eq + 1;
            }

            continue;
        }

        if (eg_str_eq(&name, "tag")) {
            if (f->ntags == EG_HTTP_CLUSTER_MAX_TAG_FILTERS || value.len == 0)
            {
                return EG_DECLINED;
            }

            eq = eg_strlchr(value.data, value.data + value.len, '=');

            f->tags[f->ntags].key.data = value.data;
            f->tags[f->ntags].key.len = (size_t) ((eq ? eq
                                                   : value.data + value.len)
                                                  - value.data);

            if (eq) {
                f->tags[f->ntags].value.data = eq + 1;
                f->tags[f->ntags].value.len = (size_t) (value.data + value.len
                                                        - eq - 1);
                f->has_value[f->ntags] = 1;
            }

            f->ntags++;
            continue;
        }

    }

    return EG_OK;
}


static eg_uint_t
eg_http_cluster_match(eg_member_info_t *m, eg_http_cluster_filter_t *f)
{
    eg_uint_t     i, j, found;
    eg_keyval_t  *kv;

    if (f->states && !(f->states & (1u << m->state))) {
        return 0;
    }

    for (i = 0; i < f->ntags; i++) {
        found = 0;
        kv = m->tags ? m->tags->elts : NULL;

        for (j = 0; m->tags && j < m->tags->nelts; j++) {
            if (eg_str_cmp(&kv[j].key, &f->tags[i].key) == 0
                && (!f->has_value[i]
                    || eg_str_cmp(&kv[j].value, &f->tags[i].value) == 0))
            {
                found = 1;
                break;
            }
        }

        if (!found) {
            return 0;
        }
    }

    return 1;
}


static json_t *
eg_http_json_str(eg_str_t *s)
{
    if (s->len == 0) {
        return json_null();
    }

    return json_stringn((const char *) s->data, s->len);
}


static json_t *
eg_http_json_time(time_t t)
{
    u_char  buf[EG_ISO8601_TIME_LEN + 1];

    if (t == 0) {
        return json_null();
    }

    (void) eg_iso8601_time(buf, t);
    buf[EG_ISO8601_TIME_LEN] = '\0';

    return json_string((char *) buf);
}


/* renders a JSON value into the request pool, sized exactly */
static eg_int_t
eg_http_send_json(eg_http_request_t *r, eg_uint_t status, json_t *json,
    eg_uint_t pretty)
{
    size_t     flags, len;
    eg_str_t   body;

    flags = JSON_COMPACT|JSON_ENSURE_ASCII;

    if (pretty) {
        flags = JSON_INDENT(2)|JSON_ENSURE_ASCII;
    }

    len = json_dumpb(json, NULL, 0, flags);

    if (len == 0) {
        return EG_ERROR;
    }

    body.data = eg_pnalloc(r->pool, len + 1);
    if (body.data == NULL) {
        return EG_ERROR;
    }

    body.len = json_dumpb(json, (char *) body.data, len, flags);
    body.data[body.len++] = '\n';

    return eg_http_send_response(r, status, &eg_http_json_type, &body);
}


static int
eg_http_cluster_cmp(const void *one, const void *two)
{
    const eg_member_info_t  *a = one, *b = two;

    return (int) eg_str_cmp((eg_str_t *) &a->id, (eg_str_t *) &b->id);
}


static eg_int_t
eg_http_cluster_members_handler(eg_http_request_t *r)
{
    json_t                    *root, *list, *counts, *m, *tags;
    eg_int_t                   rc;
    eg_uint_t                  i, j, count[EG_MEMBER_STATES];
    eg_keyval_t               *kv;
    eg_membership_t            ms;
    eg_member_info_t          *info;
    eg_http_cluster_filter_t   filter;

    if (!(r->method & (EG_HTTP_GET|EG_HTTP_HEAD))) {
        return EG_HTTP_NOT_ALLOWED;
    }

    rc = eg_http_cluster_parse_args(r, &filter);

    if (rc == EG_ERROR) {
        return EG_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == EG_DECLINED) {
        root = json_pack("{s:s}", "error",
                         "invalid filter: state must be alive, suspect, "
                         "dead or left; tag is KEY or KEY=VALUE");
        if (root == NULL) {
            return EG_ERROR;
        }

        rc = eg_http_send_json(r, EG_HTTP_BAD_REQUEST, root, 0);
        json_decref(root);
        return rc;
    }

    if (eg_membership_snapshot((eg_cycle_t *) eg_cycle, r->pool, &ms)
        != EG_OK)
    {
        return EG_HTTP_INTERNAL_SERVER_ERROR;
    }

    info = ms.members.elts;

    qsort(info, ms.members.nelts, sizeof(eg_member_info_t),
          eg_http_cluster_cmp);

    eg_memzero(count, sizeof(count));

    list = json_array();
    root = json_object();
    counts = json_object();

    if (list == NULL || root == NULL || counts == NULL) {
        goto failed;
    }

    for (i = 0; i < ms.members.nelts; i++) {
        count[info[i].state % EG_MEMBER_STATES]++;

        if (!eg_http_cluster_match(&info[i], &filter)) {
            continue;
        }

        tags = json_object();
        if (tags == NULL) {
            goto failed;
        }

        kv = info[i].tags ? info[i].tags->elts : NULL;

        for (j = 0; info[i].tags && j < info[i].tags->nelts; j++) {
            if (json_object_setn_new(tags, (const char *) kv[j].key.data,
                                     kv[j].key.len,
                                     json_stringn((const char *)
                                                  kv[j].value.data,
                                                  kv[j].value.len))
                != 0)
            {
                json_decref(tags);
                goto failed;
            }
        }

        m = json_pack("{s:o, s:o, s:s, s:I, s:o, s:o, s:b}",
                      "id", eg_http_json_str(&info[i].id),
                      "address", eg_http_json_str(&info[i].address),
                      "state", eg_member_states[info[i].state
                                                % EG_MEMBER_STATES],
                      "incarnation", (json_int_t) info[i].incarnation,
                      "tags", tags,
                      "last_change", eg_http_json_time(info[i].last_change),
                      "self", (int) info[i].self);

        if (m == NULL || json_array_append_new(list, m) != 0) {
            goto failed;
        }
    }

    for (i = 0; i < EG_MEMBER_STATES; i++) {
        if (json_object_set_new(counts, eg_member_states[i],
                                json_integer((json_int_t) count[i]))
            != 0)
        {
            goto failed;
        }
    }

    if (json_object_set_new(counts, "total",
                            json_integer((json_int_t) ms.members.nelts)) != 0
        || json_object_set_new(root, "mode",
                               json_string(ms.distributed ? "distributed"
                                                          : "single")) != 0
        || json_object_set_new(root, "cluster",
                               eg_http_json_str(&ms.cluster_name)) != 0
        || json_object_set_new(root, "self", eg_http_json_str(&ms.self))
           != 0
        || json_object_set_new(root, "counts", counts) != 0)
    {
        counts = NULL;
        goto failed;
    }

    counts = NULL;

    if (json_object_set_new(root, "members", list) != 0) {
        list = NULL;
        goto failed;
    }

    rc = eg_http_send_json(r, EG_HTTP_OK, root, filter.pretty);

    json_decref(root);

    return rc;

failed:

    json_decref(list);
    json_decref(counts);
    json_decref(root);

    return EG_HTTP_INTERNAL_SERVER_ERROR;
}


/* the discovery health document; the caller owns the reference */
json_t *
eg_http_cluster_discovery_json(void)
{
    json_t  *root;

    root = eg_discovery_health ? eg_discovery_health((eg_cycle_t *) eg_cycle)
                               : NULL;

    if (root) {
        return root;
    }

    /* single-node mode: nothing to discover, and nothing wrong */

    return json_pack("{s:b, s:n, s:i, s:i, s:n, s:n, s:[]}",
                     "enabled", 0,
                     "method",
                     "seeds_reachable", 0,
                     "seeds_total", 0,
                     "last_discovery",
                     "next_refresh",
                     "methods");
}


static eg_int_t
eg_http_discovery_health_handler(eg_http_request_t *r)
{
    json_t                    *root;
    eg_int_t                   rc;
    eg_http_cluster_filter_t   filter;

    if (!(r->method & (EG_HTTP_GET|EG_HTTP_HEAD))) {
        return EG_HTTP_NOT_ALLOWED;
    }

    if (eg_http_cluster_parse_args(r, &filter) == EG_ERROR) {
        return EG_HTTP_INTERNAL_SERVER_ERROR;
    }

    root = eg_http_cluster_discovery_json();
    if (root == NULL) {
        return EG_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = eg_http_send_json(r, EG_HTTP_OK, root, filter.pretty);

    json_decref(root);

    return rc;
}
