/*
 * The EC2 answer reader of the AWS method: the address of each running
 * instance of a DescribeInstancesResponse (private or public, never one
 * of its network interfaces'), the nextToken of the page, EC2's error
 * Code and Message, and the XML it refuses (broken, another root, a
 * DOCTYPE, a text too long).
 */

#include <eg_unit.h>

#if (EG_DISCOVERY_AWS)

#include <eg_discovery_aws_int.h>


#define EG_UNIT_NS  "http://ec2.amazonaws.com/doc/2016-11-15/"


/* an instance as EC2 writes it, the fields around the addresses kept */
#define EG_UNIT_INSTANCE(id, state, priv, pub)                               \
    "<item><instanceId>" id "</instanceId>"                                  \
    "<instanceState><code>16</code><name>" state "</name></instanceState>"   \
    "<privateDnsName>ip.ec2.internal</privateDnsName>"                       \
    "<placement><availabilityZone>us-east-1a</availabilityZone></placement>" \
    priv pub                                                                 \
    "<tagSet><item><key>EngramCluster</key><value>t</value></item></tagSet>" \
    "<networkInterfaceSet><item>"                                            \
    "<privateIpAddress>10.9.9.9</privateIpAddress>"                          \
    "<association><publicIp>198.51.100.9</publicIp></association>"           \
    "<privateIpAddressesSet><item>"                                          \
    "<privateIpAddress>10.9.9.8</privateIpAddress><primary>false</primary>"  \
    "</item></privateIpAddressesSet>"                                        \
    "</item></networkInterfaceSet>"                                          \
    "</item>"

#define EG_UNIT_RESERVATION(instances)                                       \
    "<item><reservationId>r-1</reservationId><ownerId>1</ownerId>"           \
    "<groupSet/><instancesSet>" instances "</instancesSet></item>"

#define EG_UNIT_RESPONSE(reservations, tail)                                 \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                           \
    "<DescribeInstancesResponse xmlns=\"" EG_UNIT_NS "\">\n"                 \
    "  <requestId>8f7724cf</requestId>\n"                                    \
    "  <reservationSet>" reservations "</reservationSet>\n"                  \
    tail                                                                     \
    "</DescribeInstancesResponse>\n"


static eg_log_t    eg_unit_quiet_log;
static eg_pool_t  *pool;


static void
eg_unit_ec2_setup(void)
{
    eg_memzero(&eg_unit_quiet_log, sizeof(eg_log_t));
    eg_unit_quiet_log.log_level = EG_LOG_EMERG;

    pool = eg_create_pool(4096, &eg_unit_quiet_log);
    ck_assert_ptr_nonnull(pool);
}


static void
eg_unit_ec2_teardown(void)
{
    eg_destroy_pool(pool);
    pool = NULL;
}


static eg_int_t
eg_unit_parse(const char *xml, eg_uint_t public, eg_aws_ec2_result_t *r)
{
    eg_memzero(r, sizeof(eg_aws_ec2_result_t));

    r->addrs = eg_array_create(pool, 4, sizeof(eg_swim_addr_t));
    ck_assert_ptr_nonnull(r->addrs);

    return eg_discovery_aws__parse(pool, (u_char *) xml, strlen(xml), public,
                                   7946, r);
}


/* the i-th address found is this IPv4 address, with the port */
static void
eg_unit_assert_addr(eg_aws_ec2_result_t *r, eg_uint_t i, const char *ip)
{
    struct in_addr   in;
    eg_swim_addr_t  *a;

    ck_assert_uint_gt(r->addrs->nelts, i);

    a = (eg_swim_addr_t *) r->addrs->elts + i;

    ck_assert_int_eq(inet_pton(AF_INET, ip, &in), 1);
    ck_assert_uint_eq(a->family, 4);
    ck_assert_uint_eq(a->port, 7946);
    ck_assert_msg(memcmp(a->ip, &in, 4) == 0, "address %lu is not %s",
                  (unsigned long) i, ip);
}


