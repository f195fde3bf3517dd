package exitcode

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil is success", nil, OK},
		{"plain error is a failure", errors.New("boom"), Failure},
		{"typed code survives wrapping", fmt.Errorf("import x: %w", Errorf(Rejected, "bad checksum")), Rejected},
		{"cancelled context is an interruption", fmt.Errorf("export: %w", context.Canceled), Interrupted},
		// A lock error raised while the context was also cancelled keeps its own code.
		{"typed code beats cancellation", Wrap(Locked, fmt.Errorf("busy: %w", context.Canceled)), Locked},
		{"usage", Errorf(Usage, "bad flag"), Usage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Code(tt.err); got != tt.want {
				t.Errorf("Code(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestWrapNil(t *testing.T) {
	if Wrap(Failure, nil) != nil {
		t.Fatal("Wrap(nil) must stay nil")
	}
}
