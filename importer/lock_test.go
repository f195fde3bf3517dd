package importer

import (
	"strings"
	"testing"
)

func TestLockName(t *testing.T) {
	if got := LockName("master", "nyc"); got != "tributary:master:nyc" {
		t.Errorf("LockName = %q", got)
	}
	long := LockName(strings.Repeat("d", 64), "p")
	if len(long) > 64 || !strings.HasPrefix(long, "tributary:") || long == LockName(strings.Repeat("d", 64), "q") {
		t.Errorf("long LockName = %q", long)
	}
}
