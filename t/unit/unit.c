/*
 * The unit test runner: every suite in one SRunner.  "make unit" runs it
 * with CK_FORK=yes, so each test has a process of its own and a crash or
 * a leak fails that test alone.  Exits non-zero if any test failed.
 */

#include <eg_unit.h>


int
main(void)
{
    int       failed;
    SRunner  *sr;

    eg_unit_tmpdir_create();

    sr = srunner_create(eg_unit_string_suite());

    srunner_add_suite(sr, eg_unit_rbtree_suite());
    srunner_add_suite(sr, eg_unit_pool_suite());
    srunner_add_suite(sr, eg_unit_inet_suite());
    srunner_add_suite(sr, eg_unit_conf_suite());
    srunner_add_suite(sr, eg_unit_slots_suite());
    srunner_add_suite(sr, eg_unit_env_suite());
    srunner_add_suite(sr, eg_unit_timer_suite());
    srunner_add_suite(sr, eg_unit_slab_suite());
    srunner_add_suite(sr, eg_unit_http_parse_suite());
    srunner_add_suite(sr, eg_unit_metrics_suite());
    srunner_add_suite(sr, eg_unit_swim_wire_suite());
    srunner_add_suite(sr, eg_unit_swim_suite());
    srunner_add_suite(sr, eg_unit_resolver_suite());
    srunner_add_suite(sr, eg_unit_aws_sigv4_suite());
    srunner_add_suite(sr, eg_unit_aws_ec2_suite());
    srunner_add_suite(sr, eg_unit_dhttp_suite());
    srunner_add_suite(sr, eg_unit_k8s_suite());
    srunner_add_suite(sr, eg_unit_mcast_suite());

    srunner_run_all(sr, CK_NORMAL);

    failed = srunner_ntests_failed(sr);

    srunner_free(sr);

    eg_unit_tmpdir_remove();

    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
