package database

import "database/sql"

// ScanRows calls scan for every row of rows and closes them, returning the
// first error of scan, of reading (Rows.Err) or of closing. Close must be
// checked: a server error that arrives after the rows already read (a
// deadlock that rolled the transaction back, a killed query) is reported
// by it alone, and a caller that missed it would go on outside the
// transaction it thinks it is in.
func ScanRows(rows *sql.Rows, scan func(*sql.Rows) error) (err error) {
	defer func() {
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
	}()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
