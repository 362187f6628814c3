package workloads

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/faultline-sim/faultline/history"
	"github.com/faultline-sim/faultline/sim"
)

// MaxClientsPerKey is the most clients the register workload lets operate
// on one key, so that checking linearizability per key stays tractable.
const MaxClientsPerKey = 10

// Config configures a workload. Fields a workload does not use must be zero.
type Config struct {
	// Clients is the number of closed-loop clients (>= 1).
	Clients int
	// Keys is the number of keys (>= 1); for set, the number of set keys
	// (clients are spread over them round-robin).
	Keys int
	// ReadRatio is the fraction of operations that are reads, in [0,1].
	ReadRatio float64
	// DeleteRatio is the fraction of operations that are deletes, in [0,1]
	// with ReadRatio+DeleteRatio <= 1 (register and kv; register's default
	// is 0, no deletes). The set workload never deletes.
	DeleteRatio float64
	// Ops is the total number of operations over all clients; 0 means no
	// total limit (then OpsPerClient must be set).
	Ops int
	// OpsPerClient is the number of operations per client; 0 means no
	// per-client limit (then Ops must be set).
	OpsPerClient int
	// Think is each client's think time before each operation; build it
	// with sim.Constant, sim.Uniform or sim.Exponential.
	Think sim.Dist
}

// Names lists the workloads New knows, sorted.
func Names() []string { return []string{"kv", "register", "set"} }

// New builds the workload called name ("register", "set" or "kv").
func New(name string, cfg Config, rng *sim.RNG) (Workload, error) {
	switch name {
	case "register":
		return NewRegister(cfg, rng)
	case "set":
		return NewSet(cfg, rng)
	case "kv":
		return NewKV(cfg, rng)
	}
	return nil, fmt.Errorf("unknown workload %q (want register, set or kv)", name)
}

// validate checks the fields every workload shares.
func (c Config) validate(name string) error {
	if c.Clients < 1 {
		return fmt.Errorf("%s workload: %d clients (need at least 1)", name, c.Clients)
	}
	if c.Keys < 1 {
		return fmt.Errorf("%s workload: %d keys (need at least 1)", name, c.Keys)
	}
	if math.IsNaN(c.ReadRatio) || c.ReadRatio < 0 || c.ReadRatio > 1 {
		return fmt.Errorf("%s workload: read ratio %v must lie in [0,1]", name, c.ReadRatio)
	}
	if math.IsNaN(c.DeleteRatio) || c.DeleteRatio < 0 || c.DeleteRatio > 1 {
		return fmt.Errorf("%s workload: delete ratio %v must lie in [0,1]", name, c.DeleteRatio)
	}
	if c.ReadRatio+c.DeleteRatio > 1 {
		return fmt.Errorf("%s workload: read ratio %v + delete ratio %v exceed 1", name, c.ReadRatio, c.DeleteRatio)
	}
	if c.Ops < 0 || c.OpsPerClient < 0 {
		return fmt.Errorf("%s workload: operation limits must be >= 0 (ops %d, ops per client %d)", name, c.Ops, c.OpsPerClient)
	}
	if c.Ops == 0 && c.OpsPerClient == 0 {
		return fmt.Errorf("%s workload: no operation limit (set ops, or ops per client, or both)", name)
	}
	if err := c.Think.Validate(); err != nil {
		return fmt.Errorf("%s workload: think time: %w", name, err)
	}
	return nil
}

// keyState is what a client last learnt about one key: the causal context
// to write with, and the values that context had seen.
type keyState struct {
	ctx  []byte
	seen []string // never modified once set: the ops of the key share it
}

// client is one closed-loop client's state.
type client struct {
	rng    *sim.RNG
	issued int
	seq    int              // values written so far (makes values unique)
	keys   []int            // indices of the keys the client may use
	state  map[int]keyState // per key index; looked up only, never iterated
	op     Op               // the op Next hands out, reused for the client's next one
}

// reuse returns the client's op, cleared for its next operation: a
// closed-loop client has one op at a time, so Next hands out the same Op
// again once the last one is done.
func (cl *client) reuse() *Op {
	cl.op = Op{}
	return &cl.op
}

// engine is what the three workloads share: config, keys, clients, budgets.
type engine struct {
	name    string
	cfg     Config
	keys    []string
	keyIdx  map[string]int // looked up only
	written []bool
	clients []client
	issued  int
	set     bool
}

