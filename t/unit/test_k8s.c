/*
 * Kubernetes discovery without the network: which pods of a PodList are
 * peers (Running, Ready, not being deleted, with a pod IP), at what
 * address and port, and what an error answer's Status says.  The pods
 * are written as the API server writes them, trimmed to what matters.
 */

#include <eg_unit.h>

#if (EG_DISCOVERY_K8S)

#include <eg_discovery.h>
#include <eg_discovery_k8s_int.h>


static eg_log_t     eg_unit_k8s_log;
static eg_pool_t   *pool;
static eg_array_t  *peers;
static u_char       err[200];


static void
eg_unit_k8s_setup(void)
{
    eg_memzero(&eg_unit_k8s_log, sizeof(eg_log_t));
    eg_unit_k8s_log.log_level = EG_LOG_EMERG;

    pool = eg_create_pool(4096, &eg_unit_k8s_log);
    ck_assert_ptr_nonnull(pool);

    peers = eg_array_create(pool, 4, sizeof(eg_swim_addr_t));
    ck_assert_ptr_nonnull(peers);

    err[0] = '\0';
}


static void
eg_unit_k8s_teardown(void)
{
    eg_destroy_pool(pool);
}


static eg_int_t
eg_unit_pods(const char *json, in_port_t port)
{
    u_char    *copy;
    size_t     len;
    eg_int_t   rc;

    len = strlen(json);

    copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    eg_memcpy(copy, json, len);

    peers->nelts = 0;
    rc = eg_discovery_k8s__pods(copy, len, port, peers, err, sizeof(err));

    free(copy);

    return rc;
}


/* the peers found, as "ip:port ip:port" */
static const char *
eg_unit_peers(void)
{
    char             *p, *last;
    eg_uint_t         i;
    eg_swim_addr_t   *a;
    static char       text[512];

    p = text;
    last = text + sizeof(text);
    *p = '\0';
    a = peers->elts;

    for (i = 0; i < peers->nelts; i++) {
        if (i) {
            p += snprintf(p, (size_t) (last - p), " ");
        }

        if (a[i].family == 4) {
            p += snprintf(p, (size_t) (last - p), "%u.%u.%u.%u:%u",
                          a[i].ip[0], a[i].ip[1], a[i].ip[2], a[i].ip[3],
                          a[i].port);

        } else {
            p += snprintf(p, (size_t) (last - p), "[%02x%02x:...:%02x%02x]"
                          ":%u", a[i].ip[0], a[i].ip[1], a[i].ip[14],
                          a[i].ip[15], a[i].port);
        }
    }

    return text;
}


#define EG_UNIT_READY                                                        \
    "\"conditions\":[{\"type\":\"Initialized\",\"status\":\"True\"},"        \
    "{\"type\":\"Ready\",\"status\":\"True\"},"                              \
    "{\"type\":\"ContainersReady\",\"status\":\"True\"}]"

#define EG_UNIT_NOT_READY                                                    \
    "\"conditions\":[{\"type\":\"Initialized\",\"status\":\"True\"},"        \
    "{\"type\":\"Ready\",\"status\":\"False\"},"                             \
    "{\"type\":\"ContainersReady\",\"status\":\"False\"}]"

#define EG_UNIT_POD(name, extra_meta, phase, conditions, ip)                 \
    "{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"default\""         \
    extra_meta "},\"spec\":{\"containers\":[{\"name\":\"engram\"}]},"        \
    "\"status\":{\"phase\":\"" phase "\"," conditions ip "}}"

