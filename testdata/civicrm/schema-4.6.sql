-- tributary test schema: the phase-1 CiviCRM tables, shaped like CiviCRM
-- 4.6 (4.3 to 4.7.24 share its change stamps: only civicrm_contact has
-- created_date/modified_date).
--
-- What differs from the 5.68 schema, in brief:
--   * civicrm_relationship, civicrm_activity and civicrm_saved_search have
--     no created_date/modified_date; civicrm_note.modified_date is a DATE.
--   * civicrm_activity.parent_id and original_id cascade on delete (5.68:
--     SET NULL); civicrm_group.saved_search_id sets NULL (5.68: CASCADE);
--     civicrm_case.case_type_id is nullable and sets NULL;
--     civicrm_saved_search.mapping_id has no ON DELETE action.
--   * civicrm_saved_search has no name/label/api_* columns but carries the
--     where_clause/select_tables/where_tables of the query it stands for.
--   * many flags are nullable tinyints; group.title is varchar(64), website.url
--     varchar(128), tag has no label/color.
--   * tables use the 3-byte utf8 character set, as 4.6 installed them:
--     characters outside the Basic Multilingual Plane (emoji) do not fit.
--
-- How the files are split into statements (see Statements in civicrm.go):
-- a statement ends at a line whose last non-blank character is ';' (or
-- the delimiter a DELIMITER line set), and lines starting with '--' are
-- comments. Keep every ';' at the end of a line out of string literals.

-- Configuration tables ---------------------------------------------------

