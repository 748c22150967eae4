# The keyring and sealed secrets (libsodium).
libtenantrelay_a_SOURCES += \
	src/vault/vault_int.h \
	src/vault/vault_keyring.c \
	src/vault/vault_seal.c
noinst_HEADERS += include/tenantrelay/vault.h
