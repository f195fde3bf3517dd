-- Seed rows of the configuration tables, the same in every generation of
-- the test schema: the rows generated data refers to.

INSERT INTO civicrm_worldregion (id, name) VALUES
  (1, 'Europe and Central Asia'),
  (2, 'America South, Central, North and Caribbean'),
  (3, 'Middle East and North Africa'),
  (4, 'Asia-Pacific'),
  (5, 'Africa West, East, Central and Southern');

INSERT INTO civicrm_country (id, name, iso_code, country_code, idd_prefix, ndd_prefix, region_id, is_province_abbreviated) VALUES
  (1013, 'Australia', 'AU', '61', '0011', '0', 4, 0),
  (1014, 'Austria', 'AT', '43', '00', '0', 1, 0),
  (1039, 'Canada', 'CA', '1', '011', '1', 2, 1),
  (1076, 'France', 'FR', '33', '00', '0', 1, 0),
  (1082, 'Germany', 'DE', '49', '00', '0', 1, 0),
  (1107, 'Japan', 'JP', '81', '010', '0', 4, 0),
  (1226, 'United Kingdom', 'GB', '44', '00', '0', 1, 0),
  (1228, 'United States', 'US', '1', '011', '1', 2, 1);

INSERT INTO civicrm_state_province (id, name, abbreviation, country_id) VALUES
  (1004, 'California', 'CA', 1228),
  (1012, 'Illinois', 'IL', 1228),
  (1031, 'New York', 'NY', 1228),
  (1100, 'Ontario', 'ON', 1039),
  (1101, 'Québec', 'QC', 1039),
  (1200, 'Berlin', 'BE', 1082),
  (1201, 'Bayern', 'BY', 1082),
  (1300, 'Île-de-France', 'IDF', 1076),
  (1400, 'Tōkyō', '13', 1107),
  (1500, 'England', 'ENG', 1226),
  (1600, 'Wien', '9', 1014),
  (1700, 'New South Wales', 'NSW', 1013);

INSERT INTO civicrm_county (id, name, abbreviation, state_province_id) VALUES
  (1, 'Los Angeles', 'LA', 1004),
  (2, 'San Francisco', 'SF', 1004),
  (3, 'Cook', 'COOK', 1012),
  (4, 'Kings', 'KI', 1031);

INSERT INTO civicrm_location_type (id, name, display_name, vcard_name, description, is_reserved, is_active, is_default) VALUES
  (1, 'Home', 'Home', 'HOME', 'Place of residence', 0, 1, 1),
  (2, 'Work', 'Work', 'WORK', 'Work location', 0, 1, 0),
  (3, 'Main', 'Main', NULL, 'Main office location', 0, 1, 0),
  (4, 'Other', 'Other', NULL, 'Other location', 0, 1, 0),
  (5, 'Billing', 'Billing', NULL, 'Billing Address location', 1, 1, 0);

INSERT INTO civicrm_relationship_type (id, name_a_b, label_a_b, name_b_a, label_b_a, description, contact_type_a, contact_type_b, is_reserved, is_active) VALUES
  (1, 'Child of', 'Child of', 'Parent of', 'Parent of', 'Parent/child relationship.', 'Individual', 'Individual', 0, 1),
  (2, 'Spouse of', 'Spouse of', 'Spouse of', 'Spouse of', 'Spousal relationship.', 'Individual', 'Individual', 0, 1),
  (3, 'Sibling of', 'Sibling of', 'Sibling of', 'Sibling of', 'Sibling relationship.', 'Individual', 'Individual', 0, 1),
  (4, 'Employee of', 'Employee of', 'Employer of', 'Employer of', 'Employment relationship.', 'Individual', 'Organization', 1, 1),
  (5, 'Volunteer for', 'Volunteer for', 'Volunteer is', 'Volunteer is', 'Volunteer relationship.', 'Individual', 'Organization', 0, 1),
  (6, 'Head of Household for', 'Head of Household for', 'Head of Household is', 'Head of Household is', 'Head of household.', 'Individual', 'Household', 1, 1),
  (7, 'Household Member of', 'Household Member of', 'Household Member is', 'Household Member is', 'Household membership.', 'Individual', 'Household', 1, 1),
  (8, 'Case Coordinator is', 'Case Coordinator is', 'Case Coordinator', 'Case Coordinator', 'Case Coordinator', 'Individual', 'Individual', 0, 1);

INSERT INTO civicrm_mapping (id, name, description, mapping_type_id) VALUES
  (1, 'Volunteers by city', 'Search builder: volunteers grouped by city', 6),
  (2, 'Donor export', 'Export fields for the annual report', 7);

INSERT INTO civicrm_case_type (id, name, title, description, is_active, is_reserved, weight) VALUES
  (1, 'housing_support', 'Housing Support', 'Help homeless individuals obtain temporary and long-term housing', 1, 0, 1),
  (2, 'adult_day_care_referral', 'Adult Day Care Referral', 'Arranging adult day care for senior individuals', 1, 0, 2);

INSERT INTO civicrm_case (id, case_type_id, subject, start_date, details, status_id, is_deleted) VALUES
  (1, 1, 'Emergency shelter', '2023-11-02', NULL, 1, 0),
  (2, 1, 'Long-term housing', '2023-12-14', 'Referred by the city office.', 1, 0),
  (3, 2, 'Day care intake', '2024-01-08', NULL, 2, 0),
  (4, 2, 'Transport assessment', '2024-02-20', NULL, 1, 0),
  (5, 1, 'Follow-up visit', '2024-03-05', NULL, 3, 1);

INSERT INTO civicrm_campaign (id, name, title, description, start_date, campaign_type_id, status_id, external_identifier, parent_id, is_active, goal_revenue) VALUES
  (1, 'spring_appeal', 'Spring Appeal', 'Annual spring fundraising appeal', '2024-03-01 00:00:00', 1, 2, 'CAMP-1', NULL, 1, 25000.00),
  (2, 'spring_appeal_mail', 'Spring Appeal: mail', NULL, '2024-03-01 00:00:00', 1, 2, 'CAMP-2', 1, 1, NULL),
  (3, 'get_out_the_vote', 'Get Out The Vote', 'Phone banking and door knocking', '2024-09-01 00:00:00', 2, 1, NULL, NULL, 1, NULL);
