# The reference SMTP settings page, served at /ui/ when http.ui = true
# (http.ui_directory defaults to this install directory).
uidir = $(datadir)/tenantrelay/ui
dist_ui_DATA = ui/index.html ui/app.js ui/style.css
