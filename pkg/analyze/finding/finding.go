// Package finding defines what package analyze reports about how a route is
// cached: a Finding with an ID, a Severity and a message. It is a leaf, so
// that probe results can carry their findings while package analyze, which
// reads probe results, produces them.
package finding

// Severity of a finding.
type Severity string

// Severities, in increasing order.
const (
	Info  Severity = "info"
	Warn  Severity = "warn"
	Error Severity = "error"
)

// Rank orders severities: info < warn < error. Unknown severities rank 0.
func (s Severity) Rank() int {
	switch s {
	case Info:
		return 1
	case Warn:
		return 2
	case Error:
		return 3
	}
	return 0
}

// Finding is one observation about how a route is cached.
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}
