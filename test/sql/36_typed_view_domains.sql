-- 36_typed_view_domains: no archived value or absence fails a typed view (review R4, finding 2):
-- a NOT NULL domain column that is excluded or masked, a domain tightened after rows were
-- archived, a NOT NULL domain column added later, an enum label renamed later. Such values come
-- back NULL in their typed column; the others keep their type. The view still runs as the reader.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_dr_reader36;
RESET client_min_messages;
CREATE ROLE regress_dr_reader36;
CREATE SCHEMA t36;
GRANT USAGE ON SCHEMA t36 TO regress_dr_reader36;
GRANT SELECT ON deleted_record TO regress_dr_reader36;
SET search_path = t36, public;
CREATE DOMAIN email AS text NOT NULL CHECK (VALUE LIKE '%@%');
CREATE DOMAIN sku AS text CHECK (VALUE <> '');
CREATE TYPE mood AS ENUM ('sad', 'ok');

-- (a) excluded and masked columns of a NOT NULL domain
CREATE TABLE customer (id int PRIMARY KEY, mail email, secret email);
SELECT deleted_record_attach('customer', exclude_columns => '{secret}') IS NOT NULL AS attached;
INSERT INTO customer VALUES (1, 'a@x', 'b@y');
DELETE FROM customer;
SELECT deleted_record_view('customer');
SELECT id, mail, secret, pg_typeof(mail) AS mail_type, pg_typeof(secret) AS secret_type FROM customer_deleted;
CREATE TABLE person (id int PRIMARY KEY, mail email);
SELECT deleted_record_attach('person', mask_columns => '{mail}') IS NOT NULL AS attached;
INSERT INTO person VALUES (1, 'a@x');
DELETE FROM person;
SELECT deleted_record_view('person');
SELECT id, mail, archive_masked ? 'mail' AS masked_kept FROM person_deleted;

-- (b) a domain tightened after rows were archived: the old value no longer passes, the others do
CREATE TABLE product (id int PRIMARY KEY, code sku);
SELECT deleted_record_attach('product') IS NOT NULL AS attached;
INSERT INTO product VALUES (1, 'Abc'), (2, 'xyz-legacy'), (3, 'Def');
DELETE FROM product WHERE id < 3;
SELECT deleted_record_view('product');
SELECT id, code FROM product_deleted ORDER BY id;
ALTER DOMAIN sku ADD CONSTRAINT sku_upper CHECK (VALUE ~ '^[A-Z]');
SELECT id, code FROM product_deleted ORDER BY id;
-- as a reader granted the archive and the view
GRANT SELECT ON product_deleted TO regress_dr_reader36;
SET ROLE regress_dr_reader36;
SELECT id, code FROM product_deleted ORDER BY id;
RESET ROLE;

-- (c) a NOT NULL domain column added later; an enum label renamed later
CREATE TABLE account (id int PRIMARY KEY, feeling mood);
SELECT deleted_record_attach('account') IS NOT NULL AS attached;
INSERT INTO account VALUES (1, 'sad'), (2, 'ok');
DELETE FROM account WHERE id = 1;
SELECT deleted_record_view('account');
ALTER TABLE account ADD COLUMN contact email DEFAULT 'ops@example.com';
ALTER TYPE mood RENAME VALUE 'sad' TO 'blue';
DELETE FROM account;
SELECT id, feeling, contact FROM account_deleted ORDER BY id;

-- cleanup
DROP TABLE customer, person, product, account;
DELETE FROM deleted_record WHERE schema_name = 't36';
RESET search_path;
DROP SCHEMA t36 CASCADE;
REVOKE SELECT ON deleted_record FROM regress_dr_reader36;
DROP ROLE regress_dr_reader36;
