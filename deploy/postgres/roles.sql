-- Least privilege in PostgreSQL: a migration owner that owns every schema and table, and one
-- login role per service that may only read and write its own schema's rows (no DDL, no other
-- schema). Idempotent: run it again to add a service or to change passwords.
--   docker-compose.yml runs it at the database's first start (/docker-entrypoint-initdb.d);
--   production: CREDSTACK_OWNER_PASSWORD=... CATALOGUE_DB_PASSWORD=... (one per service)
--               psql "$ADMIN_DATABASE_URL" -f deploy/postgres/roles.sql
-- Migrations run as credstack_owner (`credstack migrate` with its DATABASE_URL); the default
-- privileges below grant each service its new tables as the owner creates them.
\set ON_ERROR_STOP on
SELECT current_database() AS db \gset

\getenv owner_password CREDSTACK_OWNER_PASSWORD
SELECT 'CREATE ROLE credstack_owner'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'credstack_owner') \gexec
ALTER ROLE credstack_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
GRANT CONNECT, CREATE ON DATABASE :"db" TO credstack_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- One block per service: role = schema = service name.
\set service catalogue
\getenv password CATALOGUE_DB_PASSWORD
\ir service-role.psql
\set service enrolment
\getenv password ENROLMENT_DB_PASSWORD
\ir service-role.psql
\set service assessment
\getenv password ASSESSMENT_DB_PASSWORD
\ir service-role.psql
\set service issuer
\getenv password ISSUER_DB_PASSWORD
\ir service-role.psql
\set service dashboard
\getenv password DASHBOARD_DB_PASSWORD
\ir service-role.psql
\set service notifier
\getenv password NOTIFIER_DB_PASSWORD
\ir service-role.psql
