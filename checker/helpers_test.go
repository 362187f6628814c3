package checker

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/sim"
)

// Compact constructors for hand-written histories. Times are plain
// nanoseconds of virtual time.

func wr(c int, key, v string, call, ret sim.Time) history.Op {
	return history.Op{Client: c, Kind: history.Write, Key: key, Value: v, Outcome: history.OK, Call: call, Return: ret, End: ret}
}

func wrInfo(c int, key, v string, call, end sim.Time) history.Op {
	o := wr(c, key, v, call, end)
	o.Outcome, o.Return = history.Info, sim.Never
	return o
}

func wrFail(c int, key, v string, call, ret sim.Time) history.Op {
	o := wr(c, key, v, call, ret)
	o.Outcome = history.Fail
	return o
}

func ctx(o history.Op, values ...string) history.Op {
	o.Context = values
	return o
}

// rd is an ok read returning values (none: not found).
func rd(c int, key string, call, ret sim.Time, values ...string) history.Op {
	return history.Op{Client: c, Kind: history.Read, Key: key, Values: values, NotFound: len(values) == 0,
		Outcome: history.OK, Call: call, Return: ret, End: ret}
}

// fin is an ok final read.
func fin(c int, key string, call, ret sim.Time, values ...string) history.Op {
	o := rd(c, key, call, ret, values...)
	o.Final = true
	return o
}

// set is an ok final read of a set key (an empty set is not "not found").
func finSet(c int, key string, call, ret sim.Time, elems ...string) history.Op {
	o := fin(c, key, call, ret, elems...)
	o.NotFound = false
	return o
}

func add(c int, key, e string, call, ret sim.Time) history.Op {
	return history.Op{Client: c, Kind: history.Add, Key: key, Value: e, Outcome: history.OK, Call: call, Return: ret, End: ret}
}

func del(c int, key string, call, ret sim.Time) history.Op {
	return history.Op{Client: c, Kind: history.Delete, Key: key, Outcome: history.OK, Call: call, Return: ret, End: ret}
}

func cas(c int, key, from, to string, call, ret sim.Time) history.Op {
	return history.Op{Client: c, Kind: history.CAS, Key: key, Expect: from, Value: to, Outcome: history.OK, Call: call, Return: ret, End: ret}
}

func info(o history.Op) history.Op {
	o.Outcome, o.Return = history.Info, sim.Never
	return o
}

// genConfig shapes a generated linearizable history.
type genConfig struct {
	ops, clients, keys int
	infoWrites         float64 // fraction of writes whose outcome is unknown
	slow               float64 // fraction of operations 30 times slower than usual
	seed               uint64
}

// generate builds a linearizable register history: every operation takes
// effect at a point inside its interval, reads return the state at their
// point, and an info write takes effect (or not, with even odds) but its
// client only learns of a timeout, so it returns at sim.Never. Each key
// ends with an ok final read.
func generate(cfg genConfig) []history.Op {
	rng := rand.New(rand.NewPCG(cfg.seed, 0x5eed))
	type pending struct {
		op     history.Op
		point  sim.Time
		effect bool
	}
	var ps []pending
	free := make([]sim.Time, cfg.clients)
	for i := 0; i < cfg.ops; i++ {
		c := rng.IntN(cfg.clients)
		call := free[c] + sim.Time(rng.IntN(1000))
		lat := sim.Time(100 + rng.IntN(3000))
		if rng.Float64() < cfg.slow {
			lat *= 30
		}
		point := call + sim.Time(rng.Int64N(int64(lat)))
		key := fmt.Sprintf("k%d", rng.IntN(cfg.keys))
		o := history.Op{Client: c, Key: key, Call: call, Return: call + lat, End: call + lat, Outcome: history.OK}
		effect := true
		if rng.IntN(2) == 0 {
			o.Kind = history.Read
		} else {
			o.Kind, o.Value = history.Write, fmt.Sprintf("v%d", i)
			if rng.Float64() < cfg.infoWrites {
				o.Outcome, o.Return = history.Info, sim.Never
				o.End = call + 50000 // the client's timeout
				effect = rng.IntN(2) == 0
				// a timed-out write that took effect may land late (a hint)
				point = call + sim.Time(rng.Int64N(int64(10*lat)))
			}
		}
		free[c] = o.End
		ps = append(ps, pending{op: o, point: point, effect: effect})
	}
	// Apply in linearization order to fill in the reads.
	order := make([]int, len(ps))
	for i := range order {
		order[i] = i
	}
	sortBy(order, func(i int) sim.Time { return ps[i].point })
	state := map[string]string{}
	for _, i := range order {
		p := &ps[i]
		switch {
		case p.op.Kind == history.Write && p.effect:
			state[p.op.Key] = p.op.Value
		case p.op.Kind == history.Read:
			if v, ok := state[p.op.Key]; ok {
				p.op.Values = []string{v}
			} else {
				p.op.NotFound = true
			}
		}
	}
	// History order is invocation order.
	sortBy(order, func(i int) sim.Time { return ps[i].op.Call })
	out := make([]history.Op, 0, len(ps)+cfg.keys)
	var last sim.Time
	for _, i := range order {
		out = append(out, ps[i].op)
		last = max(last, ps[i].op.End)
	}
	for k := 0; k < cfg.keys; k++ {
		key := fmt.Sprintf("k%d", k)
		if v, ok := state[key]; ok {
			out = append(out, fin(k%cfg.clients, key, last+1, last+2, v))
		} else {
			out = append(out, fin(k%cfg.clients, key, last+1, last+2))
		}
	}
	return out
}

// sortBy sorts idx stably by key.
func sortBy(idx []int, key func(int) sim.Time) {
	slices.SortStableFunc(idx, func(a, b int) int { return cmpTime(key(a), key(b)) })
}