#define EG_UNIT_LIST(items)                                                  \
    "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":"              \
    "{\"resourceVersion\":\"1\"},\"items\":[" items "]}"


START_TEST(running_ready_pods_are_peers_at_their_ip_and_the_port)
{
    ck_assert_int_eq(eg_unit_pods(EG_UNIT_LIST(
        EG_UNIT_POD("a", "", "Running", EG_UNIT_READY,
                    ",\"podIP\":\"10.1.0.10\"") ","
        EG_UNIT_POD("b", "", "Running", EG_UNIT_READY,
                    ",\"podIP\":\"10.1.0.11\"")), 7946), EG_OK);

    ck_assert_str_eq(eg_unit_peers(), "10.1.0.10:7946 10.1.0.11:7946");
}
END_TEST


START_TEST(the_port_is_the_one_asked_for)
{
    ck_assert_int_eq(eg_unit_pods(EG_UNIT_LIST(
        EG_UNIT_POD("a", "", "Running", EG_UNIT_READY,
                    ",\"podIP\":\"10.1.0.10\"")), 17946), EG_OK);

    ck_assert_str_eq(eg_unit_peers(), "10.1.0.10:17946");
}
END_TEST


START_TEST(pod_that_is_not_ready_is_left_out)
{
    ck_assert_int_eq(eg_unit_pods(EG_UNIT_LIST(
        EG_UNIT_POD("a", "", "Running", EG_UNIT_NOT_READY,
                    ",\"podIP\":\"10.1.0.10\"") ","
        EG_UNIT_POD("b", "", "Running", EG_UNIT_READY,
                    ",\"podIP\":\"10.1.0.11\"")), 7946), EG_OK);

    ck_assert_str_eq(eg_unit_peers(), "10.1.0.11:7946");
}
END_TEST


START_TEST(pod_without_a_ready_condition_is_left_out)
{
    ck_assert_int_eq(eg_unit_pods(EG_UNIT_LIST(
        EG_UNIT_POD("a", "", "Running",
                    "\"conditions\":[{\"type\":\"PodScheduled\","
                    "\"status\":\"True\"}]",
                    ",\"podIP\":\"10.1.0.10\"") ","
        EG_UNIT_POD("b", "", "Running", "\"x\":1",
                    ",\"podIP\":\"10.1.0.11\"")), 7946), EG_OK);

    ck_assert_uint_eq(peers->nelts, 0);
}
END_TEST


START_TEST(ready_must_be_the_string_true)
{
    ck_assert_int_eq(eg_unit_pods(EG_UNIT_LIST(
        EG_UNIT_POD("a", "", "Running",
                    "\"conditions\":[{\"type\":\"Ready\",\"status\":true}]",
                    ",\"podIP\":\"10.1.0.10\"") ","
        EG_UNIT_POD("b", "", "Running",
                    "\"conditions\":[{\"type\":\"Ready\","
                    "\"status\":\"Unknown\"}]",
                    ",\"podIP\":\"10.1.0.11\"")), 7946), EG_OK);

    ck_assert_uint_eq(peers->nelts, 0);
}
END_TEST


START_TEST(pods_not_running_are_left_out)
{
    ck_assert_int_eq(eg_unit_pods(EG_UNIT_LIST(
        EG_UNIT_POD("a", "", "Pending",
                    "\"conditions\":[{\"type\":\"PodScheduled\","
                    "\"status\":\"False\"}]", "") ","
        EG_UNIT_POD("b", "", "Succeeded", EG_UNIT_READY,
                    ",\"podIP\":\"10.1.0.11\"") ","
        EG_UNIT_POD("c", "", "Failed", EG_UNIT_READY,
                    ",\"podIP\":\"10.1.0.12\"") ","
        EG_UNIT_POD("d", "", "Unknown", EG_UNIT_READY,
                    ",\"podIP\":\"10.1.0.13\"")), 7946), EG_OK);

    ck_assert_uint_eq(peers->nelts, 0);
}
END_TEST


START_TEST(pod_being_deleted_is_left_out)
{
    ck_assert_int_eq(eg_unit_pods(EG_UNIT_LIST(
        EG_UNIT_POD("a", ",\"deletionTimestamp\":\"2026-11-26T03:30:00Z\","
                    "\"deletionGracePeriodSeconds\":30", "Running",
                    EG_UNIT_READY, ",\"podIP\":\"10.1.0.10\"") ","
        EG_UNIT_POD("b", ",\"deletionTimestamp\":null", "Running",
                    EG_UNIT_READY, ",\"podIP\":\"10.1.0.11\"")), 7946),
        EG_OK);

    /* a null deletionTimestamp is no deletion */
    ck_assert_str_eq(eg_unit_peers(), "10.1.0.11:7946");
}
END_TEST


START_TEST(ipv6_pod_ip_is_an_ipv6_peer)
{
    eg_swim_addr_t  *a;

    ck_assert_int_eq(eg_unit_pods(EG_UNIT_LIST(
        EG_UNIT_POD("a", "", "Running", EG_UNIT_READY,
                    ",\"podIP\":\"fd00:10:1::a\"")), 7946), EG_OK);

    ck_assert_uint_eq(peers->nelts, 1);

    a = peers->elts;
    ck_assert_uint_eq(a[0].family, 6);
    ck_assert_uint_eq(a[0].port, 7946);
    ck_assert_uint_eq(a[0].ip[0], 0xfd);
    ck_assert_uint_eq(a[0].ip[15], 0x0a);
}
END_TEST


START_TEST(pod_ip_that_is_no_address_is_skipped)
{
    ck_assert_int_eq(eg_unit_pods(EG_UNIT_LIST(
        EG_UNIT_POD("a", "", "Running", EG_UNIT_READY,
                    ",\"podIP\":\"engram-0.local\"") ","
        EG_UNIT_POD("b", "", "Running", EG_UNIT_READY,
                    ",\"podIP\":\"10.1.0.11:80\"") ","
        EG_UNIT_POD("c", "", "Running", EG_UNIT_READY,
                    ",\"podIP\":42") ","
        EG_UNIT_POD("d", "", "Running", EG_UNIT_READY,
                    ",\"podIP\":\"10.1.0.13\"")), 7946), EG_OK);

    ck_assert_str_eq(eg_unit_peers(), "10.1.0.13:7946");
}
END_TEST


START_TEST(items_that_are_not_objects_are_skipped)
{
    ck_assert_int_eq(eg_unit_pods(EG_UNIT_LIST(
        "1, null, \"pod\", [], {},"
        EG_UNIT_POD("d", "", "Running", EG_UNIT_READY,
                    ",\"podIP\":\"10.1.0.13\"")), 7946), EG_OK);

    ck_assert_str_eq(eg_unit_peers(), "10.1.0.13:7946");
}
END_TEST


START_TEST(empty_list_gives_no_peer)
{
    ck_assert_int_eq(eg_unit_pods(EG_UNIT_LIST(""), 7946), EG_OK);
    ck_assert_uint_eq(peers->nelts, 0);

    ck_assert_int_eq(eg_unit_pods("{\"kind\":\"PodList\",\"items\":null}",
                                  7946), EG_OK);
    ck_assert_uint_eq(peers->nelts, 0);

    ck_assert_int_eq(eg_unit_pods("{\"kind\":\"PodList\"}", 7946), EG_OK);
    ck_assert_uint_eq(peers->nelts, 0);
}
END_TEST


START_TEST(answer_of_another_kind_is_an_error)
{
    ck_assert_int_eq(eg_unit_pods("{\"kind\":\"Status\",\"code\":401}", 7946),
                     EG_ERROR);
    ck_assert_ptr_nonnull(strstr((char *) err, "\"Status\", not a PodList"));
}
END_TEST


START_TEST(invalid_json_is_an_error_saying_where)
{
    ck_assert_int_eq(eg_unit_pods("{\"kind\":\"PodList\",\n\"items\":[", 7946),
                     EG_ERROR);
    ck_assert_ptr_nonnull(strstr((char *) err, "invalid JSON"));
    ck_assert_ptr_nonnull(strstr((char *) err, "line 2"));

    ck_assert_int_eq(eg_unit_pods("", 7946), EG_ERROR);
    ck_assert_int_eq(eg_unit_pods("<html>502 Bad Gateway</html>", 7946),
                     EG_ERROR);
}
END_TEST


START_TEST(answer_that_is_not_an_object_is_an_error)
{
    ck_assert_int_eq(eg_unit_pods("[1, 2]", 7946), EG_ERROR);
    ck_assert_ptr_nonnull(strstr((char *) err, "not a JSON object"));
}
END_TEST


START_TEST(items_that_are_not_a_list_are_an_error)
{
    ck_assert_int_eq(eg_unit_pods("{\"kind\":\"PodList\",\"items\":{}}",
                                  7946), EG_ERROR);
    ck_assert_ptr_nonnull(strstr((char *) err, "not a list"));
}
END_TEST


/* Status */

static eg_int_t
eg_unit_status(const char *json, u_char *buf, size_t size)
{
    return eg_discovery_k8s__status((u_char *) json, strlen(json), buf,
                                    size);
}


START_TEST(status_message_is_read)
{
    u_char  msg[160];

    ck_assert_int_eq(eg_unit_status("{\"kind\":\"Status\",\"apiVersion\":"
                                    "\"v1\",\"metadata\":{},\"status\":"
                                    "\"Failure\",\"message\":\"Unauthorized"
                                    "\",\"reason\":\"Unauthorized\","
                                    "\"code\":401}", msg, sizeof(msg)),
                     EG_OK);

    ck_assert_str_eq((char *) msg, "Unauthorized");
}
END_TEST


START_TEST(status_message_is_one_printable_line)
{
    u_char  msg[160];

    ck_assert_int_eq(eg_unit_status("{\"kind\":\"Status\",\"message\":"
                                    "\"line one\\nline\\ttwo\\u001b[31m\"}",
                                    msg, sizeof(msg)), EG_OK);

    ck_assert_str_eq((char *) msg, "line one line two [31m");
}
END_TEST


START_TEST(long_status_message_is_cut_to_fit)
{
    u_char  msg[8];

    ck_assert_int_eq(eg_unit_status("{\"kind\":\"Status\",\"message\":"
                                    "\"0123456789\"}", msg, sizeof(msg)),
                     EG_OK);

    ck_assert_str_eq((char *) msg, "0123456");
}
END_TEST


START_TEST(body_that_is_no_status_has_no_message)
{
    u_char  msg[160];

    ck_assert_int_eq(eg_unit_status("{\"kind\":\"PodList\",\"message\":"
                                    "\"x\"}", msg, sizeof(msg)),
                     EG_DECLINED);
    ck_assert_int_eq(eg_unit_status("{\"kind\":\"Status\"}", msg,
                                    sizeof(msg)), EG_DECLINED);
    ck_assert_int_eq(eg_unit_status("Unauthorized", msg, sizeof(msg)),
                     EG_DECLINED);
}
END_TEST


Suite *
eg_unit_k8s_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("k8s");

    tc = tcase_create("pods");
    tcase_add_checked_fixture(tc, eg_unit_k8s_setup, eg_unit_k8s_teardown);
    tcase_add_test(tc, running_ready_pods_are_peers_at_their_ip_and_the_port);
    tcase_add_test(tc, the_port_is_the_one_asked_for);
    tcase_add_test(tc, pod_that_is_not_ready_is_left_out);
    tcase_add_test(tc, pod_without_a_ready_condition_is_left_out);
    tcase_add_test(tc, ready_must_be_the_string_true);
    tcase_add_test(tc, pods_not_running_are_left_out);
    tcase_add_test(tc, pod_being_deleted_is_left_out);
    tcase_add_test(tc, ipv6_pod_ip_is_an_ipv6_peer);
    tcase_add_test(tc, pod_ip_that_is_no_address_is_skipped);
    tcase_add_test(tc, items_that_are_not_objects_are_skipped);
    tcase_add_test(tc, empty_list_gives_no_peer);
    tcase_add_test(tc, answer_of_another_kind_is_an_error);
    tcase_add_test(tc, invalid_json_is_an_error_saying_where);
    tcase_add_test(tc, answer_that_is_not_an_object_is_an_error);
    tcase_add_test(tc, items_that_are_not_a_list_are_an_error);
    suite_add_tcase(s, tc);

    tc = tcase_create("status");
    tcase_add_test(tc, status_message_is_read);
    tcase_add_test(tc, status_message_is_one_printable_line);
    tcase_add_test(tc, long_status_message_is_cut_to_fit);
    tcase_add_test(tc, body_that_is_no_status_has_no_message);
    suite_add_tcase(s, tc);

    return s;
}

#else

/* built without the kubernetes method: nothing to test */

Suite *
eg_unit_k8s_suite(void)
{
    return suite_create("k8s");
}

#endif
