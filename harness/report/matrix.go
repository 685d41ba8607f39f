package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Absent is the status of a behaviour an implementation has no result for:
// its driver could not be started (its interpreter is not installed), or its
// run did not select the behaviour.
const Absent = "absent"

// MatrixStatuses are the statuses a matrix cell can have, in report order.
var MatrixStatuses = append(append([]string{}, Statuses...), Absent)

// Matrix is conform matrix's report: every behaviour that any implementation
// ran × every implementation (matrix.json; matrix.html draws it).
type Matrix struct {
	Generated time.Time    `json:"generated"`
	Profile   string       `json:"profile"`
	Filter    string       `json:"label_filter,omitempty"`
	Impls     []MatrixImpl `json:"impls"`
	Rows      []MatrixRow  `json:"behaviours"`
	Differ    int          `json:"differ"` // rows where the implementations' statuses differ
}

// MatrixImpl is one column: an implementation and how its run went.
type MatrixImpl struct {
	Name     string `json:"name"`
	Source   string `json:"source"`           // the implementation directory, as given
	Report   string `json:"report,omitempty"` // its report directory, relative to the matrix
	Version  string `json:"version,omitempty"`
	Language string `json:"language,omitempty"`
	// Absent says why the implementation did not run (its driver is not
	// installed); Error, why its run produced no results. Both leave every
	// cell absent.
	Absent  string         `json:"absent,omitempty"`
	Error   string         `json:"error,omitempty"`
	Seconds float64        `json:"seconds"`
	Totals  map[string]int `json:"totals"`
}

// MatrixRow is one behaviour's results, a cell per implementation.
type MatrixRow struct {
	ID      string       `json:"id"`
	Profile string       `json:"profile"`
	Differs bool         `json:"differs,omitempty"`
	Cells   []MatrixCell `json:"cells"`
}

// MatrixCell is one implementation's result for one behaviour; its links are
// relative to the matrix's directory.
type MatrixCell struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
	Trace   string `json:"trace,omitempty"`
	Vis     string `json:"visualisation,omitempty"`
}

// NewMatrix builds the matrix of impls, whose results are results[i] (nil
// when the implementation is absent or its run failed).
func NewMatrix(profile, filter string, impls []MatrixImpl, results []*Results) *Matrix {
	m := &Matrix{Generated: time.Now().UTC(), Profile: profile, Filter: filter, Impls: impls}
	rows := map[string]*MatrixRow{}
	for i, r := range results {
		if r == nil {
			continue
		}
		if m.Impls[i].Version == "" {
			m.Impls[i].Version, m.Impls[i].Language = r.Impl.Version, r.Impl.Language
		}
		for _, b := range r.Behaviours {
			row := rows[b.ID]
			if row == nil {
				row = &MatrixRow{ID: b.ID, Profile: b.Profile, Cells: make([]MatrixCell, len(impls))}
				for k := range row.Cells {
					row.Cells[k].Status = Absent
				}
				rows[b.ID] = row
			}
			c := MatrixCell{Status: b.Status, Message: firstLine(b.Message)}
			switch {
			case b.Unexpected:
				c.Message = "unexpected pass: recorded as xfail. " + c.Message
			case b.Unrecorded:
				c.Message = "not recorded as flaky. " + c.Message
			}
			link := func(p string) string {
				if p == "" {
					return ""
				}
				return filepath.ToSlash(filepath.Join(impls[i].Report, p))
			}
			c.Trace, c.Vis = link(b.Trace), link(b.Visualisation)
			row.Cells[i] = c
		}
	}
	for _, row := range rows {
		seen := map[string]bool{}
		for i, c := range row.Cells {
			if results[i] != nil {
				seen[c.Status] = true
			}
		}
		// An implementation that did not run at all differs from none: it
		// would mark every row.
		if row.Differs = len(seen) > 1; row.Differs {
			m.Differ++
		}
		m.Rows = append(m.Rows, *row)
	}
	sort.Slice(m.Rows, func(i, j int) bool { return m.Rows[i].ID < m.Rows[j].ID })
	for i := range m.Impls {
		t := map[string]int{}
		for _, s := range MatrixStatuses {
			t[s] = 0
		}
		for _, row := range m.Rows {
			t[row.Cells[i].Status]++
		}
		m.Impls[i].Totals = t
	}
	return m
}

// Write writes dir/matrix.json and dir/matrix.html.
func (m *Matrix) Write(dir string) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "matrix.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	var b bytes.Buffer
	if err := matrixTemplate.Execute(&b, m); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "matrix.html"), b.Bytes(), 0o644)
}
