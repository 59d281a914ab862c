/*
 * "status_page;": one self-contained HTML page (no external assets) that
 * shows the node, the members and their states, discovery health and a
 * few live figures.  The server renders the first view, so the page is
 * complete without JavaScript (which gets a meta refresh instead); with
 * JavaScript it updates itself every two seconds from the JSON API:
 *
 *     status_page [members=/cluster/members]
 *                 [discovery=/cluster/discovery/health];
 *
 * "?figures" on the page's own URL answers the live figures as JSON.
 */

#include <eg_config.h>
#include <eg_core.h>
#include <eg_event.h>
#include <eg_http.h>
#include <eg_http_cluster_module.h>
#include <engram.h>


typedef struct {
    eg_str_t             members;       /* URL of the members JSON */
    eg_str_t             discovery;     /* URL of the discovery JSON */
} eg_http_status_loc_conf_t;


typedef struct {
    uint64_t             requests;
    int64_t              connections;
    time_t               uptime;
} eg_http_status_figures_t;


static char *eg_http_status_page(eg_conf_t *cf, eg_command_t *cmd,
    void *conf);
static void *eg_http_status_create_loc_conf(eg_conf_t *cf);
static eg_int_t eg_http_status_handler(eg_http_request_t *r);
static void eg_http_status_render(eg_writer_t *w, eg_http_request_t *r,
    eg_membership_t *ms, json_t *disc, eg_http_status_figures_t *fig);


