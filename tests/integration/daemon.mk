# Integration tests of the daemon's life cycle (issue #12: never misroute,
# never lose): store refusal, atomic reloads, stop order, bounded reloads,
# unreadable queue files, the acceptance path off the delivery lock.
DAEMON_INTEGRATION_TESTS = \
	tests/integration/test_daemon_store_refused.sh \
	tests/integration/test_daemon_stop_backlog.sh \
	tests/integration/test_daemon_reload_bounded.sh \
	tests/integration/test_daemon_unreadable_queue.sh \
	tests/integration/test_daemon_acceptance_no_fsync.sh
TESTS += $(DAEMON_INTEGRATION_TESTS)
EXTRA_DIST += $(DAEMON_INTEGRATION_TESTS) tests/tools/fsync_block.c
