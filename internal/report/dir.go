package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/faultline-sim/faultline/history"
)

// File names WriteDir uses.
const (
	FileReport        = "report.html"
	FileHistory       = "history.jsonl"
	FileSchedule      = "schedule.txt"
	FileLinearizable  = "linearizability.html"
	scheduleFileNotes = "# nemesis schedule (one fault per line; nemesis.Parse reads it back)\n"
)

// WriteDir writes r's files into dir (created if missing): history.jsonl
// (if the run produced a history), schedule.txt, linearizability.html (if
// visualization is not empty: porcupine's page for a non-linearizable
// history) and report.html linking to the others. It returns the paths it
// wrote, report.html last.
func WriteDir(dir string, r Run, visualization []byte) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var written []string
	write := func(name string, data []byte) error {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		written = append(written, p)
		return nil
	}
	r.Files = nil
	if r.Result != nil {
		var h bytes.Buffer
		if err := history.WriteJSONL(&h, r.Result.History()); err != nil {
			return written, fmt.Errorf("report: writing the history: %w", err)
		}
		if err := write(FileHistory, h.Bytes()); err != nil {
			return written, err
		}
		r.Files = append(r.Files, FileHistory)
	}
	sched := fmt.Sprintf("# %s seed %d\n%s%s", r.Scenario, r.Seed, scheduleFileNotes, r.Config.Nemesis.String())
	if err := write(FileSchedule, []byte(sched)); err != nil {
		return written, err
	}
	r.Files = append(r.Files, FileSchedule)
	if len(visualization) > 0 {
		if err := write(FileLinearizable, visualization); err != nil {
			return written, err
		}
		r.Files = append(r.Files, FileLinearizable)
	}
	for _, w := range r.Why {
		if err := write(WhyFile(w.Witness), []byte(w.Text)); err != nil {
			return written, err
		}
	}
	var page bytes.Buffer
	if err := HTML(&page, r); err != nil {
		return written, err
	}
	if err := write(FileReport, page.Bytes()); err != nil {
		return written, err
	}
	return written, nil
}
