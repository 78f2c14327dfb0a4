package main

import "testing"

// The runner's generator is the C workloads' (wl_rng_seed, wl_rand, wl_rand_below in
// workloads/include/wl_workload.h): the values below are what the C functions return.
func TestRNGMatchesTheCWorkloads(t *testing.T) {
	var r rng
	r.seed(1, 0)
	for i, want := range []uint64{12966619160104079557, 9600361134598540522, 10590380919521690900} {
		if got := r.next(); got != want {
			t.Fatalf("seed 1 stream 0, draw %d: %d, want %d", i, got, want)
		}
	}
	r.seed(7, 1)
	for i, want := range []uint64{3918, 1374, 3793} {
		if got := r.below(4096); got != want {
			t.Fatalf("seed 7 stream 1, below(4096) draw %d: %d, want %d", i, got, want)
		}
	}
	r.seed(7, 1)
	if got := r.below(248); got != 237 {
		t.Fatalf("seed 7 stream 1, below(248): %d, want 237", got)
	}
}
