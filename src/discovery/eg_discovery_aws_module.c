/*
 * AWS EC2 discovery: the running instances that carry a tag are the
 * peers.
 *
 *     aws [region=R] tag_key=K tag_value=V [port=7946]
 *         [address=private|public] [endpoint=URL] [imds_endpoint=URL]
 *         [ca_file=PATH] [refresh=TIME];
 *
 * and aws_region, aws_tag_key, aws_tag_value, one setting each, which is
 * what ENGRAM_CLUSTER_AWS_REGION, ENGRAM_CLUSTER_AWS_TAG_KEY and
 * ENGRAM_CLUSTER_AWS_TAG_VALUE override (a tag key and value alone turn
 * the method on, as a container's environment would).
 *
 * A lookup, all of it in the cluster process's event loop:
 *
 *   1. Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 *      AWS_SESSION_TOKEN when they are set; else the instance's role,
 *      from the instance metadata service (IMDSv2): a session token
 *      (PUT /latest/api/token), the role's name (GET .../iam/
 *      security-credentials/), then its temporary keys (GET .../ROLE:
 *      JSON with AccessKeyId, SecretAccessKey, Token, Expiration).  They
 *      are kept, and fetched again once they expire in less than
 *      EG_AWS_CREDS_MARGIN; if that fails while the old ones still hold,
 *      the old ones are used.
 *   2. The region: the configured one, else IMDS's placement/region,
 *      asked once.
 *   3. DescribeInstances (POST, a form body, Signature Version 4) on
 *      https://ec2.REGION.amazonaws.com/ or endpoint=, filtered by the
 *      tag and instance-state-name=running, page after page while the
 *      answer has a nextToken.
 *   4. Each instance's privateIpAddress (or ipAddress) with the port is
 *      a peer; eg_discovery_done() gets them all.
 *
 * Any failure ends the lookup with a text for the health endpoint:
 * EC2's own <Code> and <Message> for an error answer ("HTTP 403
 * SignatureDoesNotMatch: ..."), what was wrong with an XML answer, or
 * what the HTTP client could not do (IMDS unreachable: not on EC2).
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_discovery.h>
#include <eg_discovery_http.h>
#include <eg_aws_sigv4.h>
#include <eg_discovery_aws_int.h>
#include <engram.h>

#include <expat.h>
#include <openssl/crypto.h>
#include <jansson.h>


#define EG_AWS_DEFAULT_IMDS      "http://169.254.169.254"
#define EG_AWS_EC2_VERSION       "2016-11-15"
#define EG_AWS_PAGE_SIZE         "100"
#define EG_AWS_PAGES_MAX         1000     /* of one lookup: 100000 hosts */
#define EG_AWS_CREDS_MARGIN      300      /* s: fetched again before */
#define EG_AWS_IMDS_TOKEN_TTL    "21600"  /* s: as the AWS SDKs ask */
#define EG_AWS_IMDS_TIMEOUT      2000     /* ms: it answers at once */
#define EG_AWS_EC2_TIMEOUT       20000    /* ms */
#define EG_AWS_IMDS_MAX_BODY     (64 * 1024)
#define EG_AWS_EC2_MAX_BODY      (32 * 1024 * 1024)
#define EG_AWS_ERROR_LEN         256


/* what a lookup is waiting for */
#define EG_AWS_IDLE              0
#define EG_AWS_IMDS_TOKEN        1
#define EG_AWS_IMDS_REGION       2
#define EG_AWS_IMDS_ROLE         3
#define EG_AWS_IMDS_CREDS        4
#define EG_AWS_EC2               5


/* where a setting was written, for the errors found when the block ends */
typedef struct {
    eg_str_t                 file;
    eg_uint_t                line;
    const char              *env;           /* or its variable */
} eg_aws_where_t;


/* an http[s]:// URL, taken apart */
typedef struct {
    eg_str_t                 url;           /* as given, without the path
                                               when it was only "/" */
    eg_str_t                 base;          /* scheme://host[:port] */
    eg_str_t                 host;          /* the Host header's value */
    eg_str_t                 path;          /* "/" at least */
    eg_uint_t                https;
} eg_aws_url_t;


typedef struct {
    eg_flag_t                enabled;
    eg_uint_t                directive;     /* "aws" was read */
    eg_str_t                 region;        /* empty: IMDS's */
    eg_str_t                 tag_key;
    eg_str_t                 tag_value;
    eg_int_t                 port;          /* EG_CONF_UNSET: the gossip
                                               port of this node */
    eg_int_t                 public;        /* address=public */
    eg_aws_url_t             endpoint;      /* url.len 0: the region's */
    eg_aws_url_t             imds;
    eg_str_t                 ca_file;
    eg_msec_t                refresh;
    eg_aws_where_t           where;         /* of "aws" or aws_tag_* */
    eg_discovery_method_t    method;        /* what the chain runs */
} eg_discovery_aws_conf_t;


/* the method at run time, in the cluster process */
typedef struct {
    eg_discovery_method_t   *method;
    eg_discovery_aws_conf_t *conf;
    eg_log_t                *log;
    eg_resolver_t           *resolver;
    eg_pool_t               *cycle_pool;    /* what lasts the process */

    /* the lookup under way */
    eg_uint_t                state;         /* EG_AWS_* */
    eg_dhttp_t              *http;          /* its request */
    eg_pool_t               *pool;          /* its memory: peers, pages */
    eg_array_t              *peers;         /* eg_swim_addr_t */
    eg_str_t                 imds_token;    /* in pool */
    eg_str_t                 role;          /* in pool */
    eg_str_t                 next_token;    /* in pool; empty: page 1 */
    eg_uint_t                pages;
    eg_uint_t                stale;         /* IMDS failed: the old keys */
    eg_aws_url_t             endpoint;      /* EC2's, once it is known */
    eg_event_t               answer;        /* a failure told from loop */
    u_char                   error[EG_AWS_ERROR_LEN];

    /* kept between lookups */
    u_char                   region[64];    /* from IMDS */
    size_t                   region_len;
    eg_pool_t               *creds_pool;    /* the IMDS credentials' */
    eg_aws_creds_t           creds;
    time_t                   creds_expire;  /* 0: from the environment */
    eg_uint_t                creds_env;     /* from the environment */
    eg_uint_t                creds_set;
} eg_discovery_aws_t;


