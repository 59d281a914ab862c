/*
 * Kubernetes discovery: the peers are the pods of a namespace that match
 * a label selector, as the API server lists them.
 *
 *     kubernetes namespace=NS label_selector=SEL [port=N]
 *                [api_server=URL] [token_file=PATH] [ca_file=PATH]
 *                [namespace_file=PATH] [refresh=TIME];
 *
 * Each parameter is also a directive of its own ("kubernetes_namespace
 * NS;"), which is what the environment overrides:
 *
 *     ENGRAM_CLUSTER_DISCOVERY_NAMESPACE        kubernetes_namespace
 *     ENGRAM_CLUSTER_DISCOVERY_LABEL_SELECTOR   kubernetes_label_selector
 *     ENGRAM_CLUSTER_KUBERNETES_PORT            kubernetes_port
 *     ENGRAM_CLUSTER_KUBERNETES_API_SERVER      kubernetes_api_server
 *     ENGRAM_CLUSTER_KUBERNETES_TOKEN_FILE      kubernetes_token_file
 *     ENGRAM_CLUSTER_KUBERNETES_CA_FILE         kubernetes_ca_file
 *     ENGRAM_CLUSTER_KUBERNETES_NAMESPACE_FILE  kubernetes_namespace_file
 *     ENGRAM_CLUSTER_KUBERNETES_REFRESH         kubernetes_refresh
 *
 * The method runs when "kubernetes" is in the "cluster" block or a label
 * selector is set (in the file or the environment): a pod's manifest can
 * turn it on with one variable.
 *
 * Inside a pod nothing else is needed: the API server is
 * https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, and the
 * service account's token, CA and namespace are the files Kubernetes
 * mounts in /var/run/secrets/kubernetes.io/serviceaccount/.  The token
 * is read again for every lookup, since Kubernetes rotates it (bound
 * tokens live an hour); so is the namespace file, when no namespace is
 * given.
 *
 * A lookup is GET /api/v1/namespaces/NS/pods?labelSelector=SEL over
 * HTTPS (eg_discovery_http.c), with the token as a bearer.  Of the pods
 * listed, those that run (status.phase "Running"), are Ready (the
 * condition "Ready" is "True") and are not being deleted
 * (metadata.deletionTimestamp unset) are peers, at their status.podIP and
 * the configured port, by default this node's gossip port: the pods of a
 * cluster share their configuration.  A pod that is not Ready yet is
 * found at a later round.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_discovery.h>
#include <eg_discovery_http.h>
#include <eg_discovery_http_int.h>
#include <eg_discovery_k8s_int.h>
#include <jansson.h>


#define EG_K8S_SA_DIR           "/var/run/secrets/kubernetes.io/serviceaccount"
#define EG_K8S_TOKEN_FILE       EG_K8S_SA_DIR "/token"
#define EG_K8S_CA_FILE          EG_K8S_SA_DIR "/ca.crt"
#define EG_K8S_NAMESPACE_FILE   EG_K8S_SA_DIR "/namespace"

#define EG_K8S_TIMEOUT          10000               /* ms, one request */
#define EG_K8S_MAX_BODY         (32 * 1024 * 1024)  /* a PodList */
#define EG_K8S_MAX_TOKEN        65536
#define EG_K8S_NAMESPACE_MAX    63                  /* a DNS label */

/* what a parameter holds, for its checks */
#define EG_K8S_NAMESPACE        1
#define EG_K8S_SELECTOR         2
#define EG_K8S_PORT             3
#define EG_K8S_URL              4
#define EG_K8S_PATH             5
#define EG_K8S_TIME             6


/* where a setting was made, for errors found when the block ends */
typedef struct {
    eg_str_t             file;
    eg_uint_t            line;
    const char          *env;
} eg_k8s_where_t;


typedef struct {
    eg_discovery_method_t  method;      /* in the chain when enabled */
    eg_uint_t            enabled;
    eg_uint_t            directive;     /* "kubernetes" was given */
    eg_uint_t            set;           /* the parameters given, by bit */
    eg_k8s_where_t       where;         /* of "kubernetes" or the selector */

    eg_str_t             ns;            /* empty: namespace_file's */
    eg_str_t             label_selector;
    eg_int_t             port;          /* EG_CONF_UNSET: the gossip port */
    eg_str_t             api_server;    /* without a trailing "/" */
    eg_str_t             token_file;
    eg_str_t             ca_file;       /* empty: the pod's, or the system's */
    eg_str_t             namespace_file;
    eg_msec_t            refresh;       /* EG_CONF_UNSET_MSEC: the chain's */
} eg_k8s_conf_t;


