#!/bin/sh
# orderflow's PostgreSQL roles, made once on an empty data directory (the postgres image runs
# /docker-entrypoint-initdb.d/* as the superuser). Least privilege (deploy/README.md):
#   orderflow_owner  owns the orderflow database and its schemas: `orderflow migrate` (DDL)
#   orderflow_app    the gateway and the worker: CONNECT here; the migrations grant it DML
#                    on orderflow's schemas (app/migrate.py), nothing else
#   temporal         the Temporal server: creates and owns its own databases
# The superuser (POSTGRES_USER) is used by nothing else.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v db="$POSTGRES_DB" \
  -v owner_password="$POSTGRES_OWNER_PASSWORD" \
  -v app_password="$POSTGRES_APP_PASSWORD" \
  -v temporal_password="$POSTGRES_TEMPORAL_PASSWORD" <<'SQL'
CREATE ROLE orderflow_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE orderflow_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
CREATE ROLE temporal LOGIN NOSUPERUSER CREATEDB NOCREATEROLE PASSWORD :'temporal_password';
ALTER DATABASE :"db" OWNER TO orderflow_owner;
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO orderflow_app;
SQL
