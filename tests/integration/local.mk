INTEGRATION_TESTS = \
	tests/integration/test_harness.sh \
	tests/integration/test_config_check.sh \
	tests/integration/test_daemon_lifecycle.sh \
	tests/integration/test_ctl_basics.sh \
	tests/integration/test_systemd_units.sh \
	tests/integration/test_demo.sh
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += $(INTEGRATION_TESTS) tests/integration/lib.sh tests/integration/upstream.py \
	tests/integration/serve_lib.py tests/integration/race_lib.sh tests/integration/race_gate.py \
	scripts/demo.sh scripts/test.sh scripts/install-deps.sh

# Each area lists its own integration tests in its own fragment.
include $(srcdir)/tests/integration/vault.mk
include $(srcdir)/tests/integration/smtpd.mk
include $(srcdir)/tests/integration/smtpc.mk
include $(srcdir)/tests/integration/delivery.mk
include $(srcdir)/tests/integration/probe.mk
include $(srcdir)/tests/integration/perf.mk
include $(srcdir)/tests/integration/ctl.mk
include $(srcdir)/tests/integration/milter.mk
include $(srcdir)/tests/integration/daemon.mk
include $(srcdir)/tests/integration/http.mk
include $(srcdir)/tests/integration/store.mk
include $(srcdir)/tests/integration/content.mk
include $(srcdir)/tests/integration/oauth.mk