static eg_command_t  eg_http_status_commands[] = {

    { eg_string("status_page"),
      EG_HTTP_LOC_CONF|EG_CONF_ANY,
      eg_http_status_page,
      EG_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      eg_null_command
};


static eg_http_module_t  eg_http_status_module_ctx = {
    NULL,                                   /* preconfiguration */
    NULL,                                   /* postconfiguration */
    NULL,                                   /* create main configuration */
    NULL,                                   /* init main configuration */
    NULL,                                   /* create server configuration */
    NULL,                                   /* merge server configuration */
    eg_http_status_create_loc_conf,         /* create location configuration */
    NULL                                    /* merge location configuration */
};


eg_module_t  eg_http_status_module = {
    EG_MODULE_V1,
    "eg_http_status_module",
    EG_HTTP_MODULE,                         /* module type */
    &eg_http_status_module_ctx,             /* module context */
    eg_http_status_commands,                /* module directives */
    NULL,                                   /* environment overrides */
    NULL,                                   /* init master */
    NULL,                                   /* init module */
    NULL,                                   /* init process */
    NULL,                                   /* exit process */
    NULL                                    /* exit master */
};


/* the page's look and behaviour; the data goes in between */

static const char  eg_http_status_head[] =
"<!DOCTYPE html>\n"
"<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
"<noscript><meta http-equiv=\"refresh\" content=\"10\"></noscript>\n"
"<style>\n"
":root{--bg:#fff;--fg:#1f2328;--mute:#656d76;--line:#d0d7de;"
"--card:#f6f8fa;--alive:#1a7f37;--suspect:#9a6700;--dead:#cf222e;"
"--left:#6e7781}\n"
"@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;"
"--mute:#8d96a0;--line:#30363d;--card:#161b22;--alive:#3fb950;"
"--suspect:#d29922;--dead:#f85149;--left:#8d96a0}}\n"
"*{box-sizing:border-box}\n"
"body{margin:0;padding:1rem;font:15px/1.45 system-ui,-apple-system,"
"'Segoe UI',sans-serif;background:var(--bg);color:var(--fg)}\n"
"main{max-width:72rem;margin:0 auto}\n"
"h1{font-size:1.4rem;margin:0 0 .25rem}\n"
"h2{font-size:1.1rem;margin:1.5rem 0 .5rem}\n"
".sub{color:var(--mute);margin:0 0 1rem}\n"
".figs{display:grid;grid-template-columns:repeat(auto-fit,"
"minmax(9rem,1fr));gap:.5rem}\n"
".fig{background:var(--card);border:1px solid var(--line);"
"border-radius:6px;padding:.6rem .8rem}\n"
".fig b{display:block;font-size:1.5rem;font-variant-numeric:"
"tabular-nums}\n"
".fig span{color:var(--mute);font-size:.85rem}\n"
"table{width:100%;border-collapse:collapse}\n"
"th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid "
"var(--line);vertical-align:top}\n"
"th{color:var(--mute);font-weight:600;font-size:.85rem}\n"
".st{display:inline-block;padding:0 .5rem;border-radius:1rem;"
"color:#fff;font-size:.85rem;font-weight:600}\n"
".alive{background:var(--alive)}.suspect{background:var(--suspect)}"
".dead{background:var(--dead)}.left{background:var(--left)}\n"
".tag{display:inline-block;background:var(--card);border:1px solid "
"var(--line);border-radius:4px;padding:0 .3rem;margin:0 .2rem .2rem 0;"
"font-size:.85rem}\n"
".self{font-weight:600}\n"
"code{font-family:ui-monospace,monospace;font-size:.9em}\n"
"#stale{display:none;color:var(--dead)}\n"
"footer{margin-top:2rem;color:var(--mute);font-size:.85rem}\n"
"@media (max-width:40rem){.members thead{display:none}"
".members tr{display:block;border:1px solid var(--line);"
"border-radius:6px;margin-bottom:.5rem;padding:.3rem}"
".members td{display:flex;gap:.5rem;border:0;padding:.2rem .4rem}"
".members td::before{content:attr(data-k);color:var(--mute);"
"min-width:6.5rem}}\n"
"</style>\n";

/* follows "var M='members URL',D='discovery URL'" */
static const char  eg_http_status_script[] =
",F=location.pathname+'?figures',last=Date.now();\n"
"function el(t,c,x){var e=document.createElement(t);if(c)e.className=c;"
"if(x!==undefined)e.textContent=x;return e}\n"
"function td(k,v){var e=el('td');e.setAttribute('data-k',k);"
"if(v instanceof Node)e.appendChild(v);else e.textContent=v;return e}\n"
"function set(id,v){var e=document.getElementById(id);"
"if(e)e.textContent=v}\n"
"function ago(s){if(s===null||s===undefined)return '\\u2014';"
"var t=Math.round((Date.now()-Date.parse(s))/1000);"
"if(isNaN(t))return s;if(t<60)return t+'s ago';"
"if(t<3600)return Math.floor(t/60)+'m ago';"
"if(t<86400)return Math.floor(t/3600)+'h ago';"
"return Math.floor(t/86400)+'d ago'}\n"
"function dur(s){var d=Math.floor(s/86400),h=Math.floor(s%86400/3600),"
"m=Math.floor(s%3600/60);return d?d+'d '+h+'h':h?h+'h '+m+'m':m+'m '+"
"(s%60)+'s'}\n"
"function members(j){var b=document.getElementById('members');"
"b.textContent='';j.members.forEach(function(m){var r=el('tr');"
"var id=el('span',m.self?'self':'',m.id+(m.self?' (this node)':''));"
"r.appendChild(td('node',id));"
"r.appendChild(td('address',m.address===null?'\\u2014':m.address));"
"r.appendChild(td('state',el('span','st '+m.state,m.state)));"
"r.appendChild(td('incarnation',String(m.incarnation)));"
"var t=el('span');Object.keys(m.tags).sort().forEach(function(k){"
"t.appendChild(el('span','tag',k+'='+m.tags[k]))});"
"if(!t.firstChild)t.textContent='\\u2014';r.appendChild(td('tags',t));"
"r.appendChild(td('changed',ago(m.last_change)));b.appendChild(r)});"
"['alive','suspect','dead','left'].forEach(function(s){"
"set('n-'+s,j.counts[s])});set('mode',j.mode)}\n"
"function disc(j){set('d-enabled',j.enabled?'yes':'no');"
"set('d-method',j.method===null?'\\u2014':j.method);"
"set('d-seeds',j.seeds_reachable+' of '+j.seeds_total);"
"set('d-last',ago(j.last_discovery));"
"set('d-next',j.next_refresh===null?'\\u2014':'in '+Math.max(0,"
"Math.round(j.next_refresh-Date.now()/1000))+'s')}\n"
"function figs(j){set('f-req',j.requests_total);"
"set('f-conn',j.connections_active);set('f-up',dur(j.uptime_seconds))}\n"
"function get(u,f){return fetch(u,{cache:'no-store'}).then(function(r){"
"if(!r.ok)throw r.status;return r.json()}).then(f)}\n"
"function tick(){Promise.all([get(M,members),get(D,disc),get(F,figs)])"
".then(function(){last=Date.now();"
"document.getElementById('stale').style.display='none'})"
".catch(function(){})}\n"
"setInterval(function(){tick();if(Date.now()-last>6000){"
"document.getElementById('stale').style.display='inline'}},2000);\n"
"})();\n"
"</script>\n";


static char *
eg_http_status_page(eg_conf_t *cf, eg_command_t *cmd, void *conf)
{
    eg_http_status_loc_conf_t  *slcf = conf;

    eg_uint_t                   i;
    eg_str_t                   *value;
    eg_http_core_loc_conf_t    *clcf;

    clcf = eg_http_conf_get_module_loc_conf(cf, eg_http_core_module);

    if (clcf->handler) {
        return "is duplicate: the location has a handler already";
    }

    clcf->handler = eg_http_status_handler;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (eg_strncmp(value[i].data, "members=", 8) == 0) {
            slcf->members.data = value[i].data + 8;
            slcf->members.len = value[i].len - 8;

        } else if (eg_strncmp(value[i].data, "discovery=", 10) == 0) {
            slcf->discovery.data = value[i].data + 10;
            slcf->discovery.len = value[i].len - 10;

        } else {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid parameter \"%s\" of \"%s\", it must "
                              "be members=URL or discovery=URL",
                              value[i].data, cmd->name.data);
            return EG_CONF_ERROR;
        }

        if ((value[i].data[0] == 'm' && slcf->members.len == 0)
            || (value[i].data[0] == 'd' && slcf->discovery.len == 0))
        {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "empty URL in \"%s\"", value[i].data);
            return EG_CONF_ERROR;
        }

        /* the URLs go into a JSON string in a script: keep them plain */

        if (strpbrk((char *) value[i].data, "\"'<>\\ ") != NULL) {
            eg_conf_log_error(EG_LOG_EMERG, cf, 0,
                              "invalid character in \"%s\"", value[i].data);
            return EG_CONF_ERROR;
        }
    }

    return EG_CONF_OK;
}


