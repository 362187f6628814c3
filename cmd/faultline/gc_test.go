package main

import "testing"

// The ballast raises the collector's goal unless the user chose a policy.
func TestGCFloorYieldsToTheUser(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	if b := gcFloor(); len(b) != gcFloorBytes {
		t.Fatalf("no GOGC or GOMEMLIMIT: ballast of %d bytes, want %d", len(b), gcFloorBytes)
	}
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "200")
			if b := gcFloor(); b != nil {
				t.Fatalf("%s set: got a ballast of %d bytes, want none", env, len(b))
			}
		})
	}
}
