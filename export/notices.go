package export

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Topics of the warnings that would otherwise come back on every cron
// run, as the state file's Said keys them.
const (
	topicProcess = "no PROCESS privilege"
	topicLeftOut = "rows left out of " // see leftOutTopic
)

// notice records the warning about topic with this content in the next
// state (see remembered) and reports whether to give it: when the previous
// export did not give the same, or with Verbose.
func (e *exporter) notice(topic, content string) bool {
	sum := sha256.Sum256([]byte(content))
	digest := hex.EncodeToString(sum[:])
	e.said[topic] = digest
	return e.opts.Verbose || e.prev == nil || e.prev.Said[topic] != digest
}

// remembered is what the next state keeps of the warnings given: this
// run's, and, after an incremental file, what the previous state kept of
// rows left out (such rows are looked for only in the window, so their
// absence from this file says nothing; a full file looked at every row).
// The PROCESS warning is decided on every run: gone, it is forgotten, and
// given again should it come back.
func (e *exporter) remembered(full bool) map[string]string {
	said := map[string]string{}
	if e.prev != nil && !full {
		for topic, digest := range e.prev.Said {
			if strings.HasPrefix(topic, topicLeftOut) {
				said[topic] = digest
			}
		}
	}
	for topic, digest := range e.said {
		said[topic] = digest
	}
	if len(said) == 0 {
		return nil
	}
	return said
}

// leftOutTopic is the topic of one reason to leave rows of a table out:
// the warning is given again when a reason is new, not when the counts
// move, as they do with every window.
func leftOutTopic(table, reason string) string {
	return topicLeftOut + table + ": " + reason
}