static void *
eg_http_status_create_loc_conf(eg_conf_t *cf)
{
    eg_http_status_loc_conf_t  *slcf;

    slcf = eg_pcalloc(cf->pool, sizeof(eg_http_status_loc_conf_t));
    if (slcf == NULL) {
        return NULL;
    }

    eg_str_set(&slcf->members, "/cluster/members");
    eg_str_set(&slcf->discovery, "/cluster/discovery/health");

    return slcf;
}


static void
eg_http_status_figures(eg_http_status_figures_t *fig)
{
    eg_metric_t  *m;

    fig->requests = 0;

    if (eg_http_stats.requests) {
        for (m = eg_http_stats.requests->series; m; m = m->next) {
            fig->requests += (uint64_t) __atomic_load_n(&m->value,
                                                        __ATOMIC_RELAXED);
        }
    }

    fig->connections = eg_http_stats.active
                       ? __atomic_load_n(&eg_http_stats.active->value,
                                         __ATOMIC_RELAXED)
                       : 0;

    fig->uptime = eg_time() - eg_start_time;
}


static eg_int_t
eg_http_status_handler(eg_http_request_t *r)
{
    u_char                    *p;
    json_t                    *disc;
    eg_str_t                   body;
    eg_writer_t                w;
    eg_membership_t            ms;
    eg_http_status_figures_t   fig;

    static eg_str_t  json_type = eg_string("application/json");

    if (!(r->method & (EG_HTTP_GET|EG_HTTP_HEAD))) {
        return EG_HTTP_NOT_ALLOWED;
    }

    eg_http_status_figures(&fig);

    if (r->args.len == 7 && eg_strncmp(r->args.data, "figures", 7) == 0) {
        p = eg_pnalloc(r->pool, 128);
        if (p == NULL) {
            return EG_ERROR;
        }

        body.data = p;
        p = eg_slprintf(p, p + 128,
                        "{\"requests_total\":%llu,\"connections_active\":"
                        "%lld,\"uptime_seconds\":%lld}\n",
                        (unsigned long long) fig.requests,
                        (long long) fig.connections, (long long) fig.uptime);
        body.len = (size_t) (p - body.data);

        return eg_http_send_response(r, EG_HTTP_OK, &json_type, &body);
    }

    if (eg_membership_snapshot((eg_cycle_t *) eg_cycle, r->pool, &ms)
        != EG_OK)
    {
        return EG_HTTP_INTERNAL_SERVER_ERROR;
    }

    disc = eg_http_cluster_discovery_json();
    if (disc == NULL) {
        return EG_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* measure, then render into exactly that much memory */

    eg_memzero(&w, sizeof(eg_writer_t));
    eg_http_status_render(&w, r, &ms, disc, &fig);

    body.data = eg_pnalloc(r->pool, w.len + 1);
    if (body.data == NULL) {
        json_decref(disc);
        return EG_ERROR;
    }

    w.p = body.data;
    w.last = body.data + w.len + 1;
    w.len = 0;

    eg_http_status_render(&w, r, &ms, disc, &fig);

    json_decref(disc);

    body.len = (size_t) (w.p - body.data);

    return eg_http_send_response(r, EG_HTTP_OK, &eg_http_html_type, &body);
}


static void
eg_http_status_page_text(eg_writer_t *w, eg_str_t *s)
{
    if (s->len == 0) {
        eg_writer_printf(w, "&#8212;");
        return;
    }

    eg_writer_html(w, s->data, s->len);
}


static void
eg_http_status_ago(eg_writer_t *w, time_t t)
{
    time_t  d;

    if (t == 0) {
        eg_writer_printf(w, "&#8212;");
        return;
    }

    d = eg_time() - t;
    d = eg_max(d, 0);

    if (d < 60) {
        eg_writer_printf(w, "%lds ago", (long) d);

    } else if (d < 3600) {
        eg_writer_printf(w, "%ldm ago", (long) (d / 60));

    } else if (d < 86400) {
        eg_writer_printf(w, "%ldh ago", (long) (d / 3600));

    } else {
        eg_writer_printf(w, "%ldd ago", (long) (d / 86400));
    }
}


static void
eg_http_status_json_field(eg_writer_t *w, json_t *obj, const char *key)
{
    json_t      *v;
    const char  *s;

    v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v)) {
        eg_writer_printf(w, "&#8212;");

    } else if (json_is_string(v)) {
        s = json_string_value(v);
        eg_writer_html(w, (const u_char *) s, strlen(s));

    } else if (json_is_integer(v)) {
        eg_writer_printf(w, "%lld", (long long) json_integer_value(v));

    } else if (json_is_boolean(v)) {
        eg_writer_printf(w, "%s", json_is_true(v) ? "yes" : "no");

    } else {
        eg_writer_printf(w, "&#8230;");
    }
}