START_TEST(reads_the_private_address_of_each_running_instance)
{
    eg_aws_ec2_result_t  r;

    ck_assert_int_eq(eg_unit_parse(EG_UNIT_RESPONSE(
        EG_UNIT_RESERVATION(
            EG_UNIT_INSTANCE("i-1", "running",
                "<privateIpAddress>10.0.0.1</privateIpAddress>",
                "<ipAddress>203.0.113.1</ipAddress>")
            EG_UNIT_INSTANCE("i-2", "running",
                "<privateIpAddress> 10.0.0.2\n</privateIpAddress>", ""))
        EG_UNIT_RESERVATION(
            EG_UNIT_INSTANCE("i-3", "running",
                "<privateIpAddress>10.0.0.3</privateIpAddress>", "")), ""),
        0, &r), EG_OK);

    ck_assert_uint_eq(r.addrs->nelts, 3);
    eg_unit_assert_addr(&r, 0, "10.0.0.1");
    eg_unit_assert_addr(&r, 1, "10.0.0.2");
    eg_unit_assert_addr(&r, 2, "10.0.0.3");
    ck_assert_uint_eq(r.instances, 3);
    ck_assert_uint_eq(r.skipped, 0);
    ck_assert_uint_eq(r.next_token.len, 0);
    ck_assert_uint_eq(r.error_code.len, 0);
}
END_TEST


START_TEST(reads_public_addresses_if_asked_and_skips_instances_without)
{
    eg_aws_ec2_result_t  r;

    ck_assert_int_eq(eg_unit_parse(EG_UNIT_RESPONSE(
        EG_UNIT_RESERVATION(
            EG_UNIT_INSTANCE("i-1", "running",
                "<privateIpAddress>10.0.0.1</privateIpAddress>",
                "<ipAddress>203.0.113.1</ipAddress>")
            EG_UNIT_INSTANCE("i-2", "running",
                "<privateIpAddress>10.0.0.2</privateIpAddress>", "")), ""),
        1, &r), EG_OK);

    ck_assert_uint_eq(r.addrs->nelts, 1);
    eg_unit_assert_addr(&r, 0, "203.0.113.1");
    ck_assert_uint_eq(r.instances, 2);
    ck_assert_uint_eq(r.skipped, 1);
}
END_TEST


START_TEST(skips_instances_that_are_not_running)
{
    eg_aws_ec2_result_t  r;

    ck_assert_int_eq(eg_unit_parse(EG_UNIT_RESPONSE(
        EG_UNIT_RESERVATION(
            EG_UNIT_INSTANCE("i-1", "stopped",
                "<privateIpAddress>10.0.0.1</privateIpAddress>", "")
            EG_UNIT_INSTANCE("i-2", "pending",
                "<privateIpAddress>10.0.0.2</privateIpAddress>", "")
            EG_UNIT_INSTANCE("i-3", "running",
                "<privateIpAddress>10.0.0.3</privateIpAddress>", "")), ""),
        0, &r), EG_OK);

    ck_assert_uint_eq(r.addrs->nelts, 1);
    eg_unit_assert_addr(&r, 0, "10.0.0.3");
    ck_assert_uint_eq(r.skipped, 2);
}
END_TEST


START_TEST(never_takes_an_address_of_a_network_interface)
{
    eg_aws_ec2_result_t  r;

    /* no address of its own: those of its interface are not its */
    ck_assert_int_eq(eg_unit_parse(EG_UNIT_RESPONSE(
        EG_UNIT_RESERVATION(EG_UNIT_INSTANCE("i-1", "running", "", "")), ""),
        0, &r), EG_OK);

    ck_assert_uint_eq(r.addrs->nelts, 0);
    ck_assert_uint_eq(r.instances, 1);
    ck_assert_uint_eq(r.skipped, 1);

    ck_assert_int_eq(eg_unit_parse(EG_UNIT_RESPONSE(
        EG_UNIT_RESERVATION(EG_UNIT_INSTANCE("i-1", "running", "", "")), ""),
        1, &r), EG_OK);

    ck_assert_uint_eq(r.addrs->nelts, 0);
}
END_TEST


START_TEST(skips_an_address_that_is_not_ipv4)
{
    eg_aws_ec2_result_t  r;

    ck_assert_int_eq(eg_unit_parse(EG_UNIT_RESPONSE(
        EG_UNIT_RESERVATION(
            EG_UNIT_INSTANCE("i-1", "running",
                "<privateIpAddress>10.0.0.300</privateIpAddress>", "")
            EG_UNIT_INSTANCE("i-2", "running",
                "<privateIpAddress>2001:db8::1</privateIpAddress>", "")), ""),
        0, &r), EG_OK);

    ck_assert_uint_eq(r.addrs->nelts, 0);
    ck_assert_uint_eq(r.skipped, 2);
}
END_TEST


