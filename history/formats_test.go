package history

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-sim/faultline/sim"
)

// knossosStyle is a whole-file vector of maps spread over lines, with
// comments, as Knossos's data set writes it.
const knossosStyle = `; A register, as Knossos writes it
[{:process 4, :type :invoke, :f :write, :value 2}
 {:process 4, :type :ok,
  :f :write, :value 2}
 ; a comment between operations
 {:process 6, :type :invoke, :f :read, :value nil}
 {:process :nemesis, :type :info, :f :start, :value nil}
 {:process 6, :type :ok, :f :read, :value 2}
 {:process 7, :type :invoke, :f :cas, :value [2 3]}
 {:process 7, :type :fail, :f :cas, :value [2 3]}]
`

func TestReadWholeFileVector(t *testing.T) {
	p, err := ReadHistory(strings.NewReader(knossosStyle))
	require.NoError(t, err)
	assert.Equal(t, FormatEDN, p.Format)
	assert.Equal(t, OrderPosition, p.Order)
	assert.Equal(t, "line 2 has no :time", p.OrderReason)
	require.Len(t, p.Events, 6, "the nemesis operation is not a client event")
	assert.Equal(t, Event{Index: 1, Type: OK, Client: 4, Kind: Write, Time: 1}, p.Events[1])
	assert.Equal(t, []string{"2"}, p.Events[3].Values)
	assert.Equal(t, Event{Index: 4, Type: Invoke, Client: 7, Kind: CAS, Expect: "2", Value: "3", Time: 4}, p.Events[4])
	require.Len(t, p.Nemesis, 1)
	assert.Equal(t, NemesisEvent{Line: 7, Process: "nemesis", Type: Info, F: "start", Time: 3, After: 3}, p.Nemesis[0])

	// A list works the same.
	i := strings.Index(knossosStyle, "[")
	j := strings.LastIndex(knossosStyle, "]")
	list := knossosStyle[:i] + "(" + knossosStyle[i+1:j] + ")\n"
	q, err := ReadHistory(strings.NewReader(list))
	require.NoError(t, err)
	assert.Equal(t, p.Events, q.Events)
}

func TestReadTuples(t *testing.T) {
	in := "[0 :invoke :write 1]\n[0 :ok :write 1]\n[1 :invoke :read nil]\n[1 :ok :read 1]\n"
	p, err := ReadHistory(strings.NewReader(in))
	require.NoError(t, err)
	require.Len(t, p.Events, 4)
	assert.Equal(t, Event{Index: 3, Type: OK, Client: 1, Kind: Read, Values: []string{"1"}, Time: 3}, p.Events[3])
	// inside a whole-file vector too
	p2, err := ReadHistory(strings.NewReader("[" + in + "]"))
	require.NoError(t, err)
	assert.Equal(t, p.Events, p2.Events)
}

func TestReadOrderByTime(t *testing.T) {
	in := `{:process 0, :type :invoke, :f :write, :value 1, :time 10}
{:process 0, :type :ok, :f :write, :value 1, :time 20}`
	p, err := ReadHistory(strings.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, OrderTime, p.Order)
	assert.Equal(t, sim.Time(20), p.Events[1].Time)

	// Time running backwards by a little (as real Jepsen histories do
	// across processes): order by position, and say why.
	back := `{:process 0, :type :invoke, :f :write, :value 1, :time 100}
{:process 1, :type :invoke, :f :read, :value nil, :time 70}`
	p, err = ReadHistory(strings.NewReader(back))
	require.NoError(t, err)
	assert.Equal(t, OrderPosition, p.Order)
	assert.Equal(t, ":time runs backwards at line 2 (by 30ns)", p.OrderReason)
	assert.Equal(t, sim.Time(1), p.Events[1].Time)
}

func TestReadIndependentKeys(t *testing.T) {
	in := `{:process 0, :type :invoke, :f :write, :value [:x 1]}
{:process 0, :type :ok, :f :write, :value [:x 1]}
{:process 1, :type :invoke, :f :cas, :value ["y" [1 2]]}
{:process 1, :type :fail, :f :cas, :value ["y" [1 2]]}
{:process 2, :type :invoke, :f :read, :value [:x nil]}
{:process 2, :type :ok, :f :read, :value [:x 1]}`
	p, err := ReadHistory(strings.NewReader(in))
	require.NoError(t, err)
	assert.True(t, p.Independent)
	assert.Equal(t, "x", p.Events[0].Key)
	assert.Equal(t, "1", p.Events[0].Value)
	assert.Equal(t, Event{Index: 2, Type: Invoke, Client: 1, Kind: CAS, Key: "y", Expect: "1", Value: "2", Time: 2}, p.Events[2])
	assert.Equal(t, []string{"1"}, p.Events[5].Values)

	// A plain cas history is not mistaken for independent keys.
	plain := "{:process 0, :type :invoke, :f :cas, :value [1 2]}\n{:process 0, :type :ok, :f :cas, :value [1 2]}"
	p, err = ReadHistory(strings.NewReader(plain))
	require.NoError(t, err)
	assert.False(t, p.Independent)
	assert.Equal(t, "", p.Events[0].Key)
}