static void *eg_discovery_aws_create_conf(eg_cycle_t *cycle);
static char *eg_discovery_aws_init_conf(eg_cycle_t *cycle, void *conf);
static char *eg_discovery_aws(eg_conf_t *cf, eg_command_t *cmd, void *conf);
static char *eg_discovery_aws_setting(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static char *eg_discovery_aws_param(eg_conf_t *cf,
    eg_discovery_aws_conf_t *acf, eg_str_t *name, eg_str_t *value);
static eg_int_t eg_discovery_aws_valid_region(eg_str_t *s);
static eg_int_t eg_discovery_aws_parse_url(eg_pool_t *pool, eg_str_t *text,
    eg_aws_url_t *u, const char **err);
static void eg_discovery_aws_where_set(eg_conf_t *cf,
    eg_discovery_aws_conf_t *acf);

static eg_int_t eg_discovery_aws_init(eg_discovery_method_t *m);
static eg_int_t eg_discovery_aws_lookup(eg_discovery_method_t *m);
static void eg_discovery_aws_cancel(eg_discovery_method_t *m);
static void eg_discovery_aws_exit(eg_discovery_method_t *m);

static void eg_discovery_aws_next(eg_discovery_aws_t *d);
static eg_int_t eg_discovery_aws_endpoint(eg_discovery_aws_t *d);
static eg_int_t eg_discovery_aws_need_creds(eg_discovery_aws_t *d);
static eg_int_t eg_discovery_aws_imds(eg_discovery_aws_t *d,
    eg_uint_t state, const char *method, const char *path,
    eg_str_t *extra);
static void eg_discovery_aws_imds_handler(void *data, eg_int_t rc,
    eg_dhttp_response_t *res, const char *error);
static eg_int_t eg_discovery_aws_imds_creds(eg_discovery_aws_t *d,
    eg_str_t *body);
static eg_int_t eg_discovery_aws_describe(eg_discovery_aws_t *d);
static void eg_discovery_aws_ec2_handler(void *data, eg_int_t rc,
    eg_dhttp_response_t *res, const char *error);
static eg_int_t eg_discovery_aws_push_header(eg_array_t *a,
    const char *name, eg_str_t *value);
static void eg_discovery_aws_verror(eg_discovery_aws_t *d, const char *fmt,
    va_list args);
static void eg_discovery_aws_error(eg_discovery_aws_t *d, const char *fmt,
    ...) EG_PRINTF(2, 3);
static void eg_discovery_aws_fail(eg_discovery_aws_t *d, const char *fmt,
    ...) EG_PRINTF(2, 3);
static void eg_discovery_aws_post(eg_discovery_aws_t *d);
static void eg_discovery_aws_answer(eg_event_t *ev);
static void eg_discovery_aws_finish(eg_discovery_aws_t *d, eg_int_t rc);
static void eg_discovery_aws_clear(eg_discovery_aws_t *d);
static eg_int_t eg_discovery_aws_copy(eg_pool_t *pool, eg_str_t *dst,
    u_char *src, size_t len);


static eg_command_t  eg_discovery_aws_commands[] = {

    { eg_string("aws"),
      EG_CLUSTER_CONF|EG_CONF_1MORE,
      eg_discovery_aws,
      0,
      0,
      NULL },

    { eg_string("aws_region"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_discovery_aws_setting,
      0,
      0,
      "region" },

    { eg_string("aws_tag_key"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_discovery_aws_setting,
      0,
      0,
      "tag_key" },

    { eg_string("aws_tag_value"),
      EG_CLUSTER_CONF|EG_CONF_TAKE1,
      eg_discovery_aws_setting,
      0,
      0,
      "tag_value" },

      eg_null_command
};


static eg_conf_env_t  eg_discovery_aws_env[] = {
    { "ENGRAM_CLUSTER_AWS_REGION", eg_string("aws_region"), 0 },
    { "ENGRAM_CLUSTER_AWS_TAG_KEY", eg_string("aws_tag_key"), 0 },
    { "ENGRAM_CLUSTER_AWS_TAG_VALUE", eg_string("aws_tag_value"), 0 },
    { NULL, eg_null_string, 0 }
};


static eg_cluster_module_t  eg_discovery_aws_module_ctx = {
    eg_string("aws"),
    eg_discovery_aws_create_conf,
    eg_discovery_aws_init_conf
};


eg_module_t  eg_discovery_aws_module = {
    EG_MODULE_V1,
    "eg_discovery_aws_module",
    EG_CLUSTER_MODULE,                  /* module type */
    &eg_discovery_aws_module_ctx,       /* module context */
    eg_discovery_aws_commands,          /* module directives */
    eg_discovery_aws_env,               /* environment overrides */
    NULL,                               /* init master */
    NULL,                               /* init module */
    NULL,                               /* init process */
    NULL,                               /* exit process */
    NULL                                /* exit master */
};


/* the configuration */

static void *
eg_discovery_aws_create_conf(eg_cycle_t *cycle)
{
    eg_discovery_aws_conf_t  *acf;

    acf = eg_pcalloc(cycle->pool, sizeof(eg_discovery_aws_conf_t));
    if (acf == NULL) {
        return NULL;
    }

    acf->enabled = EG_CONF_UNSET;
    acf->port = EG_CONF_UNSET;
    acf->public = EG_CONF_UNSET;
    acf->refresh = EG_CONF_UNSET_MSEC;

    return acf;
}


/* aws region=R tag_key=K tag_value=V ... */
static char *
eg_discovery_aws(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_discovery_aws_conf_t  *acf = conf;

    u_char     *eq;
    eg_str_t   *value, name, v;
    eg_uint_t   i, j;

    eg_unused(cmd);

    /*
     * "aws_tag_key" and the like may come first: only a second "aws"
     * is a duplicate
     */

    if (acf->directive) {
        return "is duplicate";
    }

    acf->directive = 1;
    acf->enabled = 1;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        eq = eg_strlchr(value[i].data, value[i].data + value[i].len, '=');

        if (eq == NULL) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid parameter \"%s\" in \"%s\" "
                              "directive, it must be NAME=VALUE",
                              value[i].data, value[0].data);
            return EG_CONF_ERROR;
        }

        name.data = value[i].data;
        name.len = (size_t) (eq - value[i].data);

        for (j = 1; j < i; j++) {
            if (value[j].len > name.len
                && value[j].data[name.len] == '='
                && eg_strncmp(value[j].data, name.data, name.len) == 0)
            {
                eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                                  "duplicate parameter \"%.*s\" in \"%s\" "
                                  "directive", (int) name.len, name.data,
                                  value[0].data);
                return EG_CONF_ERROR;
            }
        }
        v.data = eq + 1;
        v.len = value[i].len - name.len - 1;

        if (eg_discovery_aws_param(cf, acf, &name, &v) != EG_CONF_OK) {
            return EG_CONF_ERROR;
        }
    }

    eg_discovery_aws_where_set(cf, acf);

    return EG_CONF_OK;
}


/*
 * aws_region, aws_tag_key, aws_tag_value: one parameter of "aws", as a
 * directive of its own, so that an environment variable can override it
 * (it is applied once the block is read, over what "aws" said)
 */
static char *
eg_discovery_aws_setting(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_discovery_aws_conf_t  *acf = conf;

    eg_str_t  *value, name;

    value = cf->args->elts;

    name.data = cmd->post;
    name.len = eg_strlen(cmd->post);

    if (eg_discovery_aws_param(cf, acf, &name, &value[1]) != EG_CONF_OK) {
        return EG_CONF_ERROR;
    }

    if (name.data[0] == 't') {
        /* a tag names the instances to find: that is enough to run */
        if (acf->enabled == EG_CONF_UNSET) {
            acf->enabled = 1;
        }

        eg_discovery_aws_where_set(cf, acf);
    }

    return EG_CONF_OK;
}


static char *
eg_discovery_aws_param(eg_conf_t *cf, eg_discovery_aws_conf_t *acf,
    eg_str_t *name, eg_str_t *value)
{
    eg_int_t       n;
    eg_str_t      *args;
    const char    *err;
    eg_aws_url_t  *u;

    args = cf->args->elts;

    if (eg_str_eq(name, "region")) {
        if (eg_discovery_aws_valid_region(value) != EG_OK) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid region \"" EG_STR_FMT "\" in \"%s\" "
                              "directive, it must be a name such as "
                              "\"us-east-1\"", EG_STR_ARG(*value),
                              args[0].data);
            return EG_CONF_ERROR;
        }

        acf->region = *value;
        return EG_CONF_OK;
    }

    if (eg_str_eq(name, "tag_key") || eg_str_eq(name, "tag_value")) {

        /* EC2's limits: keys up to 128 characters, values up to 256 */
        if (value->len == 0 || value->len > (name->data[4] == 'k' ? 128 : 256))
        {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid %.*s \"" EG_STR_FMT "\" in \"%s\" "
                              "directive, it must have 1 to %d characters",
                              (int) name->len, name->data,
                              EG_STR_ARG(*value), args[0].data,
                              name->data[4] == 'k' ? 128 : 256);
            return EG_CONF_ERROR;
        }

        if (name->data[4] == 'k') {
            acf->tag_key = *value;

        } else {
            acf->tag_value = *value;
        }

        return EG_CONF_OK;
    }

    if (eg_str_eq(name, "port")) {
        n = eg_atoi(value->data, value->len);

        if (n == EG_ERROR || n < 1 || n > 65535) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid port \"" EG_STR_FMT "\" in \"%s\" "
                              "directive, it must be 1 to 65535",
                              EG_STR_ARG(*value), args[0].data);
            return EG_CONF_ERROR;
        }

        acf->port = n;
        return EG_CONF_OK;
    }

    if (eg_str_eq(name, "address")) {
        if (eg_str_eq(value, "private")) {
            acf->public = 0;

        } else if (eg_str_eq(value, "public")) {
            acf->public = 1;

        } else {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid address \"" EG_STR_FMT "\" in \"%s\" "
                              "directive, it must be \"private\" or "
                              "\"public\"", EG_STR_ARG(*value),
                              args[0].data);
            return EG_CONF_ERROR;
        }

        return EG_CONF_OK;
    }

    if (eg_str_eq(name, "endpoint") || eg_str_eq(name, "imds_endpoint")) {
        u = (name->data[0] == 'e') ? &acf->endpoint : &acf->imds;

        if (eg_discovery_aws_parse_url(cf->pool, value, u, &err) != EG_OK) {
            goto bad_url;
        }

        if (u == &acf->imds && !eg_str_eq(&u->path, "/")) {
            /* IMDS's paths are fixed: a prefix would be a mistake */
            err = "it must have no path";
            goto bad_url;
        }

        return EG_CONF_OK;
    }

    if (eg_str_eq(name, "ca_file")) {
        if (value->len == 0) {
            goto invalid;
        }

        acf->ca_file = *value;

        if (eg_conf_full_name(cf->cycle, &acf->ca_file, 1) != EG_OK) {
            return EG_CONF_ERROR;
        }

        return EG_CONF_OK;
    }

    if (eg_str_eq(name, "refresh")) {
        n = eg_parse_time(value, 1);

        if (n == EG_ERROR || n == 0) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid refresh \"" EG_STR_FMT "\" in \"%s\" "
                              "directive, it must be a time of more than 0",
                              EG_STR_ARG(*value), args[0].data);
            return EG_CONF_ERROR;
        }

        acf->refresh = (eg_msec_t) n;
        return EG_CONF_OK;
    }