START_TEST(reads_the_next_token_of_the_page)
{
    eg_aws_ec2_result_t  r;

    ck_assert_int_eq(eg_unit_parse(EG_UNIT_RESPONSE(
        EG_UNIT_RESERVATION(
            EG_UNIT_INSTANCE("i-1", "running",
                "<privateIpAddress>10.0.0.1</privateIpAddress>", "")),
        "  <nextToken>eyJ2IjoxfQ==/+x</nextToken>\n"), 0, &r), EG_OK);

    eg_unit_assert_str_eq(&r.next_token, "eyJ2IjoxfQ==/+x");
    ck_assert_uint_eq(r.addrs->nelts, 1);
}
END_TEST


START_TEST(a_next_token_elsewhere_is_not_the_pages)
{
    eg_aws_ec2_result_t  r;

    ck_assert_int_eq(eg_unit_parse(EG_UNIT_RESPONSE(
        EG_UNIT_RESERVATION("<nextToken>inner</nextToken>"), ""), 0, &r),
        EG_OK);

    ck_assert_uint_eq(r.next_token.len, 0);
}
END_TEST


START_TEST(an_empty_answer_finds_nothing)
{
    eg_aws_ec2_result_t  r;

    ck_assert_int_eq(eg_unit_parse(
        "<DescribeInstancesResponse xmlns=\"" EG_UNIT_NS "\">"
        "<requestId>1</requestId><reservationSet/>"
        "</DescribeInstancesResponse>", 0, &r), EG_OK);

    ck_assert_uint_eq(r.addrs->nelts, 0);
    ck_assert_uint_eq(r.instances, 0);
    ck_assert_uint_eq(r.next_token.len, 0);
}
END_TEST


START_TEST(a_namespace_prefix_changes_nothing)
{
    eg_aws_ec2_result_t  r;

    ck_assert_int_eq(eg_unit_parse(
        "<e:DescribeInstancesResponse xmlns:e=\"" EG_UNIT_NS "\">"
        "<e:reservationSet><e:item><e:instancesSet><e:item>"
        "<e:privateIpAddress>10.1.2.3</e:privateIpAddress>"
        "</e:item></e:instancesSet></e:item></e:reservationSet>"
        "</e:DescribeInstancesResponse>", 0, &r), EG_OK);

    ck_assert_uint_eq(r.addrs->nelts, 1);
    eg_unit_assert_addr(&r, 0, "10.1.2.3");
}
END_TEST


START_TEST(reads_the_code_and_message_of_an_error)
{
    eg_aws_ec2_result_t  r;

    ck_assert_int_eq(eg_unit_parse(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<Response><Errors><Error><Code>AuthFailure</Code>"
        "<Message>AWS was not able to validate the provided access "
        "credentials</Message></Error>"
        "<Error><Code>Second</Code><Message>ignored</Message></Error>"
        "</Errors><RequestID>b1</RequestID></Response>", 0, &r), EG_OK);

    eg_unit_assert_str_eq(&r.error_code, "AuthFailure");
    eg_unit_assert_str_eq(&r.error_message,
                          "AWS was not able to validate the provided "
                          "access credentials");
    ck_assert_uint_eq(r.addrs->nelts, 0);
}
END_TEST


START_TEST(reads_an_error_response_of_the_other_kind)
{
    eg_aws_ec2_result_t  r;

    ck_assert_int_eq(eg_unit_parse(
        "<ErrorResponse><Error><Type>Sender</Type>"
        "<Code>Throttling</Code><Message>Rate exceeded</Message>"
        "</Error><RequestId>1</RequestId></ErrorResponse>", 0, &r), EG_OK);

    eg_unit_assert_str_eq(&r.error_code, "Throttling");
    eg_unit_assert_str_eq(&r.error_message, "Rate exceeded");
}
END_TEST


