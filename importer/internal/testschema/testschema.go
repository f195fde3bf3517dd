// Package testschema is the schema and sync map the import's tests run
// on, in every package of the importer.
package testschema

// Statements make the test schema. It has what the import must handle: a
// self-reference (contact.employer_id, tag.parent_id), a two-table cycle
// (contact.org_id and org.primary_contact_id), a polymorphic reference
// (note.entity_id, which may point at a note), an owned table (email) and
// a composite-key owned table (contact_tag), ON DELETE SET NULL and
// CASCADE, a shared table, an excluded column, and values that must
// survive exactly (DECIMAL, zero dates, binary, big integers).
var Statements = []string{
	`CREATE TABLE location_type (id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(32) NOT NULL)`,
	`INSERT INTO location_type (id, name) VALUES (1, 'Home'), (2, 'Work')`,
	`CREATE TABLE tag (
		id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		name VARCHAR(128) NOT NULL,
		parent_id INT UNSIGNED NULL,
		CONSTRAINT fk_tag_parent FOREIGN KEY (parent_id) REFERENCES tag (id) ON DELETE SET NULL)`,
	`CREATE TABLE contact (
		id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		display_name VARCHAR(128) NULL,
		employer_id INT UNSIGNED NULL,
		org_id INT UNSIGNED NULL,
		amount DECIMAL(14,4) NULL,
		big BIGINT UNSIGNED NULL,
		birth_date DATE NULL,
		created DATETIME NULL,
		photo VARBINARY(32) NULL,
		api_key VARCHAR(32) NULL,
		modified_date TIMESTAMP(6) NOT NULL DEFAULT '2001-01-01 00:00:00',
		CONSTRAINT fk_contact_employer FOREIGN KEY (employer_id) REFERENCES contact (id) ON DELETE SET NULL)`,
	`CREATE TABLE org (
		id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		name VARCHAR(128) NOT NULL,
		primary_contact_id INT UNSIGNED NULL,
		modified_date TIMESTAMP(6) NOT NULL DEFAULT '2001-01-01 00:00:00',
		CONSTRAINT fk_org_contact FOREIGN KEY (primary_contact_id) REFERENCES contact (id) ON DELETE SET NULL)`,
	`ALTER TABLE contact ADD CONSTRAINT fk_contact_org FOREIGN KEY (org_id) REFERENCES org (id) ON DELETE SET NULL`,
	`CREATE TABLE email (
		id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		contact_id INT UNSIGNED NOT NULL,
		location_type_id INT UNSIGNED NULL,
		email VARCHAR(255) NULL,
		is_primary TINYINT NOT NULL DEFAULT 0,
		CONSTRAINT fk_email_contact FOREIGN KEY (contact_id) REFERENCES contact (id) ON DELETE CASCADE,
		CONSTRAINT fk_email_location FOREIGN KEY (location_type_id) REFERENCES location_type (id))`,
	`CREATE TABLE contact_tag (
		contact_id INT UNSIGNED NOT NULL,
		tag_id INT UNSIGNED NOT NULL,
		added DATETIME NULL,
		PRIMARY KEY (contact_id, tag_id),
		CONSTRAINT fk_ct_contact FOREIGN KEY (contact_id) REFERENCES contact (id) ON DELETE CASCADE,
		CONSTRAINT fk_ct_tag FOREIGN KEY (tag_id) REFERENCES tag (id) ON DELETE CASCADE)`,
	`CREATE TABLE note (
		id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		entity_table VARCHAR(64) NOT NULL,
		entity_id INT UNSIGNED NOT NULL,
		body TEXT NULL,
		modified_date TIMESTAMP(6) NOT NULL DEFAULT '2001-01-01 00:00:00',
		KEY i_entity (entity_table, entity_id))`,
	`CREATE TABLE relationship (
		id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		contact_a INT UNSIGNED NOT NULL,
		contact_b INT UNSIGNED NOT NULL,
		kind VARCHAR(128) NULL,
		modified_date TIMESTAMP(6) NOT NULL DEFAULT '2001-01-01 00:00:00',
		CONSTRAINT fk_rel_a FOREIGN KEY (contact_a) REFERENCES contact (id) ON DELETE CASCADE,
		CONSTRAINT fk_rel_b FOREIGN KEY (contact_b) REFERENCES contact (id) ON DELETE CASCADE)`,
	`CREATE TABLE activity (
		id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
		subject VARCHAR(128) NULL,
		source_contact_id INT UNSIGNED NULL,
		location_type_id INT UNSIGNED NULL,
		modified_date TIMESTAMP(6) NOT NULL DEFAULT '2001-01-01 00:00:00',
		CONSTRAINT fk_act_contact FOREIGN KEY (source_contact_id) REFERENCES contact (id) ON DELETE SET NULL,
		CONSTRAINT fk_act_location FOREIGN KEY (location_type_id) REFERENCES location_type (id))`,
}

// Map is the sync map of the test schema.
const Map = `
shared: [location_type]
tables:
  tag: { snapshot: true }
  contact:
    track: modified_date
    exclude: [api_key]
  org: { track: modified_date }
  email: { owner: contact_id }
  contact_tag: { owner: contact_id }
  note:
    track: modified_date
    references:
      entity_id: { table_from: entity_table }
  relationship: { track: modified_date }
  activity: { track: modified_date }
`