invalid:

    eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                      "invalid parameter \"" EG_STR_FMT "=" EG_STR_FMT "\" "
                      "in \"%s\" directive", EG_STR_ARG(*name),
                      EG_STR_ARG(*value), args[0].data);

    return EG_CONF_ERROR;

bad_url:

    eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                      "invalid %.*s \"" EG_STR_FMT "\" in \"%s\" directive: %s",
                      (int) name->len, name->data, EG_STR_ARG(*value),
                      args[0].data, err);

    return EG_CONF_ERROR;
}


/* "us-east-1", "cn-north-1", "us-gov-west-1": it goes into a host name */
static eg_int_t
eg_discovery_aws_valid_region(eg_str_t *s)
{
    u_char  *p;

    if (s->len == 0 || s->len > 32 || s->data[0] == '-'
        || s->data[s->len - 1] == '-')
    {
        return EG_ERROR;
    }

    for (p = s->data; p < s->data + s->len; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
              || *p == '-'))
        {
            return EG_ERROR;
        }
    }

    return EG_OK;
}


/*
 * http[s]://host[:port][/path]: the base and path are sent, the host
 * (the port only when it is not the scheme's) is signed: it must be what
 * the client sends as Host, byte for byte
 */
static eg_int_t
eg_discovery_aws_parse_url(eg_pool_t *pool, eg_str_t *text, eg_aws_url_t *u,
    const char **err)
{
    u_char     *p, *last, *host, *host_end, *port;
    size_t      len;
    eg_int_t    n;
    eg_uint_t   i, https;

    p = text->data;
    last = p + text->len;

    if (text->len > 7 && eg_strncasecmp(p, (u_char *) "http://", 7) == 0) {
        https = 0;
        p += 7;

    } else if (text->len > 8
               && eg_strncasecmp(p, (u_char *) "https://", 8) == 0)
    {
        https = 1;
        p += 8;

    } else {
        *err = "it must start with \"http://\" or \"https://\"";
        return EG_ERROR;
    }

    host = p;

    if (p < last && *p == '[') {
        while (p < last && *p != ']') {
            p++;
        }

        if (p == last) {
            *err = "the IPv6 address has no \"]\"";
            return EG_ERROR;
        }

        p++;

    } else {
        while (p < last && *p != ':' && *p != '/' && *p != '?' && *p != '#'
               && *p != '@')
        {
            p++;
        }
    }

    host_end = p;

    if (host_end == host) {
        *err = "it has no host";
        return EG_ERROR;
    }

    port = NULL;
    n = https ? 443 : 80;

    if (p < last && *p == ':') {
        port = ++p;

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }

        n = eg_atoi(port, (size_t) (p - port));

        if (n == EG_ERROR || n < 1 || n > 65535) {
            *err = "the port must be 1 to 65535";
            return EG_ERROR;
        }
    }

    if (p < last && *p != '/') {
        *err = "it must be scheme://host[:port][/path], without user, "
               "query or fragment";
        return EG_ERROR;
    }

    for (i = 0; p + i < last; i++) {
        if (p[i] == '?' || p[i] == '#' || p[i] <= 0x20 || p[i] >= 0x7f) {
            *err = "the path must have no query, fragment or blanks";
            return EG_ERROR;
        }
    }

    u->https = https;

    u->base.len = (size_t) (host_end - text->data)
                  + (port ? (size_t) (p - port) + 1 : 0);
    u->base.data = text->data;

    if (p == last) {
        eg_str_set(&u->path, "/");

    } else {
        u->path.data = p;
        u->path.len = (size_t) (last - p);
    }

    /* the Host header, as eg_discovery_http.c writes it */

    /* eg_slprintf() terminates: room for the NUL too */
    len = (size_t) (host_end - host) + sizeof(":65535");

    u->host.data = eg_pnalloc(pool, len);
    if (u->host.data == NULL) {
        *err = "out of memory";
        return EG_ERROR;
    }

    /* as written: the client sends it so, and EC2 checks what it gets */
    eg_memcpy(u->host.data, host, (size_t) (host_end - host));
    u->host.len = (size_t) (host_end - host);

    if (port && n != (https ? 443 : 80)) {
        u->host.len = (size_t) (eg_slprintf(u->host.data + u->host.len,
                                            u->host.data + len, ":%d",
                                            (int) n)
                                - u->host.data);
    }

    u->url = *text;

    return EG_OK;
}


static void
eg_discovery_aws_where_set(eg_conf_t *cf, eg_discovery_aws_conf_t *acf)
{
    acf->where.env = cf->env;

    if (cf->conf_file) {
        acf->where.file = cf->conf_file->name;
        acf->where.line = cf->conf_file->line;
    }
}


static char *
eg_discovery_aws_init_conf(eg_cycle_t *cycle, void *conf)
{
    eg_discovery_aws_conf_t  *acf = conf;

    eg_str_t                imds = eg_string(EG_AWS_DEFAULT_IMDS);
    eg_conf_t               cf;
    const char             *err;
    eg_conf_file_t          file;
    eg_discovery_method_t  *m;

    eg_conf_init_value(acf->enabled, 0);

    if (!acf->enabled) {
        return EG_CONF_OK;
    }

    if (acf->tag_key.len == 0 || acf->tag_value.len == 0) {
        eg_memzero(&cf, sizeof(eg_conf_t));
        cf.cycle = cycle;
        cf.log = cycle->log;

        file.name = acf->where.file;
        file.line = acf->where.line;
        cf.env = acf->where.env;
        cf.conf_file = (cf.env == NULL && file.name.data) ? &file : NULL;

        eg_conf_log_error(EG_LOG_EMERG, &cf, 0,
                          "aws discovery needs the tag of the instances "
                          "to find: \"tag_key=\" and \"tag_value=\" of "
                          "\"aws\" (or ENGRAM_CLUSTER_AWS_TAG_KEY and "
                          "ENGRAM_CLUSTER_AWS_TAG_VALUE)");
        return EG_CONF_ERROR;
    }

    eg_conf_init_value(acf->public, 0);
    eg_conf_init_msec_value(acf->refresh, 0);

    if (acf->imds.url.len == 0
        && eg_discovery_aws_parse_url(cycle->pool, &imds, &acf->imds, &err)
           != EG_OK)
    {
        return EG_CONF_ERROR;
    }

    m = &acf->method;

    m->name = "aws";
    m->conf = acf;
    m->refresh = acf->refresh;
    m->init = eg_discovery_aws_init;
    m->lookup = eg_discovery_aws_lookup;
    m->cancel = eg_discovery_aws_cancel;
    m->exit = eg_discovery_aws_exit;

    if (eg_discovery_add_method(cycle, m) != EG_OK) {
        return EG_CONF_ERROR;
    }

    return EG_CONF_OK;
}


/* the method, in the cluster process */