typedef struct {
    eg_str_t             name;          /* "namespace" */
    eg_uint_t            type;          /* EG_K8S_NAMESPACE, ... */
    size_t               offset;        /* in eg_k8s_conf_t */
} eg_k8s_param_t;


/* the method at run time, in the cluster process */
typedef struct {
    eg_discovery_method_t  *method;
    eg_k8s_conf_t          *conf;
    eg_dhttp_t             *http;       /* the request under way */
    eg_event_t              answer;     /* a failure before asking */
    u_char                  error[200];
} eg_k8s_t;


static void *eg_k8s_create_conf(eg_cycle_t *cycle);
static char *eg_k8s_init_conf(eg_cycle_t *cycle, void *conf);
static char *eg_k8s_directive(eg_conf_t *cf, eg_command_t *cmd, void *conf);
static char *eg_k8s_param_directive(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static char *eg_k8s_set(eg_conf_t *cf, eg_k8s_conf_t *kcf,
    eg_k8s_param_t *param, eg_str_t *value);
static void eg_k8s_where_set(eg_conf_t *cf, eg_k8s_where_t *w);
static eg_uint_t eg_k8s_valid_namespace(eg_str_t *ns);
static eg_int_t eg_k8s_init(eg_discovery_method_t *m);
static eg_int_t eg_k8s_lookup(eg_discovery_method_t *m);
static eg_int_t eg_k8s_request(eg_k8s_t *k, eg_pool_t *pool);
static eg_int_t eg_k8s_read(eg_k8s_t *k, eg_pool_t *pool, const char *what,
    eg_str_t *file, eg_str_t *value);
static u_char *eg_k8s_escape(u_char *dst, eg_str_t *src);
static void eg_k8s_answered(void *data, eg_int_t rc,
    eg_dhttp_response_t *res, const char *error);
static void eg_k8s_failed(eg_event_t *ev);
static void eg_k8s_cancel(eg_discovery_method_t *m);
static eg_uint_t eg_k8s_ready(json_t *pod);


static eg_k8s_param_t  eg_k8s_params[] = {
    { eg_string("namespace"), EG_K8S_NAMESPACE,
      offsetof(eg_k8s_conf_t, ns) },
    { eg_string("label_selector"), EG_K8S_SELECTOR,
      offsetof(eg_k8s_conf_t, label_selector) },
    { eg_string("port"), EG_K8S_PORT,
      offsetof(eg_k8s_conf_t, port) },
    { eg_string("api_server"), EG_K8S_URL,
      offsetof(eg_k8s_conf_t, api_server) },
    { eg_string("token_file"), EG_K8S_PATH,
      offsetof(eg_k8s_conf_t, token_file) },
    { eg_string("ca_file"), EG_K8S_PATH,
      offsetof(eg_k8s_conf_t, ca_file) },
    { eg_string("namespace_file"), EG_K8S_PATH,
      offsetof(eg_k8s_conf_t, namespace_file) },
    { eg_string("refresh"), EG_K8S_TIME,
      offsetof(eg_k8s_conf_t, refresh) },
    { eg_null_string, 0, 0 }
};


static eg_command_t  eg_k8s_commands[] = {

    { eg_string("kubernetes"),
      EG_CLUSTER_CONF|EG_CONF_ANY,
      eg_k8s_directive,
      0,
      0,
      NULL },

    { eg_string("kubernetes_namespace"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_k8s_param_directive,
      0,
      0,
      &eg_k8s_params[0] },

    { eg_string("kubernetes_label_selector"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_k8s_param_directive,
      0,
      0,
      &eg_k8s_params[1] },

    { eg_string("kubernetes_port"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_k8s_param_directive,
      0,
      0,
      &eg_k8s_params[2] },

    { eg_string("kubernetes_api_server"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_k8s_param_directive,
      0,
      0,
      &eg_k8s_params[3] },

    { eg_string("kubernetes_token_file"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_k8s_param_directive,
      0,
      0,
      &eg_k8s_params[4] },

    { eg_string("kubernetes_ca_file"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_k8s_param_directive,
      0,
      0,
      &eg_k8s_params[5] },

    { eg_string("kubernetes_namespace_file"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_k8s_param_directive,
      0,
      0,
      &eg_k8s_params[6] },

    { eg_string("kubernetes_refresh"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_k8s_param_directive,
      0,
      0,
      &eg_k8s_params[7] },

      eg_null_command
};


static eg_conf_env_t  eg_k8s_env[] = {
    { "ENGRAM_CLUSTER_DISCOVERY_NAMESPACE",
      eg_string("kubernetes_namespace"), 0 },
    { "ENGRAM_CLUSTER_DISCOVERY_LABEL_SELECTOR",
      eg_string("kubernetes_label_selector"), 0 },
    { "ENGRAM_CLUSTER_KUBERNETES_PORT",
      eg_string("kubernetes_port"), 0 },
    { "ENGRAM_CLUSTER_KUBERNETES_API_SERVER",
      eg_string("kubernetes_api_server"), 0 },
    { "ENGRAM_CLUSTER_KUBERNETES_TOKEN_FILE",
      eg_string("kubernetes_token_file"), 0 },
    { "ENGRAM_CLUSTER_KUBERNETES_CA_FILE",
      eg_string("kubernetes_ca_file"), 0 },
    { "ENGRAM_CLUSTER_KUBERNETES_NAMESPACE_FILE",
      eg_string("kubernetes_namespace_file"), 0 },
    { "ENGRAM_CLUSTER_KUBERNETES_REFRESH",
      eg_string("kubernetes_refresh"), 0 },
    { NULL, eg_null_string, 0 }
};


static eg_cluster_module_t  eg_discovery_k8s_module_ctx = {
    eg_string("kubernetes"),
    eg_k8s_create_conf,
    eg_k8s_init_conf
};


eg_module_t  eg_discovery_k8s_module = {
    EG_MODULE_V1,
    "eg_discovery_k8s_module",
    EG_CLUSTER_MODULE,                  /* module type */
    &eg_discovery_k8s_module_ctx,       /* module context */
    eg_k8s_commands,                    /* module directives */
    eg_k8s_env,                         /* environment overrides */
    NULL,                               /* init master */
    NULL,                               /* init module */
    NULL,                               /* init process */
    NULL,                               /* exit process */
    NULL                                /* exit master */
};


/* configuration */

static void *
eg_k8s_create_conf(eg_cycle_t *cycle)
{
    eg_k8s_conf_t  *kcf;

    kcf = eg_pcalloc(cycle->pool, sizeof(eg_k8s_conf_t));
    if (kcf == NULL) {
        return NULL;
    }

    kcf->port = EG_CONF_UNSET;
    kcf->refresh = EG_CONF_UNSET_MSEC;

    return kcf;
}


/* kubernetes namespace=default label_selector=app=engram ...; */
static char *
eg_k8s_directive(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_k8s_conf_t  *kcf = conf;

    u_char          *eq;
    eg_str_t        *value, v;
    eg_uint_t        i;
    eg_k8s_param_t  *param;

    if (kcf->directive) {
        return "is duplicate";
    }

    kcf->directive = 1;
    kcf->enabled = 1;
    eg_k8s_where_set(cf, &kcf->where);

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        /* the first "=": a selector has its own ("app=engram") */

        eq = eg_strlchr(value[i].data, value[i].data + value[i].len, '=');

        for (param = eg_k8s_params; eq && param->name.len; param++) {
            if (param->name.len == (size_t) (eq - value[i].data)
                && eg_strncmp(param->name.data, value[i].data,
                              param->name.len) == 0)
            {
                break;
            }
        }

        if (eq == NULL || param->name.len == 0) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid parameter \"%s\" in \"%s\", it must "
                              "be namespace=, label_selector=, port=, "
                              "api_server=, token_file=, ca_file=, "
                              "namespace_file= or refresh=",
                              value[i].data, cmd->name.data);
            return EG_CONF_ERROR;
        }

        v.data = eq + 1;
        v.len = value[i].len - param->name.len - 1;

        if (eg_k8s_set(cf, kcf, param, &v) != EG_CONF_OK) {
            return EG_CONF_ERROR;
        }
    }

    return EG_CONF_OK;
}


/* kubernetes_namespace default;  and the others, one parameter each */
static char *
eg_k8s_param_directive(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_k8s_conf_t  *kcf = conf;

    eg_str_t        *value;
    eg_k8s_param_t  *param;

    param = cmd->post;
    value = cf->args->elts;

    if (eg_k8s_set(cf, kcf, param, &value[1]) != EG_CONF_OK) {
        return EG_CONF_ERROR;
    }

    if (param->type == EG_K8S_SELECTOR && !kcf->directive) {
        /* a selector alone turns the method on: say where, for errors */
        kcf->enabled = 1;
        eg_k8s_where_set(cf, &kcf->where);
    }

    return EG_CONF_OK;
}


static char *
eg_k8s_set(eg_conf_t *cf, eg_k8s_conf_t *kcf, eg_k8s_param_t *param,
    eg_str_t *value)
{
    u_char          *p;
    eg_int_t         n;
    eg_uint_t        bit;
    eg_str_t        *field;
    const char      *err;
    eg_dhttp_url_t   u;

    bit = 1 << (param - eg_k8s_params);

    /* twice in the file is a mistake; the environment wins over the file */

    if ((kcf->set & bit) && cf->env == NULL) {
        eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                          "kubernetes \"%s\" is set twice",
                          param->name.data);
        return EG_CONF_ERROR;
    }

    kcf->set |= bit;

    field = (eg_str_t *) ((char *) kcf + param->offset);

    switch (param->type) {

    case EG_K8S_NAMESPACE:
        if (!eg_k8s_valid_namespace(value)) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid kubernetes namespace \"%.*s\": "
                              "lowercase letters, digits and \"-\", at "
                              "most 63", (int) value->len, value->data);
            return EG_CONF_ERROR;
        }

        *field = *value;
        return EG_CONF_OK;

    case EG_K8S_SELECTOR:
        for (p = value->data; p < value->data + value->len; p++) {
            if (*p < 0x20 || *p == 0x7f) {
                break;
            }
        }

        if (value->len == 0 || p < value->data + value->len) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid kubernetes label selector \"%.*s\"",
                              (int) value->len, value->data);
            return EG_CONF_ERROR;
        }

        *field = *value;
        return EG_CONF_OK;

    case EG_K8S_PORT:
        n = eg_atoi(value->data, value->len);

        if (n < 1 || n > 65535) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid kubernetes port \"%.*s\"",
                              (int) value->len, value->data);
            return EG_CONF_ERROR;
        }

        *(eg_int_t *) ((char *) kcf + param->offset) = n;
        return EG_CONF_OK;

    case EG_K8S_URL:

        /* the base URL: paths and queries are ours to add */

        if (eg_dhttp__parse_url(cf->pool, value, &u, &err) != EG_OK) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid kubernetes api_server \"%.*s\": %s",
                              (int) value->len, value->data, err);
            return EG_CONF_ERROR;
        }

        if (eg_strlchr(u.path.data, u.path.data + u.path.len, '?')) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid kubernetes api_server \"%.*s\": a "
                              "query has no place in it",
                              (int) value->len, value->data);
            return EG_CONF_ERROR;
        }

        *field = *value;

        while (field->len && field->data[field->len - 1] == '/') {
            field->len--;
        }

        return EG_CONF_OK;

    case EG_K8S_PATH:
        if (value->len == 0) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "empty kubernetes \"%s\"", param->name.data);
            return EG_CONF_ERROR;
        }

        /* NUL-terminated, relative to the configuration's directory */

        *field = *value;

        if (eg_conf_full_name(cf->cycle, field, 1) != EG_OK) {
            return EG_CONF_ERROR;
        }

        return EG_CONF_OK;

    default: /* EG_K8S_TIME */
        n = eg_parse_time(value, 1);

        if (n == EG_ERROR || n == 0) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid kubernetes refresh \"%.*s\", it "
                              "must be a time of more than 0",
                              (int) value->len, value->data);
            return EG_CONF_ERROR;
        }

        *(eg_msec_t *) ((char *) kcf + param->offset) = (eg_msec_t) n;
        return EG_CONF_OK;
    }
}


