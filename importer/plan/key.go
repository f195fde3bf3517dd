package plan

import (
	"fmt"
	"strconv"
	"strings"

	"tributary/schema"
)

// KeyPart is the canonical text of one key value, the same whether it
// comes from a bound parameter or is read back from the master.
func KeyPart(v any) string {
	switch x := v.(type) {
	case nil:
		return "\x00NULL"
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case string:
		if n, err := strconv.ParseInt(x, 10, 64); err == nil {
			return strconv.FormatInt(n, 10)
		}
		return x
	case []byte:
		return KeyPart(string(x))
	default:
		return ""
	}
}

// EncodeKey joins the canonical parts of a composite key, so that keys can
// be kept in maps and compared whatever form their values came in.
func EncodeKey(parts []any) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(0x1f)
		}
		b.WriteString(KeyPart(p))
	}
	return b.String()
}

// AsInt64 reads an ID as the driver returns it from the master.
func AsInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case uint64:
		return int64(x), nil
	case []byte:
		var n int64
		_, err := fmt.Sscan(string(x), &n)
		return n, err
	}
	return 0, fmt.Errorf("unexpected key value of type %T", v)
}

// PrefixColumn is the key column that tells a composite table's rows of
// one prefix from another's: the first that references a synced table.
// A key made only of shared references has none.
func PrefixColumn(t *schema.Table) (string, *schema.Reference) {
	for _, col := range t.Key {
		ref := t.Ref(col)
		if ref != nil && !ref.Shared && !ref.Polymorphic() {
			return col, ref
		}
	}
	return "", nil
}