func newEngine(name, prefix string, cfg Config, rng *sim.RNG) (*engine, error) {
	if rng == nil {
		return nil, fmt.Errorf("%s workload: needs an rng", name)
	}
	e := &engine{name: name, cfg: cfg, keyIdx: make(map[string]int, cfg.Keys), written: make([]bool, cfg.Keys)}
	width := len(strconv.Itoa(cfg.Keys - 1))
	e.keys = make([]string, cfg.Keys)
	for i := range e.keys {
		e.keys[i] = fmt.Sprintf("%s%0*d", prefix, width, i)
		e.keyIdx[e.keys[i]] = i
	}
	e.clients = make([]client, cfg.Clients)
	for i := range e.clients {
		e.clients[i] = client{rng: rng.Fork("client/" + strconv.Itoa(i)), state: map[int]keyState{}}
	}
	return e, nil
}

// Name returns the workload's name.
func (e *engine) Name() string { return e.name }

// Clients returns the number of clients.
func (e *engine) Clients() int { return len(e.clients) }

// WrittenKeys lists the keys some invoked write, delete or add may have
// changed, sorted.
func (e *engine) WrittenKeys() []string {
	var out []string
	for i, w := range e.written {
		if w {
			out = append(out, e.keys[i])
		}
	}
	sort.Strings(out)
	return out
}

// Keys lists every key the workload may use, sorted.
func (e *engine) Keys() []string {
	out := append([]string(nil), e.keys...)
	sort.Strings(out)
	return out
}

// FinalRead builds the settle-phase read of key for client id c.
func (e *engine) FinalRead(c int, key string) (*Op, error) {
	if c < 0 {
		return nil, fmt.Errorf("%s workload: final read for negative client %d", e.name, c)
	}
	if _, ok := e.keyIdx[key]; !ok {
		return nil, fmt.Errorf("%s workload: final read of %q, which is not one of its keys", e.name, key)
	}
	prog := progRead
	if e.set {
		prog = progSetRead
	}
	return &Op{
		inv:   history.Event{Client: c, Kind: history.Read, Key: key, Final: true},
		prog:  prog,
		first: Request{Method: Get, Key: key},
	}, nil
}

// begin checks the client and budgets and returns the client, counting
// the op against the budgets.
func (e *engine) begin(c int) (*client, error) {
	if c < 0 || c >= len(e.clients) {
		return nil, fmt.Errorf("%s workload: client %d out of range [0, %d)", e.name, c, len(e.clients))
	}
	cl := &e.clients[c]
	if e.cfg.OpsPerClient > 0 && cl.issued >= e.cfg.OpsPerClient {
		return nil, ErrDone
	}
	if e.cfg.Ops > 0 && e.issued >= e.cfg.Ops {
		return nil, ErrDone
	}
	cl.issued++
	e.issued++
	return cl, nil
}

// value returns the client's next unique value: "c<client>-<seq>".
func (cl *client) value(c int) string {
	cl.seq++
	var buf [40]byte // "c", two ints and "-": built on the stack, one allocation for the string
	b := append(buf[:0], 'c')
	b = strconv.AppendInt(b, int64(c), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(cl.seq), 10)
	return string(b)
}

// nextRegister draws a read, write or delete on one of the client's keys.
func (e *engine) nextRegister(c int) (*Op, error) {
	cl, err := e.begin(c)
	if err != nil {
		return nil, err
	}
	delay := e.cfg.Think.Sample(cl.rng)
	k := cl.keys[cl.rng.IntN(len(cl.keys))]
	key := e.keys[k]
	u := cl.rng.Float64()
	st := cl.state[k]
	op := cl.reuse()
	op.Delay, op.cl, op.k = delay, cl, k
	switch {
	case u < e.cfg.ReadRatio:
		op.prog = progRead
		op.inv = history.Event{Client: c, Kind: history.Read, Key: key}
		op.first = Request{Method: Get, Key: key}
	case u < e.cfg.ReadRatio+e.cfg.DeleteRatio:
		e.written[k] = true
		op.prog = progDelete
		op.seen = st.seen // never modified: shared with the ops and their events
		op.inv = history.Event{Client: c, Kind: history.Delete, Key: key, Context: st.seen}
		op.first = Request{Method: Delete, Key: key, Context: cloneBytes(st.ctx)}
	default:
		e.written[k] = true
		v := cl.value(c)
		op.prog = progWrite
		op.seen = st.seen // never modified: shared with the ops and their events
		op.inv = history.Event{Client: c, Kind: history.Write, Key: key, Value: v, Context: st.seen}
		op.first = Request{Method: Put, Key: key, Value: []byte(v), Context: cloneBytes(st.ctx)}
	}
	return op, nil
}