static eg_int_t
eg_discovery_aws_init(eg_discovery_method_t *m)
{
    char                     *id, *secret, *token;
    eg_cycle_t               *cycle;
    eg_discovery_aws_t       *d;
    eg_discovery_aws_conf_t  *acf;

    cycle = eg_discovery_cycle(m);
    acf = m->conf;

    d = eg_pcalloc(cycle->pool, sizeof(eg_discovery_aws_t));
    if (d == NULL) {
        return EG_ERROR;
    }

    d->method = m;
    d->conf = acf;
    d->log = eg_discovery_log(m);
    d->resolver = eg_discovery_resolver(m);
    d->cycle_pool = cycle->pool;

    d->answer.handler = eg_discovery_aws_answer;
    d->answer.data = d;
    d->answer.log = d->log;
    d->answer.cancelable = 1;

    /* the environment does not change under a process: read it once */

    id = getenv("AWS_ACCESS_KEY_ID");
    secret = getenv("AWS_SECRET_ACCESS_KEY");
    token = getenv("AWS_SESSION_TOKEN");

    if (id && id[0] && secret && secret[0]) {
        d->creds.access_key.data = (u_char *) id;
        d->creds.access_key.len = eg_strlen(id);
        d->creds.secret_key.data = (u_char *) secret;
        d->creds.secret_key.len = eg_strlen(secret);

        if (token && token[0]) {
            d->creds.token.data = (u_char *) token;
            d->creds.token.len = eg_strlen(token);
        }

        d->creds_env = 1;
        d->creds_set = 1;

    } else if ((id && id[0]) || (secret && secret[0])) {
        eg_log_error(EG_LOG_WARN, d->log, 0,
                     "aws discovery: only one of AWS_ACCESS_KEY_ID and "
                     "AWS_SECRET_ACCESS_KEY is set, both are ignored and "
                     "the credentials come from the instance's role");
    }

    m->data = d;

    eg_log_error(EG_LOG_NOTICE, d->log, 0,
                 "aws discovery of the instances tagged " EG_STR_FMT "="
                 EG_STR_FMT " in %s%.*s, credentials from %s",
                 EG_STR_ARG(acf->tag_key), EG_STR_ARG(acf->tag_value),
                 acf->region.len ? "" : "the region of the instance",
                 (int) acf->region.len, acf->region.data,
                 d->creds_env ? "the environment" : "the instance's role");

    return EG_OK;
}


static eg_int_t
eg_discovery_aws_lookup(eg_discovery_method_t *m)
{
    eg_discovery_aws_t  *d = m->data;

    if (d == NULL) {
        return EG_ERROR;
    }

    eg_discovery_aws_clear(d);

    d->pool = eg_create_pool(4096, d->log);
    if (d->pool == NULL) {
        return EG_ERROR;
    }

    d->peers = eg_array_create(d->pool, 8, sizeof(eg_swim_addr_t));
    if (d->peers == NULL) {
        eg_destroy_pool(d->pool);
        d->pool = NULL;
        return EG_ERROR;
    }

    eg_discovery_aws_next(d);

    return EG_OK;
}


static void
eg_discovery_aws_cancel(eg_discovery_method_t *m)
{
    eg_discovery_aws_t  *d = m->data;

    if (d != NULL) {
        eg_discovery_aws_clear(d);
    }
}


static void
eg_discovery_aws_exit(eg_discovery_method_t *m)
{
    eg_discovery_aws_t  *d = m->data;

    if (d == NULL) {
        return;
    }

    eg_discovery_aws_clear(d);

    if (d->creds_pool) {
        /* the keys must not linger in freed memory */
        OPENSSL_cleanse(d->creds.secret_key.data, d->creds.secret_key.len);
        eg_destroy_pool(d->creds_pool);
        d->creds_pool = NULL;
    }

    m->data = NULL;
}


/* stops what is under way and frees the lookup's memory */
static void
eg_discovery_aws_clear(eg_discovery_aws_t *d)
{
    if (d->http) {
        eg_dhttp_cancel(d->http);
        d->http = NULL;
    }

    if (d->answer.posted) {
        eg_delete_posted_event(&d->answer);
    }

    if (d->pool) {
        eg_destroy_pool(d->pool);
        d->pool = NULL;
    }

    d->peers = NULL;
    d->state = EG_AWS_IDLE;
    d->pages = 0;
    d->stale = 0;
    eg_str_null(&d->imds_token);
    eg_str_null(&d->role);
    eg_str_null(&d->next_token);
}


/*
 * The next step of a lookup: what is missing is asked for, in order (an
 * IMDS token, the region, the role, its keys), then the pages of EC2.
 */
static void
eg_discovery_aws_next(eg_discovery_aws_t *d)
{
    eg_discovery_aws_conf_t  *acf = d->conf;

    if (acf->region.len == 0 && d->region_len == 0) {
        if (d->imds_token.len == 0) {
            (void) eg_discovery_aws_imds(d, EG_AWS_IMDS_TOKEN, "PUT",
                                         "/latest/api/token", NULL);
            return;
        }

        (void) eg_discovery_aws_imds(d, EG_AWS_IMDS_REGION, "GET",
                                     "/latest/meta-data/placement/region",
                                     NULL);
        return;
    }

    if (eg_discovery_aws_need_creds(d)) {
        if (d->imds_token.len == 0) {
            (void) eg_discovery_aws_imds(d, EG_AWS_IMDS_TOKEN, "PUT",
                                         "/latest/api/token", NULL);
            return;
        }

        if (d->role.len == 0) {
            (void) eg_discovery_aws_imds(d, EG_AWS_IMDS_ROLE, "GET",
                              "/latest/meta-data/iam/security-credentials/",
                              NULL);
            return;
        }

        (void) eg_discovery_aws_imds(d, EG_AWS_IMDS_CREDS, "GET",
                              "/latest/meta-data/iam/security-credentials/",
                              &d->role);
        return;
    }

    if (d->endpoint.url.len == 0 && eg_discovery_aws_endpoint(d) != EG_OK) {
        eg_discovery_aws_fail(d, "out of memory");
        return;
    }

    (void) eg_discovery_aws_describe(d);
}


/*
 * EC2's endpoint: endpoint=, or https://ec2.REGION.amazonaws.com (China's
 * regions have a domain of their own).  Built once: the region does not
 * change under a process.
 */
static eg_int_t
eg_discovery_aws_endpoint(eg_discovery_aws_t *d)
{
    u_char      *p;
    eg_str_t     region, url;
    const char  *err;

    if (d->conf->endpoint.url.len) {
        d->endpoint = d->conf->endpoint;
        return EG_OK;
    }

    region = d->conf->region;

    if (region.len == 0) {
        region.data = d->region;
        region.len = d->region_len;
    }

    url.len = sizeof("https://ec2..amazonaws.com.cn") - 1 + region.len;

    url.data = eg_pnalloc(d->cycle_pool, url.len + 1);
    if (url.data == NULL) {
        return EG_ERROR;
    }

    p = eg_slprintf(url.data, url.data + url.len + 1,
                    "https://ec2." EG_STR_FMT ".amazonaws.com%s",
                    EG_STR_ARG(region),
                    (region.len > 3 && eg_strncmp(region.data, "cn-", 3) == 0)
                    ? ".cn" : "");

    url.len = (size_t) (p - url.data);

    return eg_discovery_aws_parse_url(d->cycle_pool, &url, &d->endpoint,
                                      &err);
}


/* true while the keys are missing or about to expire */
static eg_int_t
eg_discovery_aws_need_creds(eg_discovery_aws_t *d)
{
    if (d->creds_env || d->stale) {
        return 0;
    }

    return !d->creds_set
           || eg_time() + EG_AWS_CREDS_MARGIN >= d->creds_expire;
}