static void
eg_k8s_where_set(eg_conf_t *cf, eg_k8s_where_t *w)
{
    eg_memzero(w, sizeof(eg_k8s_where_t));

    w->env = cf->env;

    if (cf->conf_file) {
        w->file = cf->conf_file->name;
        w->line = cf->conf_file->line;
    }
}


/* RFC 1123 labels: a namespace goes into a path, so nothing else */
static eg_uint_t
eg_k8s_valid_namespace(eg_str_t *ns)
{
    size_t  i;

    if (ns->len == 0 || ns->len > EG_K8S_NAMESPACE_MAX
        || ns->data[0] == '-' || ns->data[ns->len - 1] == '-')
    {
        return 0;
    }

    for (i = 0; i < ns->len; i++) {
        if (!((ns->data[i] >= 'a' && ns->data[i] <= 'z')
              || (ns->data[i] >= '0' && ns->data[i] <= '9')
              || ns->data[i] == '-'))
        {
            return 0;
        }
    }

    return 1;
}


static char *
eg_k8s_init_conf(eg_cycle_t *cycle, void *conf)
{
    eg_k8s_conf_t  *kcf = conf;

    u_char                 *p;
    char                   *host, *port;
    size_t                  len;
    eg_conf_t               cf;
    eg_str_t                url;
    const char             *err;
    eg_conf_file_t          file;
    eg_dhttp_url_t          u;
    eg_discovery_method_t  *m;

    if (!kcf->enabled) {
        return EG_CONF_OK;
    }

    /* errors name the "kubernetes" directive, or the variable */

    eg_memzero(&cf, sizeof(eg_conf_t));
    cf.cycle = cycle;
    cf.pool = cycle->pool;
    cf.log = cycle->log;
    cf.env = kcf->where.env;

    if (kcf->where.env == NULL && kcf->where.file.data) {
        file.name = kcf->where.file;
        file.line = kcf->where.line;
        cf.conf_file = &file;
    }

    if (kcf->label_selector.len == 0) {
        eg_conf_log_error(EG_LOG_EMERG, &cf, 0,
                          "\"kubernetes\" needs a label_selector (or "
                          "ENGRAM_CLUSTER_DISCOVERY_LABEL_SELECTOR): "
                          "every pod of the namespace is not a peer");
        return EG_CONF_ERROR;
    }

    if (kcf->api_server.len == 0) {

        /* in a pod: the API server's service, from its environment */

        host = getenv("KUBERNETES_SERVICE_HOST");
        port = getenv("KUBERNETES_SERVICE_PORT");

        if (host == NULL || host[0] == '\0') {
            eg_conf_log_error(EG_LOG_EMERG, &cf, 0,
                              "\"kubernetes\" has no api_server, and "
                              "KUBERNETES_SERVICE_HOST is not set: outside "
                              "a pod, give api_server=");
            return EG_CONF_ERROR;
        }

        if (port == NULL || port[0] == '\0') {
            port = "443";
        }

        len = sizeof("https://[]:") - 1 + strlen(host) + strlen(port);

        url.data = eg_pnalloc(cycle->pool, len + 1);
        if (url.data == NULL) {
            return EG_CONF_ERROR;
        }

        p = eg_slprintf(url.data, url.data + len + 1,
                        strchr(host, ':') ? "https://[%s]:%s"
                                          : "https://%s:%s", host, port);
        url.len = (size_t) (p - url.data);

        if (eg_dhttp__parse_url(cycle->pool, &url, &u, &err) != EG_OK) {
            eg_conf_log_error(EG_LOG_EMERG, &cf, 0,
                              "the API server \"%s\" from "
                              "KUBERNETES_SERVICE_HOST and "
                              "KUBERNETES_SERVICE_PORT is invalid: %s",
                              url.data, err);
            return EG_CONF_ERROR;
        }

        kcf->api_server = url;
    }

    if (kcf->token_file.len == 0) {
        eg_str_set(&kcf->token_file, EG_K8S_TOKEN_FILE);
    }

    if (kcf->namespace_file.len == 0) {
        eg_str_set(&kcf->namespace_file, EG_K8S_NAMESPACE_FILE);
    }

    m = &kcf->method;

    m->name = "kubernetes";
    m->conf = kcf;
    m->refresh = (kcf->refresh == EG_CONF_UNSET_MSEC) ? 0 : kcf->refresh;
    m->init = eg_k8s_init;
    m->lookup = eg_k8s_lookup;
    m->cancel = eg_k8s_cancel;
    m->exit = eg_k8s_cancel;

    if (eg_discovery_add_method(cycle, m) != EG_OK) {
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;
}


/* the cluster process */

static eg_int_t
eg_k8s_init(eg_discovery_method_t *m)
{
    eg_k8s_t  *k;

    k = eg_pcalloc(eg_discovery_cycle(m)->pool, sizeof(eg_k8s_t));
    if (k == NULL) {
        return EG_ERROR;
    }

    k->method = m;
    k->conf = m->conf;

    k->answer.handler = eg_k8s_failed;
    k->answer.data = k;
    k->answer.log = eg_discovery_log(m);

    m->data = k;

    return EG_OK;
}


static eg_int_t
eg_k8s_lookup(eg_discovery_method_t *m)
{
    eg_int_t    rc;
    eg_k8s_t   *k;
    eg_pool_t  *pool;

    k = m->data;

    /* the chain cancels a lookup it gives up on; never two at once */
    eg_k8s_cancel(m);

    /* what the request needs is read now, and copied by the client */

    pool = eg_create_pool(4096, eg_discovery_log(m));
    if (pool == NULL) {
        return EG_ERROR;
    }

    k->error[0] = '\0';

    rc = eg_k8s_request(k, pool);

    eg_destroy_pool(pool);

    if (rc != EG_OK) {
        /* the chain hears of it later, never from inside lookup() */
        if (k->error[0] == '\0') {
            (void) eg_cpystrn(k->error, (u_char *) "the request to the API "
                              "server could not start", sizeof(k->error));
        }

        eg_post_event(&k->answer, &eg_posted_events);
    }

    return EG_OK;
}


static eg_int_t
eg_k8s_request(eg_k8s_t *k, eg_pool_t *pool)
{
    u_char              *p;
    eg_str_t             token, ns, *bearer;
    eg_k8s_conf_t       *kcf;
    eg_keyval_t         *kv;
    eg_dhttp_request_t   req;

    kcf = k->conf;

    /* the token rotates: read it for every request */

    if (eg_k8s_read(k, pool, "token", &kcf->token_file, &token) != EG_OK) {
        return EG_ERROR;
    }

    for (p = token.data; p < token.data + token.len; p++) {
        if (*p < 0x21 || *p > 0x7e) {
            (void) eg_slprintf(k->error, k->error + sizeof(k->error),
                               "the token file \"%s\" holds more than a "
                               "token", kcf->token_file.data);
            return EG_ERROR;
        }
    }

    if (kcf->ns.len) {
        ns = kcf->ns;

    } else {
        if (eg_k8s_read(k, pool, "namespace", &kcf->namespace_file, &ns)
            != EG_OK)
        {
            return EG_ERROR;
        }

        if (!eg_k8s_valid_namespace(&ns)) {
            (void) eg_slprintf(k->error, k->error + sizeof(k->error),
                               "the namespace file \"%s\" holds no "
                               "namespace", kcf->namespace_file.data);
            return EG_ERROR;
        }
    }

    eg_memzero(&req, sizeof(eg_dhttp_request_t));

    eg_str_set(&req.method, "GET");

    /* base "/api/v1/namespaces/" NS "/pods?labelSelector=" escaped */

    req.url.data = eg_pnalloc(pool, kcf->api_server.len
                                    + sizeof("/api/v1/namespaces/") - 1
                                    + ns.len
                                    + sizeof("/pods?labelSelector=") - 1
                                    + 3 * kcf->label_selector.len);
    if (req.url.data == NULL) {
        return EG_ERROR;
    }

    p = eg_cpymem(req.url.data, kcf->api_server.data, kcf->api_server.len);
    p = eg_cpymem(p, "/api/v1/namespaces/",
                  sizeof("/api/v1/namespaces/") - 1);
    p = eg_cpymem(p, ns.data, ns.len);
    p = eg_cpymem(p, "/pods?labelSelector=",
                  sizeof("/pods?labelSelector=") - 1);
    p = eg_k8s_escape(p, &kcf->label_selector);

    req.url.len = (size_t) (p - req.url.data);

    req.headers = eg_array_create(pool, 2, sizeof(eg_keyval_t));
    if (req.headers == NULL) {
        return EG_ERROR;
    }

    kv = eg_array_push(req.headers);
    if (kv == NULL) {
        return EG_ERROR;
    }

    eg_str_set(&kv->key, "Authorization");

    bearer = &kv->value;
    bearer->data = eg_pnalloc(pool, sizeof("Bearer ") - 1 + token.len);
    if (bearer->data == NULL) {
        return EG_ERROR;
    }

    p = eg_cpymem(bearer->data, "Bearer ", sizeof("Bearer ") - 1);
    p = eg_cpymem(p, token.data, token.len);
    bearer->len = (size_t) (p - bearer->data);

    kv = eg_array_push(req.headers);
    if (kv == NULL) {
        return EG_ERROR;
    }

    eg_str_set(&kv->key, "Accept");
    eg_str_set(&kv->value, "application/json");

    /* the CA: the one given, else the pod's, else the system's */

    if (kcf->ca_file.len) {
        req.ca_file = kcf->ca_file;

    } else if (access(EG_K8S_CA_FILE, R_OK) == 0) {
        eg_str_set(&req.ca_file, EG_K8S_CA_FILE);
    }

    req.verify = 1;
    req.timeout = EG_K8S_TIMEOUT;
    req.max_body = EG_K8S_MAX_BODY;

    k->http = eg_dhttp_fetch(&req, eg_discovery_resolver(k->method),
                             eg_k8s_answered, k,
                             eg_discovery_log(k->method));

    return k->http ? EG_OK : EG_ERROR;
}


/* a small file, without the blanks and newline around what it says */
static eg_int_t
eg_k8s_read(eg_k8s_t *k, eg_pool_t *pool, const char *what, eg_str_t *file,
    eg_str_t *value)
{
    u_char    *p;
    eg_err_t   err;

    eg_set_errno(0);

    if (eg_read_file(pool, (char *) file->data, value, EG_K8S_MAX_TOKEN)
        != EG_OK)
    {
        err = eg_errno;

        p = eg_slprintf(k->error, k->error + sizeof(k->error),
                        "cannot read the %s file \"%s\"", what, file->data);

        if (err) {
            (void) eg_log_errno(p, k->error + sizeof(k->error), err);

        } else {
            (void) eg_slprintf(p, k->error + sizeof(k->error),
                               ": not a file of at most %d bytes",
                               EG_K8S_MAX_TOKEN);
        }

        return EG_ERROR;
    }

    while (value->len && (value->data[0] == ' ' || value->data[0] == '\t'
                          || value->data[0] == '\r'
                          || value->data[0] == '\n'))
    {
        value->data++;
        value->len--;
    }

    while (value->len && (value->data[value->len - 1] == ' '
                          || value->data[value->len - 1] == '\t'
                          || value->data[value->len - 1] == '\r'
                          || value->data[value->len - 1] == '\n'))
    {
        value->len--;
    }

    if (value->len == 0) {
        (void) eg_slprintf(k->error, k->error + sizeof(k->error),
                           "the %s file \"%s\" is empty", what, file->data);
        return EG_ERROR;
    }

    return EG_OK;
}


/* RFC 3986: all but the unreserved characters percent-encoded */
static u_char *
eg_k8s_escape(u_char *dst, eg_str_t *src)
{
    u_char     c;
    size_t     i;
    static u_char  hex[] = "0123456789ABCDEF";

    for (i = 0; i < src->len; i++) {
        c = src->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9')
            || c == '-' || c == '.' || c == '_' || c == '~')
        {
            *dst++ = c;
            continue;
        }

        *dst++ = '%';
        *dst++ = hex[c >> 4];
        *dst++ = hex[c & 0x0f];
    }

    return dst;
}


