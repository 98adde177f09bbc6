package replicas

import (
	"bufio"
	"encoding/json"
	"strings"
	"time"
)

// Record is one line of a replica's JSON log (--log-format json), with the
// attributes the harnesses read.
type Record struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	Msg     string    `json:"msg"`
	Repo    string    `json:"repo"`
	PR      int       `json:"pr"`
	Reason  string    `json:"reason"`
	HeadSHA string    `json:"head_sha"`
	// Duration is an "evaluated" or "work done" record's duration.
	Duration time.Duration `json:"duration"`
}

// ParseRecord parses one log line; ok is false for a line that is not a
// JSON record.
func ParseRecord(line []byte) (r Record, ok bool) {
	if json.Unmarshal(line, &r) != nil || r.Msg == "" {
		return Record{}, false
	}
	return r, true
}

// Records parses every JSON record of a replica's log text.
func Records(text string) []Record {
	var out []Record
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if r, ok := ParseRecord(sc.Bytes()); ok {
			out = append(out, r)
		}
	}
	return out
}