/* IMDS: a request with the session token (or for it), then the handler */
static eg_int_t
eg_discovery_aws_imds(eg_discovery_aws_t *d, eg_uint_t state,
    const char *method, const char *path, eg_str_t *extra)
{
    u_char              *p;
    size_t               len;
    eg_str_t             ttl = eg_string(EG_AWS_IMDS_TOKEN_TTL);
    eg_dhttp_request_t   req;
    eg_aws_url_t        *u;

    u = &d->conf->imds;

    eg_memzero(&req, sizeof(eg_dhttp_request_t));

    req.method.data = (u_char *) method;
    req.method.len = eg_strlen(method);

    len = u->base.len + eg_strlen(path) + (extra ? extra->len : 0);

    req.url.data = eg_pnalloc(d->pool, len);
    if (req.url.data == NULL) {
        eg_discovery_aws_fail(d, "out of memory");
        return EG_ERROR;
    }

    p = eg_cpymem(req.url.data, u->base.data, u->base.len);
    p = eg_cpymem(p, path, eg_strlen(path));

    if (extra) {
        p = eg_cpymem(p, extra->data, extra->len);
    }

    req.url.len = (size_t) (p - req.url.data);

    req.headers = eg_array_create(d->pool, 1, sizeof(eg_keyval_t));
    if (req.headers == NULL) {
        eg_discovery_aws_fail(d, "out of memory");
        return EG_ERROR;
    }

    if (state == EG_AWS_IMDS_TOKEN) {
        if (eg_discovery_aws_push_header(req.headers,
                                         "X-aws-ec2-metadata-token-ttl-seconds",
                                         &ttl)
            != EG_OK)
        {
            eg_discovery_aws_fail(d, "out of memory");
            return EG_ERROR;
        }

    } else if (eg_discovery_aws_push_header(req.headers,
                                            "X-aws-ec2-metadata-token",
                                            &d->imds_token)
               != EG_OK)
    {
        eg_discovery_aws_fail(d, "out of memory");
        return EG_ERROR;
    }

    req.ca_file = d->conf->ca_file;
    req.verify = 1;
    req.timeout = EG_AWS_IMDS_TIMEOUT;
    req.max_body = EG_AWS_IMDS_MAX_BODY;

    d->state = state;

    d->http = eg_dhttp_fetch(&req, d->resolver, eg_discovery_aws_imds_handler,
                             d, d->log);

    if (d->http == NULL) {
        eg_discovery_aws_fail(d, "IMDS: the request to " EG_STR_FMT
                              " could not start", EG_STR_ARG(req.url));
        return EG_ERROR;
    }

    return EG_OK;
}


static void
eg_discovery_aws_imds_handler(void *data, eg_int_t rc,
    eg_dhttp_response_t *res, const char *error)
{
    eg_discovery_aws_t  *d = data;

    u_char      *p, *last;
    eg_str_t     body;
    const char  *what;

    d->http = NULL;

    switch (d->state) {
    case EG_AWS_IMDS_TOKEN:
        what = "the session token";
        break;
    case EG_AWS_IMDS_REGION:
        what = "the region";
        break;
    case EG_AWS_IMDS_ROLE:
        what = "the instance's role";
        break;
    default:
        what = "the role's credentials";
    }

    if (rc != EG_OK) {
        /* off EC2 this is where it ends: say where we looked */
        eg_discovery_aws_error(d, "IMDS (" EG_STR_FMT ") for %s: %s",
                              EG_STR_ARG(d->conf->imds.base), what,
                              error ? error : "failed");
        goto failed;
    }

    if (res->status != 200) {
        if (d->state == EG_AWS_IMDS_ROLE && res->status == 404) {
            eg_discovery_aws_error(d, "IMDS: the instance has no IAM role "
                                  "and AWS_ACCESS_KEY_ID is not set: no "
                                  "credentials");
            goto failed;
        }

        eg_discovery_aws_error(d, "IMDS (" EG_STR_FMT ") for %s: HTTP %lu",
                              EG_STR_ARG(d->conf->imds.base), what,
                              (unsigned long) res->status);
        goto failed;
    }

    /* a text answer: blanks around it are not part of it */

    p = res->body.data;
    last = p + res->body.len;

    while (p < last && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
    {
        p++;
    }

    while (last > p
           && (last[-1] == ' ' || last[-1] == '\n' || last[-1] == '\r'
               || last[-1] == '\t'))
    {
        last--;
    }

    body.data = p;
    body.len = (size_t) (last - p);

    switch (d->state) {

    case EG_AWS_IMDS_TOKEN:
        if (body.len == 0
            || eg_discovery_aws_copy(d->pool, &d->imds_token, body.data,
                                     body.len)
               != EG_OK)
        {
            eg_discovery_aws_error(d, "IMDS gave no session token");
            goto failed;
        }

        break;

    case EG_AWS_IMDS_REGION:
        if (eg_discovery_aws_valid_region(&body) != EG_OK
            || body.len > sizeof(d->region))
        {
            eg_discovery_aws_error(d, "IMDS gave an invalid region \"%.*s\"",
                                  (int) eg_min(body.len, 64), body.data);
            goto failed;
        }

        eg_memcpy(d->region, body.data, body.len);
        d->region_len = body.len;

        eg_log_error(EG_LOG_INFO, d->log, 0,
                     "aws discovery: the instance is in %.*s",
                     (int) d->region_len, d->region);
        break;

    case EG_AWS_IMDS_ROLE:
        /* one role a line; an instance profile has one */
        for (p = body.data; p < last && *p != '\n' && *p != '\r'; p++) {
            if (*p == '/' || *p == '?' || *p == '#' || *p <= 0x20
                || *p >= 0x7f)
            {
                break;
            }
        }

        if (p == body.data
            || (p < last && *p != '\n' && *p != '\r')
            || eg_discovery_aws_copy(d->pool, &d->role, body.data,
                                     (size_t) (p - body.data))
               != EG_OK)
        {
            eg_discovery_aws_error(d, "IMDS gave no valid role name");
            goto failed;
        }

        break;

    default:
        if (eg_discovery_aws_imds_creds(d, &res->body) != EG_OK) {
            goto failed;
        }
    }

    eg_discovery_aws_next(d);

    return;

failed:

    if ((d->conf->region.len || d->region_len) && d->creds_set
        && eg_time() < d->creds_expire)
    {
        /* IMDS is down for now, the keys we have still hold: use them */
        eg_log_error(EG_LOG_WARN, d->log, 0,
                     "aws discovery: %s; the role's credentials, valid for "
                     "%ld s more, are used meanwhile", d->error,
                     (long) (d->creds_expire - eg_time()));

        d->stale = 1;
        eg_discovery_aws_next(d);
        return;
    }

    eg_discovery_aws_post(d);
}


/* {"Code": "Success", "AccessKeyId": .., "SecretAccessKey": .., ...} */
static eg_int_t
eg_discovery_aws_imds_creds(eg_discovery_aws_t *d, eg_str_t *body)
{
    time_t          expire;
    json_t         *root, *v;
    eg_pool_t      *pool;
    struct tm       tm;
    const char     *code, *id, *secret, *token, *exp, *end;
    json_error_t    err;
    eg_aws_creds_t  creds;

    root = json_loadb((const char *) body->data, body->len, 0, &err);

    if (root == NULL || !json_is_object(root)) {
        eg_discovery_aws_error(d, "IMDS: the role's credentials are not "
                              "JSON: %s", root ? "not an object" : err.text);
        json_decref(root);
        return EG_ERROR;
    }

    v = json_object_get(root, "Code");
    code = json_is_string(v) ? json_string_value(v) : NULL;

    id = json_string_value(json_object_get(root, "AccessKeyId"));
    secret = json_string_value(json_object_get(root, "SecretAccessKey"));
    token = json_string_value(json_object_get(root, "Token"));
    exp = json_string_value(json_object_get(root, "Expiration"));

    if (code && eg_strcmp(code, "Success") != 0) {
        eg_discovery_aws_error(d, "IMDS: the role's credentials: %.64s",
                              code);
        json_decref(root);
        return EG_ERROR;
    }

    if (id == NULL || secret == NULL || exp == NULL || id[0] == '\0'
        || secret[0] == '\0')
    {
        eg_discovery_aws_error(d, "IMDS: the role's credentials lack "
                              "AccessKeyId, SecretAccessKey or Expiration");
        json_decref(root);
        return EG_ERROR;
    }

    /* "2024-01-02T09:04:05Z" */

    eg_memzero(&tm, sizeof(struct tm));
    end = strptime(exp, "%Y-%m-%dT%H:%M:%S", &tm);

    if (end == NULL || (*end != 'Z' && *end != '\0')) {
        eg_discovery_aws_error(d, "IMDS: invalid Expiration \"%.40s\"", exp);
        json_decref(root);
        return EG_ERROR;
    }

    expire = timegm(&tm);

    /* the keys outlive the lookup: a pool of their own, the old one freed */

    pool = eg_create_pool(1024, d->log);
    if (pool == NULL) {
        eg_discovery_aws_error(d, "out of memory");
        json_decref(root);
        return EG_ERROR;
    }

    eg_memzero(&creds, sizeof(eg_aws_creds_t));

    if (eg_discovery_aws_copy(pool, &creds.access_key, (u_char *) id,
                              eg_strlen(id))
        != EG_OK
        || eg_discovery_aws_copy(pool, &creds.secret_key, (u_char *) secret,
                                 eg_strlen(secret))
           != EG_OK
        || (token
            && eg_discovery_aws_copy(pool, &creds.token, (u_char *) token,
                                     eg_strlen(token))
               != EG_OK))
    {
        eg_destroy_pool(pool);
        eg_discovery_aws_error(d, "out of memory");
        json_decref(root);
        return EG_ERROR;
    }

    json_decref(root);

    if (d->creds_pool) {
        OPENSSL_cleanse(d->creds.secret_key.data, d->creds.secret_key.len);
        eg_destroy_pool(d->creds_pool);
    }

    d->creds_pool = pool;
    d->creds = creds;
    d->creds_expire = expire;
    d->creds_set = 1;

    eg_log_error(EG_LOG_INFO, d->log, 0,
                 "aws discovery: credentials of the role \"" EG_STR_FMT
                 "\" (" EG_STR_FMT "), valid for %ld s",
                 EG_STR_ARG(d->role), EG_STR_ARG(d->creds.access_key),
                 (long) (expire - eg_time()));

    if (expire <= eg_time() + EG_AWS_CREDS_MARGIN) {
        /* asking again at once would get the same: use them as they are */
        d->creds_expire = eg_time() + EG_AWS_CREDS_MARGIN + 1;
    }

    return EG_OK;
}


/* one page of DescribeInstances */
static eg_int_t
eg_discovery_aws_describe(eg_discovery_aws_t *d)
{
    u_char                   *p;
    eg_str_t                  form = eg_string(
                                  "application/x-www-form-urlencoded; "
                                  "charset=utf-8");
    eg_str_t                  agent = eg_string(ENGRAM_VER);
    eg_uint_t                 i;
    eg_array_t               *params, *headers;
    eg_keyval_t              *kv;
    eg_aws_signed_t           sig;
    eg_aws_request_t          areq;
    eg_dhttp_request_t        req;
    eg_aws_creds_t            creds;
    eg_discovery_aws_conf_t  *acf = d->conf;

    static struct {
        const char  *key;
        const char  *value;
    } fixed[] = {
        { "Action", "DescribeInstances" },
        { "Version", EG_AWS_EC2_VERSION },
        { "Filter.1.Name", NULL },              /* tag:KEY */
        { "Filter.1.Value.1", NULL },           /* VALUE */
        { "Filter.2.Name", "instance-state-name" },
        { "Filter.2.Value.1", "running" },
        { "MaxResults", EG_AWS_PAGE_SIZE },
    };

    params = eg_array_create(d->pool, 8, sizeof(eg_keyval_t));
    if (params == NULL) {
        goto nomem;
    }

    for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        kv = eg_array_push(params);
        if (kv == NULL) {
            goto nomem;
        }

        kv->key.data = (u_char *) fixed[i].key;
        kv->key.len = eg_strlen(fixed[i].key);

        if (fixed[i].value) {
            kv->value.data = (u_char *) fixed[i].value;
            kv->value.len = eg_strlen(fixed[i].value);
        }
    }

    kv = params->elts;

    kv[2].value.len = sizeof("tag:") - 1 + acf->tag_key.len;
    kv[2].value.data = eg_pnalloc(d->pool, kv[2].value.len);
    if (kv[2].value.data == NULL) {
        goto nomem;
    }

    p = eg_cpymem(kv[2].value.data, "tag:", sizeof("tag:") - 1);
    eg_memcpy(p, acf->tag_key.data, acf->tag_key.len);

    kv[3].value = acf->tag_value;

    if (d->next_token.len) {
        kv = eg_array_push(params);
        if (kv == NULL) {
            goto nomem;
        }

        eg_str_set(&kv->key, "NextToken");
        kv->value = d->next_token;
    }

    headers = eg_array_create(d->pool, 6, sizeof(eg_keyval_t));
    if (headers == NULL) {
        goto nomem;
    }

    if (eg_discovery_aws_push_header(headers, "Content-Type", &form)
        != EG_OK)
    {
        goto nomem;
    }

    /* the form body, then its signature */

    eg_memzero(&areq, sizeof(eg_aws_request_t));

    if (eg_aws_query_encode(d->pool, params, &areq.body) != EG_OK) {
        goto nomem;
    }

    eg_str_set(&areq.method, "POST");
    areq.host = d->endpoint.host;
    areq.path = d->endpoint.path;
    areq.headers = headers;
    eg_str_set(&areq.service, "ec2");
    areq.now = eg_time();

    if (acf->region.len) {
        areq.region = acf->region;

    } else {
        areq.region.data = d->region;
        areq.region.len = d->region_len;
    }

    creds = d->creds;

    if (eg_aws_sigv4_sign(d->pool, &areq, &creds, &sig) != EG_OK) {
        eg_discovery_aws_fail(d, "DescribeInstances: signing failed");
        return EG_ERROR;
    }

    kv = sig.headers->elts;

    for (i = 0; i < sig.headers->nelts; i++) {
        if (eg_discovery_aws_push_header(headers, (char *) kv[i].key.data,
                                         &kv[i].value)
            != EG_OK)
        {
            goto nomem;
        }
    }

    /* unsigned, as botocore leaves it: proxies may rewrite it */
    if (eg_discovery_aws_push_header(headers, "User-Agent", &agent)
        != EG_OK)
    {
        goto nomem;
    }

    eg_memzero(&req, sizeof(eg_dhttp_request_t));

    eg_str_set(&req.method, "POST");

    req.url.len = d->endpoint.base.len + d->endpoint.path.len;
    req.url.data = eg_pnalloc(d->pool, req.url.len);
    if (req.url.data == NULL) {
        goto nomem;
    }

    p = eg_cpymem(req.url.data, d->endpoint.base.data, d->endpoint.base.len);
    eg_memcpy(p, d->endpoint.path.data, d->endpoint.path.len);

    req.headers = headers;
    req.body = areq.body;
    req.ca_file = acf->ca_file;
    req.verify = 1;
    req.timeout = EG_AWS_EC2_TIMEOUT;
    req.max_body = EG_AWS_EC2_MAX_BODY;

    d->state = EG_AWS_EC2;

    d->http = eg_dhttp_fetch(&req, d->resolver, eg_discovery_aws_ec2_handler,
                             d, d->log);

    if (d->http == NULL) {
        eg_discovery_aws_fail(d, "DescribeInstances: the request to "
                              EG_STR_FMT " could not start",
                              EG_STR_ARG(req.url));
        return EG_ERROR;
    }

    return EG_OK;

nomem:

    eg_discovery_aws_fail(d, "out of memory");

    return EG_ERROR;
}


