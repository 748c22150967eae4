# OpenSSL contexts: client (upstreams) and server (listener STARTTLS).
