package history

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readBoth reads in with ReadHistory then Pair, and with ReadPaired.
func readBoth(t *testing.T, in string) (want *Parsed, wantOps []Op, got *Parsed, gotOps []Op, events int) {
	t.Helper()
	want, err := ReadHistory(strings.NewReader(in))
	require.NoError(t, err)
	wantOps, err = Pair(want.Events)
	require.NoError(t, err)
	got, gotOps, events, err = ReadPaired(strings.NewReader(in))
	require.NoError(t, err)
	return want, wantOps, got, gotOps, events
}

func TestReadPairedMatchesReadThenPair(t *testing.T) {
	var jsonl bytes.Buffer
	require.NoError(t, WriteJSONL(&jsonl, []Event{
		{Index: 0, Type: Invoke, Client: 1, Kind: Write, Key: "k", Value: "a", Time: 1},
		{Index: 1, Type: Invoke, Client: 2, Kind: Read, Key: "k", Time: 2},
		{Index: 2, Type: OK, Client: 1, Kind: Write, Key: "k", Time: 3},
		{Index: 3, Type: OK, Client: 2, Kind: Read, Key: "k", Values: []string{"a"}, Time: 4},
		{Index: 4, Type: Invoke, Client: 1, Kind: Write, Key: "k", Value: "b", Time: 5},
	}))
	for name, in := range map[string]string{
		"jsonl":       jsonl.String(),
		"edn":         knossosStyle,
		"edn tuples":  "[0 :invoke :write 1]\n[0 :ok :write 1]\n[1 :invoke :read nil]\n[1 :ok :read 1]\n",
		"jepsen.log":  jepsenLog,
		"blank lines": "\n\n" + jsonl.String() + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			want, wantOps, got, gotOps, events := readBoth(t, in)
			assert.Equal(t, len(want.Events), events)
			assert.Equal(t, wantOps, gotOps)
			assert.Nil(t, got.Events, "ReadPaired keeps operations, not events")
			want.Events = nil
			assert.Equal(t, want, got)
		})
	}
}

func TestReadPairedErrors(t *testing.T) {
	unpaired := `{"index":0,"type":"ok","client":1,"kind":"write","key":"k","time":1,"node":0}` + "\n"
	garbage := "{\"index\":1,\"type\":\"invoke\",\"client\":1,\"kind\":\"wrote\",\"key\":\"k\",\"time\":2,\"node\":0}\n"

	// A completion without an invocation reads but does not pair.
	_, _, events, err := ReadPaired(strings.NewReader(unpaired))
	var pe *PairError
	require.True(t, errors.As(err, &pe), "%v", err)
	assert.Equal(t, 1, events)
	_, want := Pair([]Event{{Index: 0, Type: OK, Client: 1, Kind: Write, Key: "k", Time: 1}})
	assert.EqualError(t, pe.Err, want.Error(), "Pair's own error")

	// A later line that does not read wins over the earlier pairing error,
	// as when the whole file is read before it is paired.
	_, _, _, err = ReadPaired(strings.NewReader(unpaired + garbage))
	require.Error(t, err)
	assert.False(t, errors.As(err, &pe), "a read error, not a pairing error: %v", err)
	_, rerr := ReadHistory(strings.NewReader(unpaired + garbage))
	assert.EqualError(t, err, rerr.Error())

	// EDN goes through ReadHistory and Pair.
	_, _, _, err = ReadPaired(strings.NewReader("[0 :ok :write 1]\n"))
	require.True(t, errors.As(err, &pe), "%v", err)
}