static void
eg_k8s_answered(void *data, eg_int_t rc, eg_dhttp_response_t *res,
    const char *error)
{
    eg_k8s_t  *k = data;

    u_char                 *p, msg[160];
    in_port_t               port;
    eg_pool_t              *pool;
    eg_array_t             *peers;
    eg_discovery_method_t  *m;

    m = k->method;
    k->http = NULL;

    if (rc != EG_OK) {
        eg_discovery_done(m, EG_ERROR, NULL, 0, error);
        return;
    }

    if (res->status != 200) {
        p = eg_slprintf(k->error, k->error + sizeof(k->error),
                        "the API server answered %lu",
                        (unsigned long) res->status);

        if (eg_discovery_k8s__status(res->body.data, res->body.len, msg,
                                     sizeof(msg))
            == EG_OK)
        {
            (void) eg_slprintf(p, k->error + sizeof(k->error), ": %s", msg);
        }

        eg_discovery_done(m, EG_ERROR, NULL, 0, (char *) k->error);
        return;
    }

    pool = eg_create_pool(4096, eg_discovery_log(m));
    if (pool == NULL) {
        eg_discovery_done(m, EG_ERROR, NULL, 0, "out of memory");
        return;
    }

    peers = eg_array_create(pool, 8, sizeof(eg_swim_addr_t));
    if (peers == NULL) {
        eg_destroy_pool(pool);
        eg_discovery_done(m, EG_ERROR, NULL, 0, "out of memory");
        return;
    }

    port = (in_port_t) ((k->conf->port == EG_CONF_UNSET)
                        ? eg_discovery_self_addr(m)->port
                        : (eg_uint_t) k->conf->port);

    if (eg_discovery_k8s__pods(res->body.data, res->body.len, port, peers,
                               k->error, sizeof(k->error))
        != EG_OK)
    {
        eg_discovery_done(m, EG_ERROR, NULL, 0, (char *) k->error);

    } else {
        eg_discovery_done(m, EG_OK, peers, 0, NULL);
    }

    eg_destroy_pool(pool);
}


