package mapping

import (
	"context"
	"errors"
	"testing"
	"time"

	"tributary/internal/dbtest"
)

// The lease's rules, on a single server (on a cluster, the certification
// of the lease row adds that two nodes taking it at once cannot both win).
func TestLease(t *testing.T) {
	ctx := context.Background()
	db, _ := dbtest.NewDatabase(t)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := EnsureLeases(ctx, conn); err != nil {
		t.Fatal(err)
	}
	take := func(holder string, term time.Duration) (bool, Lease) {
		t.Helper()
		ok, cur, err := TakeLease(ctx, conn, "nyc", holder, term)
		if err != nil {
			t.Fatal(err)
		}
		return ok, cur
	}
	if ok, _ := take("a", time.Minute); !ok {
		t.Fatal("a free prefix was not leased")
	}
	if ok, cur := take("b", time.Minute); ok || cur.Holder != "a" || !cur.Alive {
		t.Fatalf("b took a's live lease (%v, %+v)", ok, cur)
	}
	if ok, _ := take("a", time.Minute); !ok {
		t.Error("a could not take its own lease again")
	}
	if ok, _, err := TakeLease(ctx, conn, "sf", "b", time.Minute); err != nil || !ok {
		t.Error("another prefix's lease was refused")
	}
	if held, err := RenewLease(ctx, db, "nyc", "a", time.Millisecond); err != nil || !held {
		t.Fatalf("renewal: %v, %v", held, err)
	}
	time.Sleep(20 * time.Millisecond)
	if ok, cur := take("b", time.Minute); !ok {
		t.Fatalf("an expired lease was not taken over (%+v)", cur)
	}
	if err := HoldLease(ctx, db, "nyc", "a", time.Minute); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("the old holder still holds: %v", err)
	}
	if err := HoldLease(ctx, db, "nyc", "b", time.Minute); err != nil {
		t.Errorf("the new holder: %v", err)
	}
	if err := ReleaseLease(ctx, db, "nyc", "a"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := take("c", time.Minute); ok {
		t.Error("a release by a former holder freed the prefix")
	}
	if err := ReleaseLease(ctx, db, "nyc", "b"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := take("c", time.Minute); !ok {
		t.Error("a released lease was not free")
	}
}
