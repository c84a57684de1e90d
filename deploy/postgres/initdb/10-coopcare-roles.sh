#!/bin/sh
# CoopCare's two database roles (README, "Audit log"), made once, when the postgres container
# starts on an empty volume (mounted into /docker-entrypoint-initdb.d by docker-compose.yml).
#   coopcare_owner  owns the database, its schema and every table; runs `manage.py migrate`.
#   coopcare_app    web, worker and beat: owns nothing; DML on every table, but only SELECT and
#                   INSERT on the audit log (the grants come from migration cooperative 0005).
set -eu
: "${COOPCARE_OWNER_PASSWORD:?set COOPCARE_OWNER_PASSWORD}"
: "${COOPCARE_APP_PASSWORD:?set COOPCARE_APP_PASSWORD}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v db="$POSTGRES_DB" \
  -v owner_password="$COOPCARE_OWNER_PASSWORD" \
  -v app_password="$COOPCARE_APP_PASSWORD" <<'SQL'
CREATE ROLE coopcare_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'owner_password';
CREATE ROLE coopcare_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'app_password';
ALTER DATABASE :"db" OWNER TO coopcare_owner;
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO coopcare_app;
-- Needs a superuser once; the migrations then find it (exclusion constraints on date ranges).
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
SQL
