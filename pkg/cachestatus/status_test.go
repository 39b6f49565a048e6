package cachestatus

import (
	"slices"
	"testing"
)

func TestFromCache(t *testing.T) {
	want := map[Status]bool{
		HIT: true, STALE: true, UPDATING: true, REVALIDATED: true,
		MISS: false, EXPIRED: false, BYPASS: false, DYNAMIC: false, UNKNOWN: false,
	}
	for _, s := range All() {
		if got := s.FromCache(); got != want[s] {
			t.Errorf("%s.FromCache() = %v, want %v", s, got, want[s])
		}
	}
	if Status("hit").FromCache() {
		t.Errorf(`Status("hit").FromCache() = true, want false for a non-normalized value`)
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		in     string
		want   Status
		wantOK bool
	}{
		{"HIT", HIT, true},
		{"hit", HIT, true},
		{" Revalidated ", REVALIDATED, true},
		{"dynamic", DYNAMIC, true},
		{"unknown", UNKNOWN, true},
		{"TCP_HIT", "", false},
		{"PASS", "", false},
		{"", "", false},
		{"HITS", "", false},
	}
	for _, tc := range tests {
		got, ok := ParseStatus(tc.in)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("ParseStatus(%q) = %q, %v, want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestAll(t *testing.T) {
	got := All()
	want := []Status{HIT, MISS, EXPIRED, STALE, UPDATING, REVALIDATED, BYPASS, DYNAMIC, UNKNOWN}
	if !slices.Equal(got, want) {
		t.Errorf("All() = %v, want %v", got, want)
	}
	for _, s := range got {
		if !s.Valid() {
			t.Errorf("%s.Valid() = false, want true", s)
		}
		if p, ok := ParseStatus(string(s)); !ok || p != s {
			t.Errorf("ParseStatus(%q) = %q, %v, want %q, true", s, p, ok, s)
		}
	}
	got[0] = "changed"
	if All()[0] != HIT {
		t.Errorf("All() shares its slice with the caller")
	}
	if Status("PASS").Valid() {
		t.Errorf(`Status("PASS").Valid() = true, want false`)
	}
}
