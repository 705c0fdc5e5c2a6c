#!/bin/sh
# certbot runs this after every new or renewed certificate (Debian's certbot.timer renews twice a day):
# Prosody gets a copy of the certificate and key in /etc/prosody/certs (the key readable by the prosody
# user only; /etc/letsencrypt stays root's) and reloads them. certbot sets RENEWED_DOMAINS.
# Installed as /etc/letsencrypt/renewal-hooks/deploy/prosody.
set -e
exec prosodyctl --root cert import /etc/letsencrypt/live