// Register is the register workload: reads and writes (and optional
// deletes) of single keys with unique written values, each key used by at
// most MaxClientsPerKey clients. Clients are split into
// ceil(Clients/MaxClientsPerKey) groups, and the keys into as many; a
// client uses only its group's keys.
type Register struct{ *engine }

// NewRegister builds a register workload.
func NewRegister(cfg Config, rng *sim.RNG) (*Register, error) {
	if err := cfg.validate("register"); err != nil {
		return nil, err
	}
	groups := (cfg.Clients + MaxClientsPerKey - 1) / MaxClientsPerKey
	if cfg.Keys < groups {
		return nil, fmt.Errorf("register workload: %d clients need at least %d keys (at most %d clients per key keep linearizability checkable); got %d keys",
			cfg.Clients, groups, MaxClientsPerKey, cfg.Keys)
	}
	e, err := newEngine("register", "k", cfg, rng)
	if err != nil {
		return nil, err
	}
	for c := range e.clients {
		for k := c % groups; k < cfg.Keys; k += groups {
			e.clients[c].keys = append(e.clients[c].keys, k)
		}
	}
	return &Register{e}, nil
}

// Next returns client's next operation (see Workload).
func (w *Register) Next(client int) (*Op, error) { return w.nextRegister(client) }

// ClientsOfKey returns the clients that may operate on key, sorted.
func (w *Register) ClientsOfKey(key string) []int {
	k, ok := w.keyIdx[key]
	if !ok {
		return nil
	}
	var out []int
	for c := range w.clients {
		for _, x := range w.clients[c].keys {
			if x == k {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// KV is the kv workload: gets, puts with unique values and deletes on many
// keys, every client on every key.
type KV struct{ *engine }

// NewKV builds a kv workload.
func NewKV(cfg Config, rng *sim.RNG) (*KV, error) {
	if err := cfg.validate("kv"); err != nil {
		return nil, err
	}
	e, err := newEngine("kv", "k", cfg, rng)
	if err != nil {
		return nil, err
	}
	all := make([]int, cfg.Keys)
	for i := range all {
		all[i] = i
	}
	for c := range e.clients {
		e.clients[c].keys = all
	}
	return &KV{e}, nil
}

// Next returns client's next operation (see Workload).
func (w *KV) Next(client int) (*Op, error) { return w.nextRegister(client) }

// Set is Jepsen's Riak set workload: each client adds unique elements to
// the set stored under its key (client c uses set key c mod Keys) by
// read-modify-write: Get, union the siblings, add the element, Put the
// canonical encoding (EncodeSet) with the Get's context. With ReadRatio,
// some operations read the set instead.
type Set struct{ *engine }

// NewSet builds a set workload.
func NewSet(cfg Config, rng *sim.RNG) (*Set, error) {
	if err := cfg.validate("set"); err != nil {
		return nil, err
	}
	if cfg.DeleteRatio != 0 {
		return nil, errors.New("set workload: the set workload only adds elements (delete ratio must be 0)")
	}
	e, err := newEngine("set", "set", cfg, rng)
	if err != nil {
		return nil, err
	}
	e.set = true
	for c := range e.clients {
		e.clients[c].keys = []int{c % cfg.Keys}
	}
	return &Set{e}, nil
}

// Next returns client's next operation (see Workload): an add of a new
// unique element, or with probability ReadRatio a read of the set.
func (w *Set) Next(c int) (*Op, error) {
	cl, err := w.begin(c)
	if err != nil {
		return nil, err
	}
	delay := w.cfg.Think.Sample(cl.rng)
	k := cl.keys[0]
	key := w.keys[k]
	op := cl.reuse()
	op.Delay, op.first = delay, Request{Method: Get, Key: key}
	if w.cfg.ReadRatio > 0 && cl.rng.Float64() < w.cfg.ReadRatio {
		op.prog = progSetRead
		op.inv = history.Event{Client: c, Kind: history.Read, Key: key}
		return op, nil
	}
	w.written[k] = true
	el := cl.value(c)
	op.prog, op.element = progSetAdd, el
	op.inv = history.Event{Client: c, Kind: history.Add, Key: key, Value: el}
	return op, nil
}

// ClientsOfKey returns the clients adding to the set key, sorted.
func (w *Set) ClientsOfKey(key string) []int {
	k, ok := w.keyIdx[key]
	if !ok {
		return nil
	}
	var out []int
	for c := range w.clients {
		if w.clients[c].keys[0] == k {
			out = append(out, c)
		}
	}
	return out
}

// The three workloads implement Workload.
var (
	_ Workload = (*Register)(nil)
	_ Workload = (*KV)(nil)
	_ Workload = (*Set)(nil)
)