static void
eg_discovery_aws_ec2_handler(void *data, eg_int_t rc,
    eg_dhttp_response_t *res, const char *error)
{
    eg_discovery_aws_t  *d = data;

    eg_int_t             prc;
    eg_aws_ec2_result_t  r;

    d->http = NULL;

    if (rc != EG_OK) {
        eg_discovery_aws_fail(d, "DescribeInstances on " EG_STR_FMT ": %s",
                              EG_STR_ARG(d->endpoint.base),
                              error ? error : "failed");
        return;
    }

    eg_memzero(&r, sizeof(eg_aws_ec2_result_t));
    r.addrs = d->peers;

    prc = eg_discovery_aws__parse(d->pool, res->body.data, res->body.len,
                           (eg_uint_t) d->conf->public,
                           (d->conf->port == EG_CONF_UNSET)
                           ? eg_discovery_self_addr(d->method)->port
                           : (uint16_t) d->conf->port, &r);

    if (res->status != 200 || r.error_code.len) {
        if (r.error_code.len) {
            eg_discovery_aws_fail(d, "DescribeInstances: HTTP %lu "
                                  EG_STR_FMT ": " EG_STR_FMT,
                                  (unsigned long) res->status,
                                  EG_STR_ARG(r.error_code),
                                  EG_STR_ARG(r.error_message));

        } else {
            eg_discovery_aws_fail(d, "DescribeInstances: HTTP %lu",
                                  (unsigned long) res->status);
        }

        /* a key rotated early, or revoked: ask IMDS again next time */
        if (res->status == 401 || res->status == 403) {
            if (!d->creds_env) {
                d->creds_set = 0;
            }
        }

        return;
    }

    if (prc != EG_OK) {
        eg_discovery_aws_fail(d, "DescribeInstances: invalid XML answer: %s",
                              r.xml_error ? r.xml_error : "out of memory");
        return;
    }

    eg_log_debug(d->log, "aws discovery: page %lu, %lu instance(s), "
                 "%lu skipped", (unsigned long) d->pages + 1,
                 (unsigned long) r.instances, (unsigned long) r.skipped);

    if (r.next_token.len == 0) {
        eg_discovery_aws_finish(d, EG_OK);
        return;
    }

    if (++d->pages >= EG_AWS_PAGES_MAX
        || (d->next_token.len == r.next_token.len
            && eg_memcmp(d->next_token.data, r.next_token.data,
                         r.next_token.len) == 0))
    {
        eg_discovery_aws_fail(d, "DescribeInstances: the pages do not end "
                              "(%lu read)", (unsigned long) d->pages);
        return;
    }

    /* the token is in the lookup's pool already */
    d->next_token = r.next_token;

    (void) eg_discovery_aws_describe(d);
}