const jepsenLog = `2016-01-01 12:00:00,000{GMT}	INFO	[jepsen worker 0] jepsen.core - Running test
INFO  jepsen.util - 0	:invoke	:read	nil
INFO  jepsen.util - 3	:invoke	:write	4
INFO  jepsen.util - 2 :invoke :cas [3 0]
INFO  jepsen.util - 0	:ok	:read	nil
INFO  jepsen.util - :nemesis	:info	:start	nil
INFO  jepsen.util - 3	:info	:write	4	:timed-out
INFO  jepsen.util - 2	:fail	:cas	[3 0]
INFO  jepsen.util - some other message
`

func TestReadJepsenLog(t *testing.T) {
	p, err := ReadHistory(strings.NewReader(jepsenLog))
	require.NoError(t, err)
	assert.Equal(t, FormatJepsenLog, p.Format)
	assert.Equal(t, OrderPosition, p.Order)
	require.Len(t, p.Events, 6)
	assert.Equal(t, Event{Index: 0, Type: Invoke, Client: 0, Kind: Read}, p.Events[0])
	assert.Equal(t, Event{Index: 2, Type: Invoke, Client: 2, Kind: CAS, Expect: "3", Value: "0", Time: 2}, p.Events[2])
	assert.True(t, p.Events[3].NotFound)
	assert.Equal(t, ":timed-out", p.Events[4].Err)
	require.Len(t, p.Nemesis, 1)
	assert.Equal(t, 6, p.Nemesis[0].Line)

	_, err = ReadHistory(strings.NewReader("INFO  jepsen.util - 0\t:invoke\t:write\t[1\n"))
	require.ErrorContains(t, err, "history: line 1, column")
	_, err = ReadHistory(strings.NewReader("INFO  jepsen.util - 0\t:invoke\t:incr\t1\n"))
	require.ErrorContains(t, err, "line 1: :f :incr not supported")
	_, err = ReadHistory(strings.NewReader("INFO  jepsen.util - 0 :invoke :write \"" + strings.Repeat("x", MaxLineBytes) + "\"\n"))
	require.ErrorContains(t, err, "line 1: longer than")
}

// TestLineLimitEverywhere: an overlong first line is refused without
// being read whole, in every format.
func TestLineLimitEverywhere(t *testing.T) {
	long := strings.Repeat("x", 3*MaxLineBytes)
	for name, in := range map[string]string{
		"jsonl": `{"index":0,"type":"invoke","kind":"write","value":"` + long + "\"}\n",
		"edn":   `{:process 0, :type :invoke, :f :write, :value "` + long + "\"}\n",
		"log":   "INFO  jepsen.util - 0 :invoke :write \"" + long + "\"\n",
		"blank": strings.Repeat(" ", 3*MaxLineBytes),
	} {
		_, err := ReadHistory(strings.NewReader(in))
		require.Error(t, err, name)
		assert.Regexp(t, `longer than|blank`, err.Error(), name)
	}
}

func TestJSONLRefusesInvalidUTF8(t *testing.T) {
	in := "{\"index\":0,\"type\":\"invoke\",\"kind\":\"write\",\"key\":\"k\xff\",\"value\":\"v\"}\n"
	_, err := ReadJSONL(strings.NewReader(in))
	require.ErrorContains(t, err, "line 1: not valid UTF-8")
}

func TestReadNewerJepsenLog(t *testing.T) {
	in := "2022-07-28 07:53:02,853{GMT}\tINFO\t[jepsen worker nemesis] jepsen.util: [ 1345013587 ] :nemesis\t:info\t:add-server\t\"n5\"\n" +
		"2022-07-28 07:53:02,859{GMT}\tINFO\t[jepsen worker 2] jepsen.util: [ 1350999542 ] 2\t:invoke\t:read\tnil\n" +
		"2022-07-28 07:53:03,104{GMT}\tINFO\t[jepsen worker 2] jepsen.util: [ 1595250501 ] 2\t:fail\t:read\tnil\t:not-leader\n"
	p, err := ReadHistory(strings.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, FormatJepsenLog, p.Format)
	assert.Equal(t, OrderTime, p.Order)
	require.Len(t, p.Events, 2)
	assert.Equal(t, Event{Index: 1, Type: Fail, Client: 2, Kind: Read, Time: 1595250501, Err: ":not-leader"}, p.Events[1])
	require.Len(t, p.Nemesis, 1)
	assert.Equal(t, sim.Time(1345013587), p.Nemesis[0].Time)
}

// FuzzReadHistory checks that no input makes format detection or any
// reader panic, and that every error names a line.
func FuzzReadHistory(f *testing.F) {
	f.Add(jepsenLog)
	f.Add(knossosStyle)
	f.Add("[0 :invoke :write 1]\n[0 :ok :write 1]")
	f.Add(`{"index":0,"type":"invoke","client":0,"kind":"read","key":"k","time":1,"node":0}`)
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ReadHistory(strings.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "history: line ") && !strings.Contains(err.Error(), "blank") {
				t.Fatalf("error without a line number: %v", err)
			}
			return
		}
		_, _ = Pair(p.Events)
	})
}

func TestEDNRefusesInvalidUTF8(t *testing.T) {
	for _, in := range []string{
		"{:process 0, :type :invoke, :f :write, :key :k\xff, :value 1}",
		"{:process 0, :type :invoke, :f :write, :key \"k\xff\", :value 1}",
		"INFO  jepsen.util - 0\t:invoke\t:write\t\xff",
	} {
		_, err := ReadHistory(strings.NewReader(in))
		require.Error(t, err, "%q", in)
		assert.Contains(t, err.Error(), "not valid UTF-8", "%q", in)
		assert.Contains(t, err.Error(), "line 1", "%q", in)
	}
}
