tenantrelayctl_SOURCES = src/ctl/tenantrelayctl.c src/ctl/ctl_common.c \
	src/ctl/ctl_apitoken.c \
	src/ctl/ctl_audit.c \
	src/ctl/ctl_key.c \
	src/ctl/ctl_queue.c \
	src/ctl/ctl_reload.c \
	src/ctl/ctl_seal.c \
	src/ctl/ctl_status.c \
	src/ctl/ctl_store.c \
	src/ctl/ctl_tenant.c \
	src/ctl/ctl_test.c \
	src/ctl/ctl_route_flags.c src/ctl/ctl_route_flags.h \
	src/ctl/ctl_oauth.c src/ctl/ctl_oauth.h src/ctl/ctl_oauth_instructions.c
tenantrelayctl_LDADD = $(TR_LIBS)
# Helpers of the key, seal, tenant and audit commands.
tenantrelayctl_SOURCES += src/ctl/ctl_vault.c src/ctl/ctl_vault.h src/ctl/ctl_key_uses.c