static void
eg_k8s_failed(eg_event_t *ev)
{
    eg_k8s_t  *k;

    k = ev->data;

    eg_discovery_done(k->method, EG_ERROR, NULL, 0, (char *) k->error);
}


static void
eg_k8s_cancel(eg_discovery_method_t *m)
{
    eg_k8s_t  *k;

    k = m->data;

    if (k == NULL) {
        return;
    }

    if (k->http) {
        eg_dhttp_cancel(k->http);
        k->http = NULL;
    }

    if (k->answer.posted) {
        eg_delete_posted_event(&k->answer);
    }
}


/* the API server's answers */

eg_int_t
eg_discovery_k8s__pods(u_char *json, size_t len, in_port_t port,
    eg_array_t *peers, u_char *err, size_t size)
{
    size_t           i;
    json_t          *root, *kind, *items, *pod, *ip;
    eg_str_t         text;
    socklen_t        socklen;
    json_error_t     jerr;
    eg_sockaddr_t    sa;
    eg_swim_addr_t  *a;

    root = json_loadb((const char *) json, len, 0, &jerr);

    if (root == NULL) {
        (void) eg_slprintf(err, err + size, "invalid JSON in the pod list "
                           "at line %d: %s", jerr.line, jerr.text);
        return EG_ERROR;
    }

    if (!json_is_object(root)) {
        (void) eg_slprintf(err, err + size, "the pod list is not a JSON "
                           "object");
        goto failed;
    }

    kind = json_object_get(root, "kind");

    if (kind && (!json_is_string(kind)
                 || strcmp(json_string_value(kind), "PodList") != 0))
    {
        (void) eg_slprintf(err, err + size, "the answer is a \"%.40s\", "
                           "not a PodList",
                           json_is_string(kind) ? json_string_value(kind)
                                                : "?");
        goto failed;
    }

    items = json_object_get(root, "items");

    if (items == NULL || json_is_null(items)) {
        json_decref(root);
        return EG_OK;   /* no pod matches */
    }

    if (!json_is_array(items)) {
        (void) eg_slprintf(err, err + size, "the \"items\" of the pod list "
                           "are not a list");
        goto failed;
    }

    json_array_foreach(items, i, pod) {

        if (!eg_k8s_ready(pod)) {
            continue;
        }

        ip = json_object_get(json_object_get(pod, "status"), "podIP");

        if (!json_is_string(ip)) {
            continue;   /* not scheduled yet, or host networking gone */
        }

        text.data = (u_char *) json_string_value(ip);
        text.len = json_string_length(ip);

        if (eg_parse_addr(&text, &sa, &socklen) != EG_OK) {
            continue;
        }

        a = eg_array_push(peers);
        if (a == NULL) {
            (void) eg_slprintf(err, err + size, "out of memory");
            goto failed;
        }

        eg_memzero(a, sizeof(eg_swim_addr_t));
        a->port = port;

        if (sa.sockaddr.sa_family == AF_INET) {
            a->family = 4;
            eg_memcpy(a->ip, &sa.sockaddr_in.sin_addr, 4);

        } else {
            a->family = 6;
            eg_memcpy(a->ip, &sa.sockaddr_in6.sin6_addr, 16);
        }
    }

    json_decref(root);

    return EG_OK;

failed:

    json_decref(root);

    return EG_ERROR;
}