static void
eg_http_status_render(eg_writer_t *w, eg_http_request_t *r,
    eg_membership_t *ms, json_t *disc, eg_http_status_figures_t *fig)
{
    json_t                     *methods, *m;
    size_t                      idx;
    time_t                      up;
    eg_uint_t                   i, j, count[EG_MEMBER_STATES];
    eg_keyval_t                *kv;
    eg_member_info_t           *info;
    eg_http_status_loc_conf_t  *slcf;

    slcf = eg_http_get_module_loc_conf(r, eg_http_status_module);

    info = ms->members.elts;

    eg_memzero(count, sizeof(count));

    for (i = 0; i < ms->members.nelts; i++) {
        count[info[i].state % EG_MEMBER_STATES]++;
    }

    eg_writer_write(w, (u_char *) eg_http_status_head,
                    sizeof(eg_http_status_head) - 1);
    eg_writer_printf(w, "<title>engram: ");
    eg_writer_html(w, ms->self.data, ms->self.len);
    eg_writer_printf(w, "</title></head><body><main>\n<h1>engram: ");
    eg_writer_html(w, ms->self.data, ms->self.len);
    eg_writer_printf(w, "</h1>\n<p class=\"sub\"><span id=\"mode\">%s"
                     "</span> mode &#183; engram %s"
                     " <span id=\"stale\">&#183; not updating</span></p>\n",
                     ms->distributed ? "distributed" : "single",
                     ENGRAM_VERSION);

    eg_writer_printf(w,
        "<div class=\"figs\">\n"
        "<div class=\"fig\"><b id=\"n-alive\">%lu</b><span>alive</span>"
        "</div>\n"
        "<div class=\"fig\"><b id=\"n-suspect\">%lu</b><span>suspect</span>"
        "</div>\n"
        "<div class=\"fig\"><b id=\"n-dead\">%lu</b><span>dead</span>"
        "</div>\n"
        "<div class=\"fig\"><b id=\"n-left\">%lu</b><span>left</span>"
        "</div>\n"
        "<div class=\"fig\"><b id=\"f-req\">%llu</b><span>HTTP requests"
        "</span></div>\n"
        "<div class=\"fig\"><b id=\"f-conn\">%lld</b><span>connections"
        "</span></div>\n"
        "<div class=\"fig\"><b id=\"f-up\">",
        (unsigned long) count[EG_MEMBER_ALIVE],
        (unsigned long) count[EG_MEMBER_SUSPECT],
        (unsigned long) count[EG_MEMBER_DEAD],
        (unsigned long) count[EG_MEMBER_LEFT],
        (unsigned long long) fig->requests, (long long) fig->connections);

    /* as the script's dur() writes it, so that updates do not jump */

    up = fig->uptime;

    if (up >= 86400) {
        eg_writer_printf(w, "%lldd %lldh", (long long) (up / 86400),
                         (long long) (up % 86400 / 3600));

    } else if (up >= 3600) {
        eg_writer_printf(w, "%lldh %lldm", (long long) (up / 3600),
                         (long long) (up % 3600 / 60));

    } else {
        eg_writer_printf(w, "%lldm %llds", (long long) (up / 60),
                         (long long) (up % 60));
    }

    eg_writer_printf(w, "</b><span>uptime</span></div>\n</div>\n");

    eg_writer_printf(w,
        "<h2>Members</h2>\n<table class=\"members\"><thead><tr>"
        "<th>node</th><th>address</th>"
        "<th>state</th><th>incarnation</th><th>tags</th><th>changed</th>"
        "</tr></thead>\n<tbody id=\"members\">\n");

    for (i = 0; i < ms->members.nelts; i++) {
        eg_writer_printf(w, "<tr><td data-k=\"node\"><span%s>",
                         info[i].self ? " class=\"self\"" : "");
        eg_http_status_page_text(w, &info[i].id);
        eg_writer_printf(w, "%s</span></td><td data-k=\"address\">",
                         info[i].self ? " (this node)" : "");
        eg_http_status_page_text(w, &info[i].address);
        eg_writer_printf(w, "</td><td data-k=\"state\"><span class=\"st "
                         "%s\">%s</span></td><td data-k=\"incarnation\">"
                         "%llu</td><td data-k=\"tags\">",
                         eg_member_states[info[i].state % EG_MEMBER_STATES],
                         eg_member_states[info[i].state % EG_MEMBER_STATES],
                         (unsigned long long) info[i].incarnation);

        kv = info[i].tags ? info[i].tags->elts : NULL;

        for (j = 0; info[i].tags && j < info[i].tags->nelts; j++) {
            eg_writer_printf(w, "<span class=\"tag\">");
            eg_writer_html(w, kv[j].key.data, kv[j].key.len);
            eg_writer_printf(w, "=");
            eg_writer_html(w, kv[j].value.data, kv[j].value.len);
            eg_writer_printf(w, "</span>");
        }

        if (info[i].tags == NULL || info[i].tags->nelts == 0) {
            eg_writer_printf(w, "&#8212;");
        }

        eg_writer_printf(w, "</td><td data-k=\"changed\">");
        eg_http_status_ago(w, info[i].last_change);
        eg_writer_printf(w, "</td></tr>\n");
    }

    eg_writer_printf(w, "</tbody></table>\n<h2>Discovery</h2>\n<table>"
                     "<tbody>\n<tr><th>enabled</th><td id=\"d-enabled\">");
    eg_http_status_json_field(w, disc, "enabled");
    eg_writer_printf(w, "</td></tr>\n<tr><th>method</th>"
                     "<td id=\"d-method\">");
    eg_http_status_json_field(w, disc, "method");
    eg_writer_printf(w, "</td></tr>\n<tr><th>seeds reachable</th>"
                     "<td id=\"d-seeds\">");
    eg_http_status_json_field(w, disc, "seeds_reachable");
    eg_writer_printf(w, " of ");
    eg_http_status_json_field(w, disc, "seeds_total");
    eg_writer_printf(w, "</td></tr>\n<tr><th>last discovery</th>"
                     "<td id=\"d-last\">");
    eg_http_status_json_field(w, disc, "last_discovery");
    eg_writer_printf(w, "</td></tr>\n<tr><th>next refresh</th>"
                     "<td id=\"d-next\">");
    eg_http_status_json_field(w, disc, "next_refresh");
    eg_writer_printf(w, "</td></tr>\n");

    methods = json_object_get(disc, "methods");

    json_array_foreach(methods, idx, m) {
        eg_writer_printf(w, "<tr><th>");
        eg_http_status_json_field(w, m, "name");
        eg_writer_printf(w, "</th><td>");

        eg_http_status_json_field(w, m, "result");

        if (json_object_get(m, "error")
            && !json_is_null(json_object_get(m, "error")))
        {
            eg_writer_printf(w, ": ");
            eg_http_status_json_field(w, m, "error");
        }

        eg_writer_printf(w, "</td></tr>\n");
    }

    eg_writer_printf(w, "</tbody></table>\n<footer>This page updates "
                     "itself every 2 seconds; the same data is JSON at "
                     "<code>");
    eg_writer_html(w, slcf->members.data, slcf->members.len);
    eg_writer_printf(w, "</code> and <code>");
    eg_writer_html(w, slcf->discovery.data, slcf->discovery.len);
    eg_writer_printf(w, "</code>.</footer>\n</main>\n");

    /* the URLs were checked for quotes and angle brackets at startup */

    eg_writer_printf(w, "<script>\n(function(){\nvar M=\"" EG_STR_FMT
                     "\",D=\"" EG_STR_FMT "\"", EG_STR_ARG(slcf->members),
                     EG_STR_ARG(slcf->discovery));
    eg_writer_write(w, (u_char *) eg_http_status_script,
                    sizeof(eg_http_status_script) - 1);
}
