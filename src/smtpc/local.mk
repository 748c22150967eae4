# The SMTP client: connect, TLS, EHLO, AUTH, envelope, data, replies.
