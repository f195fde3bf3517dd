package write

import (
	"context"
	"math"

	"tributary/mapping"
)

// absent marks a child ID known to have no mapping (master IDs are never
// this small).
const absent = math.MinInt64

// defaultCacheLimit bounds the child->master cache; past it the cache
// starts over (look-ups then go to the mapping table again, a range read
// each for a full file's dense IDs). A cached ID costs about 28 bytes
// (measured: Go's maps of int64 pairs), so the cache stays under 30 MB
// however large the file: at 2M IDs it was 57 MB, and a 5M-row import
// peaked at 157 MB.
const defaultCacheLimit = 1_000_000

// IDCache remembers, within one file's transaction, what the mapping table
// says, so that a row referenced by many rows is looked up once and rows
// inserted by this file never need a look-up at all. Every mapping this
// import writes goes through put, so the cache never disagrees with the
// table while the transaction runs.
type IDCache struct {
	store *mapping.Store
	known map[string]map[int64]int64
	// empty: the entity had no mapping when the file started, so anything
	// not in known is absent without asking the database.
	empty map[string]bool
	size  int
	limit int
}

// NewIDCache returns an empty cache of store's mappings, bounded by limit
// IDs (0: the default).
func NewIDCache(store *mapping.Store, limit int) *IDCache {
	if limit <= 0 {
		limit = defaultCacheLimit
	}
	return &IDCache{store: store, limit: limit, known: map[string]map[int64]int64{}, empty: map[string]bool{}}
}

// Get returns the master ID of a child ID already resolved.
func (c *IDCache) Get(entity string, child int64) (int64, bool) {
	m, ok := c.known[entity][child]
	return m, ok && m != absent
}

// Put records a mapping the import has just written.
func (c *IDCache) Put(entity string, child, master int64) {
	m := c.known[entity]
	if m == nil {
		m = map[int64]int64{}
		c.known[entity] = m
	}
	if _, had := m[child]; !had {
		c.size++
	}
	m[child] = master
}

// reset forgets everything, including which entities were empty.
func (c *IDCache) reset() {
	c.known = map[string]map[int64]int64{}
	c.empty = map[string]bool{}
	c.size = 0
}

// Resolve makes sure every child ID asked for is known, asking the mapping
// table once per entity for those that are not.
func (c *IDCache) Resolve(ctx context.Context, need map[string][]int64) error {
	total := 0
	for _, ids := range need {
		total += len(ids)
	}
	if c.size+total > c.limit {
		c.reset()
	}
	for entity, ids := range need {
		if err := c.resolveEntity(ctx, entity, ids); err != nil {
			return err
		}
	}
	return nil
}

func (c *IDCache) resolveEntity(ctx context.Context, entity string, ids []int64) error {
	var missing []int64
	seen := map[int64]bool{}
	for _, id := range ids {
		if _, ok := c.known[entity][id]; !ok && !seen[id] {
			seen[id] = true
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	isEmpty, checked := c.empty[entity]
	if !checked {
		has, err := c.store.Any(ctx, entity)
		if err != nil {
			return err
		}
		isEmpty = !has
		c.empty[entity] = isEmpty
	}
	found := map[int64]int64{}
	if !isEmpty {
		var err error
		if found, err = c.store.Lookup(ctx, entity, missing); err != nil {
			return err
		}
	}
	for _, id := range missing {
		if m, ok := found[id]; ok {
			c.Put(entity, id, m)
		} else {
			c.Put(entity, id, absent)
		}
	}
	return nil
}
