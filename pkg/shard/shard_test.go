package shard

import (
	"fmt"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Shard
		wantErr bool
	}{
		{in: "1/1", want: Shard{1, 1}},
		{in: "2/4", want: Shard{2, 4}},
		{in: " 4/4 ", want: Shard{4, 4}},
		{in: "0/4", wantErr: true},
		{in: "5/4", wantErr: true},
		{in: "1/0", wantErr: true},
		{in: "1/10001", wantErr: true},
		{in: "a/4", wantErr: true},
		{in: "2", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("Parse(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestFromZeroIndex(t *testing.T) {
	got, err := FromZeroIndex("0", 4)
	if err != nil || got != (Shard{1, 4}) {
		t.Errorf("FromZeroIndex(0, 4) = %v, %v, want 1/4", got, err)
	}
	got, err = FromZeroIndex("3", 4)
	if err != nil || got != (Shard{4, 4}) {
		t.Errorf("FromZeroIndex(3, 4) = %v, %v, want 4/4", got, err)
	}
	if _, err := FromZeroIndex("4", 4); err == nil {
		t.Errorf("FromZeroIndex(4, 4) accepted an index past the last worker")
	}
}

// TestPartition checks the properties a sharded run relies on: every route
// lands in exactly one shard, the same one every time, and shards are
// roughly even.
func TestPartition(t *testing.T) {
	keys := make([]string, 20000)
	for i := range keys {
		keys[i] = fmt.Sprintf("/articles/post-%d?page=%d", i, i%7)
	}
	for _, n := range []int{1, 2, 3, 4, 7, 16} {
		counts := make([]int, n+1)
		for _, k := range keys {
			owners := 0
			for i := 1; i <= n; i++ {
				if (Shard{i, n}).Has(k) {
					owners++
					counts[i]++
				}
			}
			if owners != 1 {
				t.Fatalf("n=%d: %s belongs to %d shards, want exactly 1", n, k, owners)
			}
			if got, again := Of(k, n), Of(k, n); got != again {
				t.Fatalf("n=%d: Of(%s) not stable: %d then %d", n, k, got, again)
			}
		}
		want := len(keys) / n
		for i := 1; i <= n; i++ {
			if d := counts[i] - want; d > want/10 || d < -want/10 {
				t.Errorf("n=%d: shard %d has %d routes, want about %d", n, i, counts[i], want)
			}
		}
	}
}

// TestStableAcrossRuns pins a few assignments so a change of hash, which
// would reshuffle every CI matrix at once, is noticed.
func TestStableAcrossRuns(t *testing.T) {
	tests := []struct {
		key  string
		n    int
		want int
	}{
		{"/", 4, 3},
		{"/", 7, 7},
		{"/dashboard", 4, 3},
		{"/dashboard", 7, 1},
		{"/health", 4, 1},
		{"/account", 4, 2},
		{"/account", 7, 5},
	}
	for _, tt := range tests {
		if got := Of(tt.key, tt.n); got != tt.want {
			t.Errorf("Of(%q, %d) = %d, want %d", tt.key, tt.n, got, tt.want)
		}
	}
}
