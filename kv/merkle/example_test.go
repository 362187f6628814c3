package merkle_test

import (
	"fmt"

	"github.com/faultline-sim/faultline/kv/merkle"
)

// Two replicas of the whole ring differ in two keys; one exchange finds
// both. A kv node would carry each Request and Response in its own network
// messages, answer requests with Forest.Respond, and repair the Diffs by
// its conflict-resolution mode.
func Example() {
	cfg := merkle.Config{Depth: 3, Fanout: 16}
	whole := merkle.Range{} // Start == End: the whole ring
	a, _ := merkle.New(cfg, whole)
	b, _ := merkle.New(cfg, whole)
	for i := range 1000 {
		k := fmt.Sprintf("key-%d", i)
		_ = a.Set(k, uint64(i)) // on every write: key -> version fingerprint
		_ = b.Set(k, uint64(i))
	}
	_ = b.Set("key-7", 99) // b holds a different version
	a.Delete("key-500")    // a lacks a key

	s := merkle.NewSession(a, 1)
	q := s.Start()
	for {
		p, err := b.Respond(q) // on the peer
		if err != nil {
			fmt.Println("refused:", err)
		}
		next, more, err := s.Step(p)
		if err != nil || !more {
			break
		}
		q = next
	}
	for _, d := range s.Diffs() {
		fmt.Printf("%s local=%d(%v) remote=%d(%v)\n", d.Key, d.Local, d.HasLocal, d.Remote, d.HasRemote)
	}
	fmt.Println("messages:", s.Stats().Messages)
	// Output:
	// key-500 local=0(false) remote=500(true)
	// key-7 local=7(true) remote=99(true)
	// messages: 8
}
