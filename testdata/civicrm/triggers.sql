-- The triggers CiviCRM creates at run time (they are not in its generated
-- sql/civicrm.mysql), the same in every release since 4.3, on branches and
-- on the master alike (CRM_Contact_BAO_Contact::triggerInfo):
--   * civicrm_contact: created_date is stamped on insert;
--   * civicrm_address, _email, _im, _phone, _website: any insert, update
--     or delete moves the owning contact's modified_date;
--   * civicrm_phone: phone_numeric is phone's digits, through the stored
--     function civicrm_strip_non_numeric.
-- CiviCRM gathers a table's statements for one timing and event into one
-- trigger named <table>_<timing>_<event>, with a BEGIN ... END body, as
-- below. Rows that a foreign key's ON DELETE CASCADE removes fire no
-- trigger.

DELIMITER //

CREATE FUNCTION civicrm_strip_non_numeric(input varchar(255)) RETURNS varchar(255)
  DETERMINISTIC NO SQL
  RETURN REGEXP_REPLACE(COALESCE(input, ''), '[^0-9]', '')
//

CREATE TRIGGER civicrm_contact_before_insert BEFORE INSERT ON civicrm_contact FOR EACH ROW BEGIN
SET NEW.created_date = CURRENT_TIMESTAMP;
END //

CREATE TRIGGER civicrm_address_after_insert AFTER INSERT ON civicrm_address FOR EACH ROW BEGIN
UPDATE civicrm_contact SET modified_date = CURRENT_TIMESTAMP WHERE id = NEW.contact_id;
END //
CREATE TRIGGER civicrm_address_after_update AFTER UPDATE ON civicrm_address FOR EACH ROW BEGIN
UPDATE civicrm_contact SET modified_date = CURRENT_TIMESTAMP WHERE id = NEW.contact_id;
END //
CREATE TRIGGER civicrm_address_after_delete AFTER DELETE ON civicrm_address FOR EACH ROW BEGIN
UPDATE civicrm_contact SET modified_date = CURRENT_TIMESTAMP WHERE id = OLD.contact_id;
END //

CREATE TRIGGER civicrm_email_after_insert AFTER INSERT ON civicrm_email FOR EACH ROW BEGIN
UPDATE civicrm_contact SET modified_date = CURRENT_TIMESTAMP WHERE id = NEW.contact_id;
END //
CREATE TRIGGER civicrm_email_after_update AFTER UPDATE ON civicrm_email FOR EACH ROW BEGIN
UPDATE civicrm_contact SET modified_date = CURRENT_TIMESTAMP WHERE id = NEW.contact_id;
END //
CREATE TRIGGER civicrm_email_after_delete AFTER DELETE ON civicrm_email FOR EACH ROW BEGIN
UPDATE civicrm_contact SET modified_date = CURRENT_TIMESTAMP WHERE id = OLD.contact_id;
END //

CREATE TRIGGER civicrm_im_after_insert AFTER INSERT ON civicrm_im FOR EACH ROW BEGIN
UPDATE civicrm_contact SET modified_date = CURRENT_TIMESTAMP WHERE id = NEW.contact_id;
END //
CREATE TRIGGER civicrm_im_after_update AFTER UPDATE ON civicrm_im FOR EACH ROW BEGIN
UPDATE civicrm_contact SET modified_date = CURRENT_TIMESTAMP WHERE id = NEW.contact_id;
END //
CREATE TRIGGER civicrm_im_after_delete AFTER DELETE ON civicrm_im FOR EACH ROW BEGIN
UPDATE civicrm_contact SET modified_date = CURRENT_TIMESTAMP WHERE id = OLD.contact_id;
END //

CREATE TRIGGER civicrm_phone_before_insert BEFORE INSERT ON civicrm_phone FOR EACH ROW BEGIN
SET NEW.phone_numeric = civicrm_strip_non_numeric(NEW.phone);
END //
CREATE TRIGGER civicrm_phone_before_update BEFORE UPDATE ON civicrm_phone FOR EACH ROW BEGIN
SET NEW.phone_numeric = civicrm_strip_non_numeric(NEW.phone);
END //
CREATE TRIGGER civicrm_phone_after_insert AFTER INSERT ON civicrm_phone FOR EACH ROW BEGIN
UPDATE civicrm_contact SET modified_date = CURRENT_TIMESTAMP WHERE id = NEW.contact_id;
END //
CREATE TRIGGER civicrm_phone_after_update AFTER UPDATE ON civicrm_phone FOR EACH ROW BEGIN
UPDATE civicrm_contact SET modified_date = CURRENT_TIMESTAMP WHERE id = NEW.contact_id;
END //
CREATE TRIGGER civicrm_phone_after_delete AFTER DELETE ON civicrm_phone FOR EACH ROW BEGIN
UPDATE civicrm_contact SET modified_date = CURRENT_TIMESTAMP WHERE id = OLD.contact_id;
END //

CREATE TRIGGER civicrm_website_after_insert AFTER INSERT ON civicrm_website FOR EACH ROW BEGIN
UPDATE civicrm_contact SET modified_date = CURRENT_TIMESTAMP WHERE id = NEW.contact_id;
END //
CREATE TRIGGER civicrm_website_after_update AFTER UPDATE ON civicrm_website FOR EACH ROW BEGIN
UPDATE civicrm_contact SET modified_date = CURRENT_TIMESTAMP WHERE id = NEW.contact_id;
END //
CREATE TRIGGER civicrm_website_after_delete AFTER DELETE ON civicrm_website FOR EACH ROW BEGIN
UPDATE civicrm_contact SET modified_date = CURRENT_TIMESTAMP WHERE id = OLD.contact_id;
END //

DELIMITER ;
