package reconcile

import (
	"context"

	"tributary/importer/plan"
	"tributary/mapping"
	"tributary/schema"
)

// Rebuilt is what --rebuild deleted before the file was inserted afresh:
// the hand-off of Rebuild to CheckMassDelete.
type Rebuilt struct {
	// Held counts the rows of each table the prefix held (and Rebuild
	// deleted).
	Held    map[string]int64
	Deleted plan.Counts
}

// Rebuild deletes every row of the prefix and its whole mapping, before a
// full file is inserted afresh (--rebuild).
func (t Target) Rebuild(ctx context.Context) (*Rebuilt, error) {
	d := t.deleter(nil)
	held := map[string]int64{}
	for _, tab := range t.Plan.Schema.Tables {
		var n int64
		var err error
		if tab.Mapped {
			n, err = d.allMapped(ctx, tab)
		} else {
			n, err = d.allComposite(ctx, tab)
		}
		if err != nil {
			return nil, err
		}
		held[tab.Name] = n
	}
	if err := d.expand(ctx); err != nil {
		return nil, err
	}
	deleted, err := d.execute(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := t.Store.DeleteAll(ctx); err != nil {
		return nil, err
	}
	return &Rebuilt{Held: held, Deleted: deleted}, nil
}

func (d *deleter) allMapped(ctx context.Context, t *schema.Table) (int64, error) {
	var ids []int64
	err := d.Store.Scan(ctx, t.Name, func(p mapping.Pair) error {
		ids = append(ids, p.Master)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int64(len(ids)), d.addMapped(t.Name, ids, "--rebuild")
}

func (d *deleter) allComposite(ctx context.Context, t *schema.Table) (int64, error) {
	keys, err := d.prefixRows(ctx, t)
	if err != nil {
		return 0, err
	}
	return int64(len(keys)), d.addComposite(t.Name, keys, "--rebuild")
}
