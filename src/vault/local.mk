# The keyring and sealed secrets (libsodium).