CREATE TABLE civicrm_worldregion (
  id int unsigned NOT NULL AUTO_INCREMENT,
  name varchar(128) DEFAULT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_address_format (
  id int unsigned NOT NULL AUTO_INCREMENT,
  format text DEFAULT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_country (
  id int unsigned NOT NULL AUTO_INCREMENT,
  name varchar(64) DEFAULT NULL,
  iso_code char(2) DEFAULT NULL,
  country_code varchar(4) DEFAULT NULL,
  address_format_id int unsigned DEFAULT NULL,
  idd_prefix varchar(4) DEFAULT NULL,
  ndd_prefix varchar(4) DEFAULT NULL,
  region_id int unsigned NOT NULL,
  is_province_abbreviated tinyint DEFAULT 0,
  PRIMARY KEY (id),
  UNIQUE KEY UI_name_iso_code (name, iso_code),
  CONSTRAINT FK_civicrm_country_address_format_id FOREIGN KEY (address_format_id) REFERENCES civicrm_address_format (id),
  CONSTRAINT FK_civicrm_country_region_id FOREIGN KEY (region_id) REFERENCES civicrm_worldregion (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_state_province (
  id int unsigned NOT NULL AUTO_INCREMENT,
  name varchar(64) DEFAULT NULL,
  abbreviation varchar(4) DEFAULT NULL,
  country_id int unsigned NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY UI_name_country_id (name, country_id),
  CONSTRAINT FK_civicrm_state_province_country_id FOREIGN KEY (country_id) REFERENCES civicrm_country (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_county (
  id int unsigned NOT NULL AUTO_INCREMENT,
  name varchar(64) DEFAULT NULL,
  abbreviation varchar(4) DEFAULT NULL,
  state_province_id int unsigned NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY UI_name_state_id (name, state_province_id),
  CONSTRAINT FK_civicrm_county_state_province_id FOREIGN KEY (state_province_id) REFERENCES civicrm_state_province (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_location_type (
  id int unsigned NOT NULL AUTO_INCREMENT,
  name varchar(64) DEFAULT NULL,
  display_name varchar(64) DEFAULT NULL,
  vcard_name varchar(64) DEFAULT NULL,
  description varchar(255) DEFAULT NULL,
  is_reserved tinyint DEFAULT NULL,
  is_active tinyint DEFAULT NULL,
  is_default tinyint DEFAULT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY UI_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_relationship_type (
  id int unsigned NOT NULL AUTO_INCREMENT,
  name_a_b varchar(64) DEFAULT NULL,
  label_a_b varchar(64) DEFAULT NULL,
  name_b_a varchar(64) DEFAULT NULL,
  label_b_a varchar(64) DEFAULT NULL,
  description varchar(255) DEFAULT NULL,
  contact_type_a varchar(12) DEFAULT NULL,
  contact_type_b varchar(12) DEFAULT NULL,
  contact_sub_type_a varchar(64) DEFAULT NULL,
  contact_sub_type_b varchar(64) DEFAULT NULL,
  is_reserved tinyint DEFAULT NULL,
  is_active tinyint DEFAULT 1,
  PRIMARY KEY (id),
  UNIQUE KEY UI_name_a_b (name_a_b),
  UNIQUE KEY UI_name_b_a (name_b_a)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_mapping (
  id int unsigned NOT NULL AUTO_INCREMENT,
  name varchar(64) DEFAULT NULL,
  description varchar(255) DEFAULT NULL,
  mapping_type_id int unsigned DEFAULT NULL,
  PRIMARY KEY (id),
  KEY UI_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_case_type (
  id int unsigned NOT NULL AUTO_INCREMENT,
  name varchar(64) NOT NULL,
  title varchar(64) NOT NULL,
  description varchar(255) DEFAULT NULL,
  is_active tinyint DEFAULT NULL,
  is_reserved tinyint DEFAULT NULL,
  weight int NOT NULL DEFAULT 1,
  definition blob DEFAULT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY case_type_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

-- Contacts and what hangs off them -----------------------------------------

CREATE TABLE civicrm_contact (
  id int unsigned NOT NULL AUTO_INCREMENT,
  contact_type varchar(64) DEFAULT NULL,
  contact_sub_type varchar(255) DEFAULT NULL,
  do_not_email tinyint DEFAULT 0,
  do_not_phone tinyint DEFAULT 0,
  do_not_mail tinyint DEFAULT 0,
  do_not_sms tinyint DEFAULT 0,
  do_not_trade tinyint DEFAULT 0,
  is_opt_out tinyint NOT NULL DEFAULT 0,
  legal_identifier varchar(32) DEFAULT NULL,
  external_identifier varchar(64) DEFAULT NULL,
  sort_name varchar(128) DEFAULT NULL,
  display_name varchar(128) DEFAULT NULL,
  nick_name varchar(128) DEFAULT NULL,
  legal_name varchar(128) DEFAULT NULL,
  image_URL varchar(255) DEFAULT NULL,
  preferred_communication_method varchar(255) DEFAULT NULL,
  preferred_language varchar(5) DEFAULT NULL,
  preferred_mail_format varchar(8) DEFAULT 'Both',
  hash varchar(32) DEFAULT NULL,
  api_key varchar(32) DEFAULT NULL,
  source varchar(255) DEFAULT NULL,
  first_name varchar(64) DEFAULT NULL,
  middle_name varchar(64) DEFAULT NULL,
  last_name varchar(64) DEFAULT NULL,
  prefix_id int unsigned DEFAULT NULL,
  suffix_id int unsigned DEFAULT NULL,
  formal_title varchar(64) DEFAULT NULL,
  communication_style_id int unsigned DEFAULT NULL,
  email_greeting_id int unsigned DEFAULT NULL,
  email_greeting_custom varchar(128) DEFAULT NULL,
  email_greeting_display varchar(255) DEFAULT NULL,
  postal_greeting_id int unsigned DEFAULT NULL,
  postal_greeting_custom varchar(128) DEFAULT NULL,
  postal_greeting_display varchar(255) DEFAULT NULL,
  addressee_id int unsigned DEFAULT NULL,
  addressee_custom varchar(128) DEFAULT NULL,
  addressee_display varchar(255) DEFAULT NULL,
  job_title varchar(255) DEFAULT NULL,
  gender_id int unsigned DEFAULT NULL,
  birth_date date DEFAULT NULL,
  is_deceased tinyint DEFAULT 0,
  deceased_date date DEFAULT NULL,
  household_name varchar(128) DEFAULT NULL,
  primary_contact_id int unsigned DEFAULT NULL,
  organization_name varchar(128) DEFAULT NULL,
  sic_code varchar(8) DEFAULT NULL,
  user_unique_id varchar(255) DEFAULT NULL,
  employer_id int unsigned DEFAULT NULL,
  is_deleted tinyint NOT NULL DEFAULT 0,
  created_date timestamp NULL DEFAULT NULL,
  modified_date timestamp NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  UNIQUE KEY UI_external_identifier (external_identifier),
  KEY index_contact_type (contact_type),
  KEY index_sort_name (sort_name),
  KEY index_hash (hash),
  KEY index_api_key (api_key),
  KEY index_first_name (first_name),
  KEY index_last_name (last_name),
  KEY index_household_name (household_name),
  KEY index_organization_name (organization_name),
  KEY index_is_deleted_sort_name (is_deleted, sort_name, id),
  CONSTRAINT FK_civicrm_contact_primary_contact_id FOREIGN KEY (primary_contact_id) REFERENCES civicrm_contact (id) ON DELETE SET NULL,
  CONSTRAINT FK_civicrm_contact_employer_id FOREIGN KEY (employer_id) REFERENCES civicrm_contact (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_address (
  id int unsigned NOT NULL AUTO_INCREMENT,
  contact_id int unsigned DEFAULT NULL,
  location_type_id int unsigned DEFAULT NULL,
  is_primary tinyint DEFAULT 0,
  is_billing tinyint DEFAULT 0,
  street_address varchar(96) DEFAULT NULL,
  street_number int DEFAULT NULL,
  street_number_suffix varchar(8) DEFAULT NULL,
  street_name varchar(64) DEFAULT NULL,
  street_type varchar(8) DEFAULT NULL,
  street_unit varchar(16) DEFAULT NULL,
  supplemental_address_1 varchar(96) DEFAULT NULL,
  supplemental_address_2 varchar(96) DEFAULT NULL,
  supplemental_address_3 varchar(96) DEFAULT NULL,
  city varchar(64) DEFAULT NULL,
  county_id int unsigned DEFAULT NULL,
  state_province_id int unsigned DEFAULT NULL,
  postal_code_suffix varchar(12) DEFAULT NULL,
  postal_code varchar(12) DEFAULT NULL,
  usps_adc varchar(32) DEFAULT NULL,
  country_id int unsigned DEFAULT NULL,
  geo_code_1 double DEFAULT NULL,
  geo_code_2 double DEFAULT NULL,
  manual_geo_code tinyint DEFAULT 0,
  timezone varchar(8) DEFAULT NULL,
  name varchar(255) DEFAULT NULL,
  master_id int unsigned DEFAULT NULL,
  PRIMARY KEY (id),
  KEY index_location_type (location_type_id),
  KEY index_is_primary (is_primary),
  KEY index_city (city),
  CONSTRAINT FK_civicrm_address_contact_id FOREIGN KEY (contact_id) REFERENCES civicrm_contact (id) ON DELETE CASCADE,
  CONSTRAINT FK_civicrm_address_county_id FOREIGN KEY (county_id) REFERENCES civicrm_county (id) ON DELETE SET NULL,
  CONSTRAINT FK_civicrm_address_state_province_id FOREIGN KEY (state_province_id) REFERENCES civicrm_state_province (id) ON DELETE SET NULL,
  CONSTRAINT FK_civicrm_address_country_id FOREIGN KEY (country_id) REFERENCES civicrm_country (id) ON DELETE SET NULL,
  CONSTRAINT FK_civicrm_address_master_id FOREIGN KEY (master_id) REFERENCES civicrm_address (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_email (
  id int unsigned NOT NULL AUTO_INCREMENT,
  contact_id int unsigned DEFAULT NULL,
  location_type_id int unsigned DEFAULT NULL,
  email varchar(254) DEFAULT NULL,
  is_primary tinyint DEFAULT 0,
  is_billing tinyint DEFAULT 0,
  on_hold tinyint NOT NULL DEFAULT 0,
  is_bulkmail tinyint NOT NULL DEFAULT 0,
  hold_date datetime DEFAULT NULL,
  reset_date datetime DEFAULT NULL,
  signature_text text DEFAULT NULL,
  signature_html text DEFAULT NULL,
  PRIMARY KEY (id),
  KEY index_location_type (location_type_id),
  KEY UI_email (email),
  KEY index_is_primary (is_primary),
  CONSTRAINT FK_civicrm_email_contact_id FOREIGN KEY (contact_id) REFERENCES civicrm_contact (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_phone (
  id int unsigned NOT NULL AUTO_INCREMENT,
  contact_id int unsigned DEFAULT NULL,
  location_type_id int unsigned DEFAULT NULL,
  is_primary tinyint DEFAULT 0,
  is_billing tinyint DEFAULT 0,
  mobile_provider_id int unsigned DEFAULT NULL,
  phone varchar(32) DEFAULT NULL,
  phone_ext varchar(16) DEFAULT NULL,
  phone_numeric varchar(32) DEFAULT NULL,
  phone_type_id int unsigned DEFAULT NULL,
  PRIMARY KEY (id),
  KEY index_location_type (location_type_id),
  KEY index_is_primary (is_primary),
  KEY index_phone_numeric (phone_numeric),
  CONSTRAINT FK_civicrm_phone_contact_id FOREIGN KEY (contact_id) REFERENCES civicrm_contact (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_im (
  id int unsigned NOT NULL AUTO_INCREMENT,
  contact_id int unsigned DEFAULT NULL,
  location_type_id int unsigned DEFAULT NULL,
  name varchar(64) DEFAULT NULL,
  provider_id int unsigned DEFAULT NULL,
  is_primary tinyint DEFAULT 0,
  is_billing tinyint DEFAULT 0,
  PRIMARY KEY (id),
  KEY index_location_type (location_type_id),
  CONSTRAINT FK_civicrm_im_contact_id FOREIGN KEY (contact_id) REFERENCES civicrm_contact (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_website (
  id int unsigned NOT NULL AUTO_INCREMENT,
  contact_id int unsigned DEFAULT NULL,
  url varchar(128) DEFAULT NULL,
  website_type_id int unsigned DEFAULT NULL,
  PRIMARY KEY (id),
  KEY UI_website_type_id (website_type_id),
  CONSTRAINT FK_civicrm_website_contact_id FOREIGN KEY (contact_id) REFERENCES civicrm_contact (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_loc_block (
  id int unsigned NOT NULL AUTO_INCREMENT,
  address_id int unsigned DEFAULT NULL,
  email_id int unsigned DEFAULT NULL,
  phone_id int unsigned DEFAULT NULL,
  im_id int unsigned DEFAULT NULL,
  address_2_id int unsigned DEFAULT NULL,
  email_2_id int unsigned DEFAULT NULL,
  phone_2_id int unsigned DEFAULT NULL,
  im_2_id int unsigned DEFAULT NULL,
  PRIMARY KEY (id),
  CONSTRAINT FK_civicrm_loc_block_address_id FOREIGN KEY (address_id) REFERENCES civicrm_address (id) ON DELETE SET NULL,
  CONSTRAINT FK_civicrm_loc_block_email_id FOREIGN KEY (email_id) REFERENCES civicrm_email (id) ON DELETE SET NULL,
  CONSTRAINT FK_civicrm_loc_block_phone_id FOREIGN KEY (phone_id) REFERENCES civicrm_phone (id) ON DELETE SET NULL,
  CONSTRAINT FK_civicrm_loc_block_im_id FOREIGN KEY (im_id) REFERENCES civicrm_im (id) ON DELETE SET NULL,
  CONSTRAINT FK_civicrm_loc_block_address_2_id FOREIGN KEY (address_2_id) REFERENCES civicrm_address (id) ON DELETE SET NULL,
  CONSTRAINT FK_civicrm_loc_block_email_2_id FOREIGN KEY (email_2_id) REFERENCES civicrm_email (id) ON DELETE SET NULL,
  CONSTRAINT FK_civicrm_loc_block_phone_2_id FOREIGN KEY (phone_2_id) REFERENCES civicrm_phone (id) ON DELETE SET NULL,
  CONSTRAINT FK_civicrm_loc_block_im_2_id FOREIGN KEY (im_2_id) REFERENCES civicrm_im (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_case (
  id int unsigned NOT NULL AUTO_INCREMENT,
  case_type_id int unsigned DEFAULT NULL,
  subject varchar(128) DEFAULT NULL,
  start_date date DEFAULT NULL,
  end_date date DEFAULT NULL,
  details text DEFAULT NULL,
  status_id int unsigned NOT NULL,
  is_deleted tinyint DEFAULT 0,
  PRIMARY KEY (id),
  KEY index_case_type_id (case_type_id),
  KEY index_is_deleted (is_deleted),
  CONSTRAINT FK_civicrm_case_case_type_id FOREIGN KEY (case_type_id) REFERENCES civicrm_case_type (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_campaign (
  id int unsigned NOT NULL AUTO_INCREMENT,
  name varchar(255) NOT NULL,
  title varchar(255) DEFAULT NULL,
  description text DEFAULT NULL,
  start_date datetime DEFAULT NULL,
  end_date datetime DEFAULT NULL,
  campaign_type_id int unsigned DEFAULT NULL,
  status_id int unsigned DEFAULT NULL,
  external_identifier varchar(32) DEFAULT NULL,
  parent_id int unsigned DEFAULT NULL,
  is_active tinyint DEFAULT 1,
  created_id int unsigned DEFAULT NULL,
  created_date datetime DEFAULT NULL,
  last_modified_id int unsigned DEFAULT NULL,
  last_modified_date datetime DEFAULT NULL,
  goal_general text DEFAULT NULL,
  goal_revenue decimal(20,2) DEFAULT NULL,
  PRIMARY KEY (id),
  KEY UI_campaign_type_id (campaign_type_id),
  KEY UI_campaign_status_id (status_id),
  UNIQUE KEY UI_external_identifier (external_identifier),
  CONSTRAINT FK_civicrm_campaign_parent_id FOREIGN KEY (parent_id) REFERENCES civicrm_campaign (id) ON DELETE SET NULL,
  CONSTRAINT FK_civicrm_campaign_created_id FOREIGN KEY (created_id) REFERENCES civicrm_contact (id) ON DELETE SET NULL,
  CONSTRAINT FK_civicrm_campaign_last_modified_id FOREIGN KEY (last_modified_id) REFERENCES civicrm_contact (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

-- 4.6 stamps a note's modified_date with a day, not a time.
CREATE TABLE civicrm_note (
  id int unsigned NOT NULL AUTO_INCREMENT,
  entity_table varchar(64) NOT NULL,
  entity_id int unsigned NOT NULL,
  note text DEFAULT NULL,
  contact_id int unsigned DEFAULT NULL,
  modified_date date DEFAULT NULL,
  subject varchar(255) DEFAULT NULL,
  privacy varchar(255) DEFAULT NULL,
  PRIMARY KEY (id),
  KEY index_entity (entity_table, entity_id),
  CONSTRAINT FK_civicrm_note_contact_id FOREIGN KEY (contact_id) REFERENCES civicrm_contact (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_relationship (
  id int unsigned NOT NULL AUTO_INCREMENT,
  contact_id_a int unsigned NOT NULL,
  contact_id_b int unsigned NOT NULL,
  relationship_type_id int unsigned NOT NULL,
  start_date date DEFAULT NULL,
  end_date date DEFAULT NULL,
  is_active tinyint DEFAULT 1,
  description varchar(255) DEFAULT NULL,
  is_permission_a_b tinyint DEFAULT 0,
  is_permission_b_a tinyint DEFAULT 0,
  case_id int unsigned DEFAULT NULL,
  PRIMARY KEY (id),
  CONSTRAINT FK_civicrm_relationship_contact_id_a FOREIGN KEY (contact_id_a) REFERENCES civicrm_contact (id) ON DELETE CASCADE,
  CONSTRAINT FK_civicrm_relationship_contact_id_b FOREIGN KEY (contact_id_b) REFERENCES civicrm_contact (id) ON DELETE CASCADE,
  CONSTRAINT FK_civicrm_relationship_relationship_type_id FOREIGN KEY (relationship_type_id) REFERENCES civicrm_relationship_type (id) ON DELETE CASCADE,
  CONSTRAINT FK_civicrm_relationship_case_id FOREIGN KEY (case_id) REFERENCES civicrm_case (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

-- Groups, tags and saved searches ------------------------------------------

CREATE TABLE civicrm_saved_search (
  id int unsigned NOT NULL AUTO_INCREMENT,
  form_values text DEFAULT NULL,
  mapping_id int unsigned DEFAULT NULL,
  search_custom_id int unsigned DEFAULT NULL,
  where_clause text DEFAULT NULL,
  select_tables text DEFAULT NULL,
  where_tables text DEFAULT NULL,
  PRIMARY KEY (id),
  CONSTRAINT FK_civicrm_saved_search_mapping_id FOREIGN KEY (mapping_id) REFERENCES civicrm_mapping (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_group (
  id int unsigned NOT NULL AUTO_INCREMENT,
  name varchar(64) DEFAULT NULL,
  title varchar(64) DEFAULT NULL,
  description text DEFAULT NULL,
  source varchar(64) DEFAULT NULL,
  saved_search_id int unsigned DEFAULT NULL,
  is_active tinyint DEFAULT NULL,
  visibility varchar(24) DEFAULT 'User and User Admin Only',
  where_clause text DEFAULT NULL,
  select_tables text DEFAULT NULL,
  where_tables text DEFAULT NULL,
  group_type varchar(128) DEFAULT NULL,
  cache_date timestamp NULL DEFAULT NULL,
  refresh_date timestamp NULL DEFAULT NULL,
  parents text DEFAULT NULL,
  children text DEFAULT NULL,
  is_hidden tinyint DEFAULT 0,
  is_reserved tinyint DEFAULT 0,
  created_id int unsigned DEFAULT NULL,
  modified_id int unsigned DEFAULT NULL,
  PRIMARY KEY (id),
  KEY index_group_type (group_type),
  UNIQUE KEY UI_title (title),
  UNIQUE KEY UI_name (name),
  CONSTRAINT FK_civicrm_group_saved_search_id FOREIGN KEY (saved_search_id) REFERENCES civicrm_saved_search (id) ON DELETE SET NULL,
  CONSTRAINT FK_civicrm_group_created_id FOREIGN KEY (created_id) REFERENCES civicrm_contact (id) ON DELETE SET NULL,
  CONSTRAINT FK_civicrm_group_modified_id FOREIGN KEY (modified_id) REFERENCES civicrm_contact (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_group_contact (
  id int unsigned NOT NULL AUTO_INCREMENT,
  group_id int unsigned NOT NULL,
  contact_id int unsigned NOT NULL,
  status varchar(8) DEFAULT NULL,
  location_id int unsigned DEFAULT NULL,
  email_id int unsigned DEFAULT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY UI_contact_group (contact_id, group_id),
  CONSTRAINT FK_civicrm_group_contact_group_id FOREIGN KEY (group_id) REFERENCES civicrm_group (id) ON DELETE CASCADE,
  CONSTRAINT FK_civicrm_group_contact_contact_id FOREIGN KEY (contact_id) REFERENCES civicrm_contact (id) ON DELETE CASCADE,
  CONSTRAINT FK_civicrm_group_contact_location_id FOREIGN KEY (location_id) REFERENCES civicrm_loc_block (id) ON DELETE SET NULL,
  CONSTRAINT FK_civicrm_group_contact_email_id FOREIGN KEY (email_id) REFERENCES civicrm_email (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_group_nesting (
  id int unsigned NOT NULL AUTO_INCREMENT,
  child_group_id int unsigned NOT NULL,
  parent_group_id int unsigned NOT NULL,
  PRIMARY KEY (id),
  CONSTRAINT FK_civicrm_group_nesting_child_group_id FOREIGN KEY (child_group_id) REFERENCES civicrm_group (id) ON DELETE CASCADE,
  CONSTRAINT FK_civicrm_group_nesting_parent_group_id FOREIGN KEY (parent_group_id) REFERENCES civicrm_group (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_group_organization (
  id int unsigned NOT NULL AUTO_INCREMENT,
  group_id int unsigned NOT NULL,
  organization_id int unsigned NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY UI_group_organization (group_id, organization_id),
  CONSTRAINT FK_civicrm_group_organization_group_id FOREIGN KEY (group_id) REFERENCES civicrm_group (id) ON DELETE CASCADE,
  CONSTRAINT FK_civicrm_group_organization_organization_id FOREIGN KEY (organization_id) REFERENCES civicrm_contact (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_tag (
  id int unsigned NOT NULL AUTO_INCREMENT,
  name varchar(64) NOT NULL,
  description varchar(255) DEFAULT NULL,
  parent_id int unsigned DEFAULT NULL,
  is_selectable tinyint DEFAULT 1,
  is_reserved tinyint DEFAULT 0,
  is_tagset tinyint DEFAULT 0,
  used_for varchar(64) DEFAULT NULL,
  created_id int unsigned DEFAULT NULL,
  created_date datetime DEFAULT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY UI_name (name),
  CONSTRAINT FK_civicrm_tag_parent_id FOREIGN KEY (parent_id) REFERENCES civicrm_tag (id),
  CONSTRAINT FK_civicrm_tag_created_id FOREIGN KEY (created_id) REFERENCES civicrm_contact (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_entity_tag (
  id int unsigned NOT NULL AUTO_INCREMENT,
  entity_table varchar(64) DEFAULT NULL,
  entity_id int unsigned NOT NULL,
  tag_id int unsigned NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY UI_entity_id_entity_table_tag_id (entity_id, entity_table, tag_id),
  CONSTRAINT FK_civicrm_entity_tag_tag_id FOREIGN KEY (tag_id) REFERENCES civicrm_tag (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

-- Activities -------------------------------------------------------------

CREATE TABLE civicrm_activity (
  id int unsigned NOT NULL AUTO_INCREMENT,
  source_record_id int unsigned DEFAULT NULL,
  activity_type_id int unsigned NOT NULL DEFAULT 1,
  subject varchar(255) DEFAULT NULL,
  activity_date_time datetime DEFAULT NULL,
  duration int unsigned DEFAULT NULL,
  location varchar(255) DEFAULT NULL,
  phone_id int unsigned DEFAULT NULL,
  phone_number varchar(64) DEFAULT NULL,
  details text DEFAULT NULL,
  status_id int unsigned DEFAULT NULL,
  priority_id int unsigned DEFAULT NULL,
  parent_id int unsigned DEFAULT NULL,
  is_test tinyint DEFAULT 0,
  medium_id int unsigned DEFAULT NULL,
  is_auto tinyint DEFAULT 0,
  relationship_id int unsigned DEFAULT NULL,
  is_current_revision tinyint DEFAULT 1,
  original_id int unsigned DEFAULT NULL,
  result varchar(255) DEFAULT NULL,
  is_deleted tinyint DEFAULT 0,
  campaign_id int unsigned DEFAULT NULL,
  engagement_level int unsigned DEFAULT NULL,
  weight int DEFAULT NULL,
  PRIMARY KEY (id),
  KEY UI_source_record_id (source_record_id),
  KEY UI_activity_type_id (activity_type_id),
  KEY index_medium_id (medium_id),
  KEY index_is_current_revision (is_current_revision),
  KEY index_is_deleted (is_deleted),
  CONSTRAINT FK_civicrm_activity_phone_id FOREIGN KEY (phone_id) REFERENCES civicrm_phone (id) ON DELETE SET NULL,
  CONSTRAINT FK_civicrm_activity_parent_id FOREIGN KEY (parent_id) REFERENCES civicrm_activity (id) ON DELETE CASCADE,
  CONSTRAINT FK_civicrm_activity_relationship_id FOREIGN KEY (relationship_id) REFERENCES civicrm_relationship (id) ON DELETE SET NULL,
  CONSTRAINT FK_civicrm_activity_original_id FOREIGN KEY (original_id) REFERENCES civicrm_activity (id) ON DELETE CASCADE,
  CONSTRAINT FK_civicrm_activity_campaign_id FOREIGN KEY (campaign_id) REFERENCES civicrm_campaign (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

CREATE TABLE civicrm_activity_contact (
  id int unsigned NOT NULL AUTO_INCREMENT,
  activity_id int unsigned NOT NULL,
  contact_id int unsigned NOT NULL,
  record_type_id int unsigned DEFAULT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY UI_activity_contact (contact_id, activity_id, record_type_id),
  KEY index_record_type (activity_id, record_type_id),
  CONSTRAINT FK_civicrm_activity_contact_activity_id FOREIGN KEY (activity_id) REFERENCES civicrm_activity (id) ON DELETE CASCADE,
  CONSTRAINT FK_civicrm_activity_contact_contact_id FOREIGN KEY (contact_id) REFERENCES civicrm_contact (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

-- The installed release: CiviCRM writes its version here on install and
-- on every upgrade.
CREATE TABLE civicrm_domain (
  id int unsigned NOT NULL AUTO_INCREMENT,
  name varchar(64) DEFAULT NULL,
  description varchar(255) DEFAULT NULL,
  version varchar(32) DEFAULT NULL,
  contact_id int unsigned DEFAULT NULL,
  locales text DEFAULT NULL,
  locale_custom_strings text DEFAULT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY UI_name (name),
  CONSTRAINT FK_civicrm_domain_contact_id FOREIGN KEY (contact_id) REFERENCES civicrm_contact (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_unicode_ci;

INSERT INTO civicrm_domain (id, name, version) VALUES (1, 'Default Domain Name', '4.6.23');