/* Running, Ready, and not on its way out */
static eg_uint_t
eg_k8s_ready(json_t *pod)
{
    size_t   i;
    json_t  *meta, *status, *phase, *conds, *cond, *type, *value, *deleted;

    if (!json_is_object(pod)) {
        return 0;
    }

    meta = json_object_get(pod, "metadata");
    deleted = json_object_get(meta, "deletionTimestamp");

    if (deleted && !json_is_null(deleted)) {
        return 0;
    }

    status = json_object_get(pod, "status");
    phase = json_object_get(status, "phase");

    if (!json_is_string(phase)
        || strcmp(json_string_value(phase), "Running") != 0)
    {
        return 0;
    }

    conds = json_object_get(status, "conditions");

    json_array_foreach(conds, i, cond) {
        type = json_object_get(cond, "type");

        if (!json_is_string(type)
            || strcmp(json_string_value(type), "Ready") != 0)
        {
            continue;
        }

        value = json_object_get(cond, "status");

        return json_is_string(value)
               && strcmp(json_string_value(value), "True") == 0;
    }

    return 0;
}


eg_int_t
eg_discovery_k8s__status(u_char *json, size_t len, u_char *buf, size_t size)
{
    u_char        *p, *last;
    json_t        *root, *kind, *msg;
    const char    *text;
    json_error_t   jerr;

    if (size == 0) {
        return EG_DECLINED;
    }

    root = json_loadb((const char *) json, len, 0, &jerr);

    if (root == NULL) {
        return EG_DECLINED;
    }

    kind = json_object_get(root, "kind");
    msg = json_object_get(root, "message");

    if (!json_is_string(kind) || strcmp(json_string_value(kind), "Status")
        || !json_is_string(msg) || json_string_length(msg) == 0)
    {
        json_decref(root);
        return EG_DECLINED;
    }

    text = json_string_value(msg);

    /* the text ends up in a log line and in JSON: one printable line */

    last = buf + size - 1;

    for (p = buf; p < last && *text; p++, text++) {
        *p = ((u_char) *text < 0x20 || *text == 0x7f) ? ' ' : (u_char) *text;
    }

    *p = '\0';

    json_decref(root);

    return EG_OK;
}