static eg_int_t
eg_discovery_aws_push_header(eg_array_t *a, const char *name,
    eg_str_t *value)
{
    eg_keyval_t  *kv;

    kv = eg_array_push(a);
    if (kv == NULL) {
        return EG_ERROR;
    }

    kv->key.data = (u_char *) name;
    kv->key.len = eg_strlen(name);
    kv->value = *value;

    return EG_OK;
}


static eg_int_t
eg_discovery_aws_copy(eg_pool_t *pool, eg_str_t *dst, u_char *src,
    size_t len)
{
    dst->data = eg_pnalloc(pool, len + 1);
    if (dst->data == NULL) {
        return EG_ERROR;
    }

    eg_memcpy(dst->data, src, len);
    dst->data[len] = '\0';
    dst->len = len;

    return EG_OK;
}


/*
 * Why the lookup failed, kept for the answer.  EC2's message and IMDS's
 * answers are not ours: the log and the health endpoint's JSON get
 * printable ASCII, whatever they held.
 */
static void
eg_discovery_aws_verror(eg_discovery_aws_t *d, const char *fmt,
    va_list args)
{
    u_char  *p;

    (void) vsnprintf((char *) d->error, sizeof(d->error), fmt, args);

    for (p = d->error; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f) {
            *p = '?';
        }
    }
}


static void
eg_discovery_aws_error(eg_discovery_aws_t *d, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    eg_discovery_aws_verror(d, fmt, args);
    va_end(args);
}


/* the error, and the answer with it */
static void
eg_discovery_aws_fail(eg_discovery_aws_t *d, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    eg_discovery_aws_verror(d, fmt, args);
    va_end(args);

    eg_discovery_aws_post(d);
}


/*
 * The lookup failed: the answer is given from the loop (this may run
 * inside lookup(), where the chain must not hear it).
 */
static void
eg_discovery_aws_post(eg_discovery_aws_t *d)
{
    if (d->http) {
        eg_dhttp_cancel(d->http);
        d->http = NULL;
    }

    d->state = EG_AWS_IDLE;

    eg_post_event(&d->answer, &eg_posted_events);
}


static void
eg_discovery_aws_answer(eg_event_t *ev)
{
    eg_discovery_aws_finish(ev->data, EG_ERROR);
}


static void
eg_discovery_aws_finish(eg_discovery_aws_t *d, eg_int_t rc)
{
    eg_pool_t   *pool;
    eg_array_t  *peers;

    /* the chain copies the peers: the pool goes once it has them */

    pool = d->pool;
    peers = d->peers;

    d->pool = NULL;
    d->peers = NULL;

    eg_discovery_aws_clear(d);

    eg_discovery_done(d->method, rc, rc == EG_OK ? peers : NULL, 0,
                      rc == EG_OK ? NULL : (char *) d->error);

    if (pool) {
        eg_destroy_pool(pool);
    }
}


/* the XML of EC2: a DescribeInstancesResponse or an error Response */

/* the elements that matter, wherever they are */
enum {
    EG_AWS_X_OTHER = 0,
    EG_AWS_X_DESCRIBE,          /* DescribeInstancesResponse */
    EG_AWS_X_RESERVATIONS,      /* reservationSet */
    EG_AWS_X_ITEM,              /* item */
    EG_AWS_X_INSTANCES,         /* instancesSet */
    EG_AWS_X_PRIVATE,           /* privateIpAddress */
    EG_AWS_X_PUBLIC,            /* ipAddress */
    EG_AWS_X_STATE,             /* instanceState */
    EG_AWS_X_NAME,              /* name */
    EG_AWS_X_NEXT,              /* nextToken */
    EG_AWS_X_RESPONSE,          /* Response, ErrorResponse */
    EG_AWS_X_ERROR,             /* Error */
    EG_AWS_X_CODE,              /* Code */
    EG_AWS_X_MESSAGE            /* Message */
};


#define EG_AWS_XML_DEPTH     8          /* deeper than what we read */
#define EG_AWS_TEXT_MAX      4096       /* a nextToken is ~1k */


/* where an instance is: its fields are its children */
static const u_char  eg_aws_xml_instance_path[] = {
    EG_AWS_X_DESCRIBE, EG_AWS_X_RESERVATIONS, EG_AWS_X_ITEM,
    EG_AWS_X_INSTANCES, EG_AWS_X_ITEM
};

#define EG_AWS_XML_INSTANCE  sizeof(eg_aws_xml_instance_path)

static const u_char  eg_aws_xml_next_path[] = {
    EG_AWS_X_DESCRIBE, EG_AWS_X_NEXT
};


typedef struct {
    XML_Parser               parser;
    eg_pool_t               *pool;
    eg_aws_ec2_result_t     *res;
    eg_uint_t                public;
    uint16_t                 port;

    eg_uint_t                depth;     /* of the element we are in */
    u_char                   path[EG_AWS_XML_DEPTH + 1];
    eg_uint_t                root;      /* EG_AWS_X_DESCRIBE, _RESPONSE */

    u_char                  *text;      /* the element's text, if read */
    eg_uint_t                collect;   /* which one: EG_AWS_X_* */
    size_t                   text_len;

    eg_uint_t                in_instance;
    u_char                   private_ip[48];
    u_char                   public_ip[48];
    u_char                   state[32];
    eg_uint_t                state_set;
    const char              *error;
} eg_aws_xml_t;


static eg_uint_t
eg_aws_xml_id(const char *name)
{
    const char  *p;

    /* "http://ec2.amazonaws.com/doc/2016-11-15/|item": the local name */
    p = strrchr(name, '|');
    name = p ? p + 1 : name;

    switch (name[0]) {
    case 'D':
        return strcmp(name, "DescribeInstancesResponse") == 0
               ? EG_AWS_X_DESCRIBE : EG_AWS_X_OTHER;
    case 'r':
        return strcmp(name, "reservationSet") == 0
               ? EG_AWS_X_RESERVATIONS : EG_AWS_X_OTHER;
    case 'i':
        if (strcmp(name, "item") == 0) {
            return EG_AWS_X_ITEM;
        }

        if (strcmp(name, "instancesSet") == 0) {
            return EG_AWS_X_INSTANCES;
        }

        if (strcmp(name, "instanceState") == 0) {
            return EG_AWS_X_STATE;
        }

        return strcmp(name, "ipAddress") == 0
               ? EG_AWS_X_PUBLIC : EG_AWS_X_OTHER;
    case 'p':
        return strcmp(name, "privateIpAddress") == 0
               ? EG_AWS_X_PRIVATE : EG_AWS_X_OTHER;
    case 'n':
        if (strcmp(name, "name") == 0) {
            return EG_AWS_X_NAME;
        }

        return strcmp(name, "nextToken") == 0
               ? EG_AWS_X_NEXT : EG_AWS_X_OTHER;
    case 'R':
        return strcmp(name, "Response") == 0
               ? EG_AWS_X_RESPONSE : EG_AWS_X_OTHER;
    case 'E':
        if (strcmp(name, "ErrorResponse") == 0) {
            return EG_AWS_X_RESPONSE;
        }

        return strcmp(name, "Error") == 0 ? EG_AWS_X_ERROR : EG_AWS_X_OTHER;
    case 'C':
        return strcmp(name, "Code") == 0 ? EG_AWS_X_CODE : EG_AWS_X_OTHER;
    case 'M':
        return strcmp(name, "Message") == 0
               ? EG_AWS_X_MESSAGE : EG_AWS_X_OTHER;
    }

    return EG_AWS_X_OTHER;
}


/* the path from the root is exactly these ids */
static eg_uint_t
eg_aws_xml_at(eg_aws_xml_t *x, const u_char *ids, eg_uint_t n)
{
    return x->depth == n && eg_memcmp(x->path + 1, ids, n) == 0;
}


