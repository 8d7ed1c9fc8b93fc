#!/bin/sh
# Writes the secrets deploy/compose.yaml mounts, under deploy/secrets (git-ignored): random passwords and
# tokens, and the database URL built from the PostgreSQL password. Keeps every file that already exists, so it
# is safe to run again (delete a file to rotate that secret, then `docker compose up -d` again).
# The files are 0644 because compose mounts them as they are and the gateway runs as uid 10001; the folder is
# 0700, so other users of this machine cannot read them.
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
chmod 700 secrets

random() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
write() { # name value
  if [ ! -s "secrets/$1" ]; then
    printf '%s\n' "$2" > "secrets/$1"
    echo "wrote secrets/$1"
  fi
  chmod 644 "secrets/$1"
}

write postgres_password "$(random)"
write database_url "postgres://parley:$(cat secrets/postgres_password)@postgres:5432/parley"
write redis_password "$(random)"
write auth_token "$(random)"
write admin_token "$(random)"
write dashboard_secret "$(random)"