START_TEST(refuses_broken_xml_saying_why)
{
    eg_aws_ec2_result_t  r;

    ck_assert_int_eq(eg_unit_parse(
        "<DescribeInstancesResponse><reservationSet><item>", 0, &r),
        EG_ERROR);
    ck_assert_ptr_nonnull(r.xml_error);

    ck_assert_int_eq(eg_unit_parse("", 0, &r), EG_ERROR);
    ck_assert_ptr_nonnull(r.xml_error);

    ck_assert_int_eq(eg_unit_parse("{\"not\": \"xml\"}", 0, &r), EG_ERROR);
    ck_assert_ptr_nonnull(r.xml_error);
}
END_TEST


START_TEST(refuses_another_root_element)
{
    eg_aws_ec2_result_t  r;

    ck_assert_int_eq(eg_unit_parse("<html><body>503</body></html>", 0, &r),
                     EG_ERROR);
    ck_assert_str_eq(r.xml_error, "the root element is neither "
                     "DescribeInstancesResponse nor an error Response");
}
END_TEST


START_TEST(refuses_a_doctype)
{
    eg_aws_ec2_result_t  r;

    /* entities could make a small answer huge */
    ck_assert_int_eq(eg_unit_parse(
        "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\">"
        "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
        "<DescribeInstancesResponse><nextToken>&b;</nextToken>"
        "</DescribeInstancesResponse>", 0, &r), EG_ERROR);
    ck_assert_str_eq(r.xml_error, "a DOCTYPE declaration");
}
END_TEST


START_TEST(refuses_a_text_too_long_to_be_a_token)
{
    char                *xml, *p;
    size_t               n;
    eg_aws_ec2_result_t  r;

    n = 8192;
    xml = eg_pnalloc(pool, n + 128);
    ck_assert_ptr_nonnull(xml);

    p = xml + sprintf(xml, "<DescribeInstancesResponse><nextToken>");
    memset(p, 'a', n);
    p += n;
    sprintf(p, "</nextToken></DescribeInstancesResponse>");

    ck_assert_int_eq(eg_unit_parse(xml, 0, &r), EG_ERROR);
    ck_assert_str_eq(r.xml_error, "an element's text is too long");
}
END_TEST


START_TEST(a_deep_document_is_read_to_its_end)
{
    char                 xml[4096], *p;
    int                  i;
    eg_aws_ec2_result_t  r;

    p = xml + sprintf(xml, "<DescribeInstancesResponse>");

    for (i = 0; i < 100; i++) {
        p += sprintf(p, "<x>");
    }

    for (i = 0; i < 100; i++) {
        p += sprintf(p, "</x>");
    }

    sprintf(p, "<nextToken>t</nextToken></DescribeInstancesResponse>");

    ck_assert_int_eq(eg_unit_parse(xml, 0, &r), EG_OK);
    eg_unit_assert_str_eq(&r.next_token, "t");
}
END_TEST


Suite *
eg_unit_aws_ec2_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("aws_ec2");

    tc = tcase_create("instances");
    tcase_add_checked_fixture(tc, eg_unit_ec2_setup, eg_unit_ec2_teardown);
    tcase_add_test(tc, reads_the_private_address_of_each_running_instance);
    tcase_add_test(tc,
                   reads_public_addresses_if_asked_and_skips_instances_without);
    tcase_add_test(tc, skips_instances_that_are_not_running);
    tcase_add_test(tc, never_takes_an_address_of_a_network_interface);
    tcase_add_test(tc, skips_an_address_that_is_not_ipv4);
    tcase_add_test(tc, reads_the_next_token_of_the_page);
    tcase_add_test(tc, a_next_token_elsewhere_is_not_the_pages);
    tcase_add_test(tc, an_empty_answer_finds_nothing);
    tcase_add_test(tc, a_namespace_prefix_changes_nothing);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, eg_unit_ec2_setup, eg_unit_ec2_teardown);
    tcase_add_test(tc, reads_the_code_and_message_of_an_error);
    tcase_add_test(tc, reads_an_error_response_of_the_other_kind);
    tcase_add_test(tc, refuses_broken_xml_saying_why);
    tcase_add_test(tc, refuses_another_root_element);
    tcase_add_test(tc, refuses_a_doctype);
    tcase_add_test(tc, refuses_a_text_too_long_to_be_a_token);
    tcase_add_test(tc, a_deep_document_is_read_to_its_end);
    suite_add_tcase(s, tc);

    return s;
}

#else

/* built without the aws method: nothing to test */

Suite *
eg_unit_aws_ec2_suite(void)
{
    return suite_create("aws_ec2");
}

#endif