static void
eg_aws_xml_stop(eg_aws_xml_t *x, const char *error)
{
    if (x->error == NULL) {
        x->error = error;
    }

    (void) XML_StopParser(x->parser, XML_FALSE);
}


static void XMLCALL
eg_aws_xml_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
    eg_aws_xml_t  *x = data;

    eg_uint_t  id;

    eg_unused(attrs);

    id = eg_aws_xml_id(name);

    x->depth++;

    if (x->depth == 1) {
        if (id != EG_AWS_X_DESCRIBE && id != EG_AWS_X_RESPONSE) {
            eg_aws_xml_stop(x, "the root element is neither "
                               "DescribeInstancesResponse nor an error "
                               "Response");
            return;
        }

        x->root = id;
    }

    if (x->depth > EG_AWS_XML_DEPTH) {
        /* nothing we read is this deep: only count the levels */
        return;
    }

    x->path[x->depth] = (u_char) id;

    /* an element inside one whose text we read is not ours to read */
    x->collect = EG_AWS_X_OTHER;

    if (eg_aws_xml_at(x, eg_aws_xml_instance_path, EG_AWS_XML_INSTANCE)) {
        x->in_instance = 1;
        x->private_ip[0] = '\0';
        x->public_ip[0] = '\0';
        x->state_set = 0;
        return;
    }

    if (x->in_instance && x->depth == EG_AWS_XML_INSTANCE + 1
        && (id == EG_AWS_X_PRIVATE || id == EG_AWS_X_PUBLIC))
    {
        x->collect = id;

    } else if (x->in_instance && x->depth == EG_AWS_XML_INSTANCE + 2
               && id == EG_AWS_X_NAME
               && x->path[x->depth - 1] == EG_AWS_X_STATE)
    {
        x->collect = id;

    } else if (eg_aws_xml_at(x, eg_aws_xml_next_path,
                             sizeof(eg_aws_xml_next_path)))
    {
        x->collect = id;

    } else if ((id == EG_AWS_X_CODE || id == EG_AWS_X_MESSAGE)
               && x->root == EG_AWS_X_RESPONSE
               && x->path[x->depth - 1] == EG_AWS_X_ERROR)
    {
        x->collect = id;
    }

    x->text_len = 0;
}


static void XMLCALL
eg_aws_xml_text(void *data, const XML_Char *s, int len)
{
    eg_aws_xml_t  *x = data;

    if (x->collect == EG_AWS_X_OTHER || len <= 0) {
        return;
    }

    if (x->text_len + (size_t) len > EG_AWS_TEXT_MAX) {
        eg_aws_xml_stop(x, "an element's text is too long");
        return;
    }

    eg_memcpy(x->text + x->text_len, s, (size_t) len);
    x->text_len += (size_t) len;
}


/* the collected text without blanks around it, NUL-terminated, in dst */
static size_t
eg_aws_xml_trimmed(eg_aws_xml_t *x, u_char *dst, size_t size)
{
    u_char  *p, *last;
    size_t   len;

    p = x->text;
    last = p + x->text_len;

    while (p < last && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
    {
        p++;
    }

    while (last > p
           && (last[-1] == ' ' || last[-1] == '\n' || last[-1] == '\r'
               || last[-1] == '\t'))
    {
        last--;
    }

    len = eg_min((size_t) (last - p), size - 1);

    eg_memcpy(dst, p, len);
    dst[len] = '\0';

    return len;
}


static eg_int_t
eg_aws_xml_keep(eg_aws_xml_t *x, eg_str_t *dst)
{
    u_char  *p;

    p = eg_pnalloc(x->pool, x->text_len + 1);
    if (p == NULL) {
        return EG_ERROR;
    }

    dst->len = eg_aws_xml_trimmed(x, p, x->text_len + 1);
    dst->data = p;

    return EG_OK;
}


static void
eg_aws_xml_instance(eg_aws_xml_t *x)
{
    u_char          *ip;
    struct in_addr   in;
    eg_swim_addr_t  *a;

    x->res->instances++;

    /* the filter asked for running ones; an endpoint may not filter */
    if (x->state_set && eg_strcmp(x->state, "running") != 0) {
        x->res->skipped++;
        return;
    }

    ip = x->public ? x->public_ip : x->private_ip;

    if (ip[0] == '\0' || inet_pton(AF_INET, (char *) ip, &in) != 1) {
        /* no public address, or one we cannot read: not reachable */
        x->res->skipped++;
        return;
    }

    a = eg_array_push(x->res->addrs);
    if (a == NULL) {
        eg_aws_xml_stop(x, "out of memory");
        return;
    }

    eg_memzero(a, sizeof(eg_swim_addr_t));
    a->family = 4;
    a->port = x->port;
    eg_memcpy(a->ip, &in, 4);
}


static void XMLCALL
eg_aws_xml_end(void *data, const XML_Char *name)
{
    eg_aws_xml_t  *x = data;

    eg_int_t  rc;

    eg_unused(name);

    rc = EG_OK;

    switch (x->collect) {

    case EG_AWS_X_PRIVATE:
        (void) eg_aws_xml_trimmed(x, x->private_ip, sizeof(x->private_ip));
        break;

    case EG_AWS_X_PUBLIC:
        (void) eg_aws_xml_trimmed(x, x->public_ip, sizeof(x->public_ip));
        break;

    case EG_AWS_X_NAME:
        (void) eg_aws_xml_trimmed(x, x->state, sizeof(x->state));
        x->state_set = 1;
        break;

    case EG_AWS_X_NEXT:
        rc = eg_aws_xml_keep(x, &x->res->next_token);
        break;

    case EG_AWS_X_CODE:
        if (x->res->error_code.len == 0) {
            rc = eg_aws_xml_keep(x, &x->res->error_code);
        }

        break;

    case EG_AWS_X_MESSAGE:
        if (x->res->error_message.len == 0) {
            rc = eg_aws_xml_keep(x, &x->res->error_message);
        }

        break;
    }

    x->collect = EG_AWS_X_OTHER;

    if (rc != EG_OK) {
        eg_aws_xml_stop(x, "out of memory");
        return;
    }

    if (x->in_instance && x->depth == EG_AWS_XML_INSTANCE) {
        x->in_instance = 0;
        eg_aws_xml_instance(x);
    }

    x->depth--;
}


/* entities could make a small answer huge: EC2 never sends a DTD */
static void XMLCALL
eg_aws_xml_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal_subset)
{
    eg_unused(name);
    eg_unused(sysid);
    eg_unused(pubid);
    eg_unused(has_internal_subset);

    eg_aws_xml_stop(data, "a DOCTYPE declaration");
}


eg_int_t
eg_discovery_aws__parse(eg_pool_t *pool, u_char *xml, size_t len,
    eg_uint_t public, uint16_t port, eg_aws_ec2_result_t *res)
{
    eg_int_t          rc;
    eg_aws_xml_t      x;
    enum XML_Status   st;

    eg_memzero(&x, sizeof(eg_aws_xml_t));

    x.pool = pool;
    x.res = res;
    x.public = public;
    x.port = port;

    if (len > INT_MAX) {
        res->xml_error = "the answer is too long";
        return EG_ERROR;
    }

    x.text = eg_pnalloc(pool, EG_AWS_TEXT_MAX);
    if (x.text == NULL) {
        return EG_ERROR;
    }

    x.parser = XML_ParserCreateNS(NULL, '|');
    if (x.parser == NULL) {
        return EG_ERROR;
    }

    XML_SetUserData(x.parser, &x);
    XML_SetElementHandler(x.parser, eg_aws_xml_start, eg_aws_xml_end);
    XML_SetCharacterDataHandler(x.parser, eg_aws_xml_text);
    XML_SetStartDoctypeDeclHandler(x.parser, eg_aws_xml_doctype);

    st = XML_Parse(x.parser, (const char *) xml, (int) len, XML_TRUE);

    rc = EG_OK;

    if (x.error) {
        res->xml_error = x.error;
        rc = EG_ERROR;

    } else if (st != XML_STATUS_OK) {
        res->xml_error = XML_ErrorString(XML_GetErrorCode(x.parser));
        rc = EG_ERROR;

    } else if (x.root == EG_AWS_X_OTHER) {
        res->xml_error = "no root element";
        rc = EG_ERROR;
    }

    XML_ParserFree(x.parser);

    return rc;
}
